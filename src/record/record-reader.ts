/**
 * The record loop of Kafka's RecordBatch v2: the one place that turns a batch's records section
 * into records. `decodeRecordBatch` and the consumer's hot path both run on it.
 *
 * Each record is handed to a caller's `make` as plain fields, so a caller builds the object it
 * really delivers (one object per record, no intermediate). Keys, values and header values are
 * zero-copy views into the batch (or into its decompressed records section), made with
 * `BufferView`. Nothing here checks the CRC or the batch's framing: callers do that first (or
 * trust bytes that were checked when they were stored).
 */
import { TributaryError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  COMPRESSION_CODEC_MASK,
  MAX_TIMESTAMP_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
} from './batch-header.js';
import { codecById } from './codecs/index.js';
import { readInt64 } from './int64.js';
import type { RecordHeader } from './types.js';
import { ByteReader } from './varint.js';

/** Builds the caller's object for one record; called once per record read. */
export type RecordMaker<T> = (offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[]) => T;

export type BufferViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/**
 * Makes a Buffer viewing part of an ArrayBuffer, without copying: `new BufferView(ab, offset, length)`.
 * Two views per record make this the largest single cost of decoding: `Buffer.from(arrayBuffer,
 * offset, length)` (or `subarray`) validates its arguments and runs at ~40M/s, while Buffer's
 * species constructor (Node's internal FastBuffer, which both end in) runs at ~90M/s, worth
 * ~30 ns a record. The species is checked once, at load, to really make Buffers; if a Node version
 * ever changes that, `Buffer.from` is used.
 */
export const BufferView: BufferViewConstructor = (() => {
  const species = (Buffer as unknown as { [Symbol.species]?: unknown })[Symbol.species];
  if (typeof species === 'function' && species !== Buffer) {
    const Species = species as BufferViewConstructor;
    const probe = new Species(new ArrayBuffer(4), 1, 2);
    if (Buffer.isBuffer(probe) && probe.byteOffset === 1 && probe.length === 2) return Species;
  }
  return function viewByFrom(buffer: ArrayBufferLike, byteOffset: number, length: number): Buffer {
    return Buffer.from(buffer, byteOffset, length);
  } as unknown as BufferViewConstructor;
})();

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/**
 * Appends to `out` the records of the batch at batch[pos, end) whose offset is at least
 * `minOffset` (`-Infinity` for all), each built by `make`; records below it are stepped over
 * without building anything. Every record is read, control records included: skipping control
 * batches is the caller's decision.
 *
 * Returns how many bytes of the records section are left after the batch's last record: 0 for a
 * well-formed batch. Throws INVALID_RECORD when the records section does not decompress or a
 * record is malformed; a negative record count reads no records.
 */
export function readRecords<T>(batch: Buffer, pos: number, end: number, minOffset: number, make: RecordMaker<T>, out: T[]): number {
  const attributes = batch.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const baseOffset = readInt64(batch, pos);
  const count = batch.readInt32BE(pos + RECORD_COUNT_OFFSET);
  // Record timestamps are deltas from the stored baseTimestamp even when KIP-534's delete-horizon
  // flag repurposes that field: Kafka's builder computes the deltas against whatever it stores.
  const baseTimestamp = readInt64(batch, pos + BASE_TIMESTAMP_OFFSET);
  const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const appendTimestamp = logAppendTime ? readInt64(batch, pos + MAX_TIMESTAMP_OFFSET) : 0;

  const codec = codecById(attributes & COMPRESSION_CODEC_MASK);
  let reader: ByteReader;
  if (codec.id === 0) {
    reader = new ByteReader(batch, pos + RECORDS_OFFSET, end);
  } else {
    let plain: Buffer;
    try {
      plain = codec.decompress(batch.subarray(pos + RECORDS_OFFSET, end));
    } catch (cause) {
      throw new TributaryError('INVALID_RECORD', `${codec.name} records section of batch at offset ${baseOffset} does not decompress`, { baseOffset, compression: codec.name }, { cause });
    }
    reader = new ByteReader(plain, 0, plain.length);
  }
  const arrayBuffer = reader.buf.buffer;
  const viewBase = reader.buf.byteOffset;

  for (let i = 0; i < count; i++) {
    const length = reader.readVarint();
    const recordEnd = reader.pos + length;
    if (length < 0 || recordEnd > reader.end) throw reader.truncated();
    reader.pos++; // record attributes: unused in v2
    const timestampDelta = reader.readVarint();
    const offset = baseOffset + reader.readVarint();
    if (offset < minOffset) {
      reader.pos = recordEnd;
      continue;
    }
    // Key and value are stepped over first and viewed once the record has checked out: a length
    // running past the end fails the next varint read, a wrong one the record-length check.
    const keyLength = reader.readVarint();
    const keyAt = reader.pos;
    if (keyLength > 0) reader.pos += keyLength;
    const valueLength = reader.readVarint();
    const valueAt = reader.pos;
    if (valueLength > 0) reader.pos += valueLength;
    const headerCount = reader.readVarint();
    const headers = headerCount === 0 ? NO_HEADERS : readHeaders(reader, headerCount, arrayBuffer, viewBase);
    if (reader.pos !== recordEnd) {
      throw new TributaryError('INVALID_RECORD', `record ${i} of batch at offset ${baseOffset} is ${length} bytes long but its fields take ${reader.pos - recordEnd + length}`, {
        baseOffset,
        record: i,
      });
    }
    const key = keyLength < 0 ? null : new BufferView(arrayBuffer, viewBase + keyAt, keyLength);
    const value = valueLength < 0 ? null : new BufferView(arrayBuffer, viewBase + valueAt, valueLength);
    out.push(make(offset, logAppendTime ? appendTimestamp : baseTimestamp + timestampDelta, key, value, headers));
  }
  return reader.end - reader.pos;
}

function readHeaders(reader: ByteReader, count: number, arrayBuffer: ArrayBufferLike, viewBase: number): readonly RecordHeader[] {
  if (count < 0) throw new TributaryError('INVALID_RECORD', `negative header count ${count} at byte ${reader.pos}`, { position: reader.pos });
  // Every header takes at least two bytes; a larger count is garbage, not an array to allocate.
  if (count > reader.end - reader.pos) throw reader.truncated();
  const headers: RecordHeader[] = new Array(count);
  for (let h = 0; h < count; h++) {
    const keyLength = reader.readVarint();
    if (keyLength < 0) throw new TributaryError('INVALID_RECORD', `null header key at byte ${reader.pos}`, { position: reader.pos });
    if (reader.pos + keyLength > reader.end) throw reader.truncated();
    const key = reader.buf.toString('utf8', reader.pos, reader.pos + keyLength);
    reader.pos += keyLength;
    const valueLength = reader.readVarint();
    let value: Buffer | null = null;
    if (valueLength >= 0) {
      if (reader.pos + valueLength > reader.end) throw reader.truncated();
      value = new BufferView(arrayBuffer, viewBase + reader.pos, valueLength);
      reader.pos += valueLength;
    }
    headers[h] = { key, value };
  }
  return headers;
}
