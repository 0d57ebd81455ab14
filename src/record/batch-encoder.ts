/**
 * Encodes records into one Kafka RecordBatch v2, byte for byte as Kafka's producer does.
 *
 * Sizes are computed first so the batch is written into a single allocation: every record is
 * copied once, varints are written in place, and the CRC32C is taken once over the whole batch.
 * Compressed batches write the records section into a scratch buffer, compress it as one block,
 * and then prepend the header.
 *
 * The producer writes each record with `writeRecord` as it is appended to a batch, into a buffer
 * of its own, and frames the written records with `frameRecordBatch` when the batch is sent.
 */
import { TributaryError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  setBaseOffset,
} from './batch-header.js';
import { codecByName } from './codecs/index.js';
import { crc32c } from './crc32c.js';
import { writeInt64 } from './int64.js';
import type { EncodeOptions, RecordInput } from './types.js';
import { varintSize, writeVarint } from './varint.js';

type Bytes = Buffer | string | null | undefined;

function byteLength(bytes: Bytes): number {
  if (bytes === null || bytes === undefined) return -1;
  return typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
}

function checkRecords(records: readonly RecordInput[]): void {
  if (!Array.isArray(records) || records.length === 0) {
    throw new TributaryError('INVALID_RECORD', 'a record batch needs at least one record', { count: Array.isArray(records) ? 0 : typeof records });
  }
}

/** Varlong deltas are zigzagged (doubled), so a delta must stay below 2^52 to decode exactly. */
const MAX_TIMESTAMP_DELTA = 2 ** 52 - 1;

function checkTimestamp(timestamp: number, index: number, baseTimestamp: number): void {
  if (!Number.isSafeInteger(timestamp)) {
    throw new TributaryError('INVALID_RECORD', `record ${index} has timestamp ${timestamp}; timestamps are integer epoch milliseconds`, { record: index, timestamp });
  }
  if (Math.abs(timestamp - baseTimestamp) > MAX_TIMESTAMP_DELTA) {
    throw new TributaryError('INVALID_RECORD', `record ${index} has timestamp ${timestamp}, more than 2^52 ms from the batch's first (${baseTimestamp})`, { record: index, timestamp });
  }
}

/** Checks that a header field fits its wire width, so a bad option is a typed error, not a RangeError or a silent truncation. */
function checkIntegerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TributaryError('INVALID_RECORD', `${name} must be an integer in [${min}, ${max}]; got ${value}`, { field: name, value });
  }
  return value;
}

const INT16_MAX = 0x7fff;
const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

/**
 * Writes a byte field's bytes (not its length); `length` is their UTF-8 length. A string whose
 * UTF-8 length is its length is ASCII, whose Latin-1 bytes are its UTF-8 bytes: Node writes
 * Latin-1 as a plain copy, 2-3 times faster than it encodes UTF-8 (and JSON values are mostly
 * ASCII). Short keys, bytes or ASCII, are copied by hand, which beats a call into `set` or `write`
 * for a few bytes.
 */
function writeBytes(buf: Buffer, bytes: Bytes, length: number, pos: number): number {
  if (length <= 0) return pos;
  if (typeof bytes === 'string') {
    if (length !== bytes.length) buf.write(bytes, pos, length, 'utf8');
    else if (length <= 16) for (let i = 0; i < length; i++) buf[pos + i] = bytes.charCodeAt(i);
    else buf.write(bytes, pos, length, 'latin1');
  } else if (length <= 16) {
    const src = bytes as Buffer;
    for (let i = 0; i < length; i++) buf[pos + i] = src[i];
  } else {
    buf.set(bytes as Buffer, pos);
  }
  return pos + length;
}

type Headers = RecordInput['headers'];

/**
 * Records as columns, with every size the writer needs already computed: what
 * `encodeRecordBatchSized` takes. A caller that measured its records while gathering them (the
 * producer) hands them over as they are; `encodeRecordBatch` measures its record objects into
 * shared scratch columns, so both paths write through the same code.
 */
export interface SizedRecords {
  /** Number of records; the columns may be longer. */
  readonly count: number;
  readonly keys: readonly Bytes[];
  readonly values: readonly Bytes[];
  /** Each record's headers (undefined or empty for none), or null when no record has any. */
  readonly headers: readonly Headers[] | null;
  /** UTF-8 byte length of each key, -1 for null. */
  readonly keyLengths: readonly number[];
  readonly valueLengths: readonly number[];
  /** Timestamp minus `baseTimestamp`, each below 2^52 in magnitude. */
  readonly timestampDeltas: readonly number[];
  /** Each record's size after its length varint: attributes, deltas, key, value and headers. */
  readonly bodySizes: readonly number[];
  /** Sum over the records of `varintSize(body) + body`. */
  readonly recordsSize: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  /**
   * Each record's offset delta, strictly increasing from >= 0, or absent/null for 0, 1, 2, ... (what
   * every producer writes). Only the log cleaner sets it: a compacted batch keeps its survivors'
   * original offsets, so its deltas have gaps. `bodySizes` must have been measured with these deltas.
   */
  readonly offsetDeltas?: readonly number[] | null;
}

/**
 * `encodeRecordBatch`'s options for rewriting a batch with gaps between its records' offsets (the
 * log cleaner): without them the bytes are exactly what `EncodeOptions` alone gives.
 */
export interface RewriteOptions extends EncodeOptions {
  /** Each record's offset delta from `baseOffset`, strictly increasing from >= 0; default 0, 1, 2, .... */
  readonly offsetDeltas?: readonly number[];
  /**
   * The header's lastOffsetDelta; default the last record's delta. Kafka's cleaner keeps the
   * original batch's (so the producer's last sequence, baseSequence + lastOffsetDelta, survives).
   */
  readonly lastOffsetDelta?: number;
}

/**
 * Scratch columns of `encodeRecordBatch`, reused across calls so measuring allocates nothing
 * per record; references to the caller's keys and values are dropped after each call.
 */
const scratch = {
  count: 0,
  keys: [] as Bytes[],
  values: [] as Bytes[],
  headers: [] as Headers[] | null,
  keyLengths: [] as number[],
  valueLengths: [] as number[],
  timestampDeltas: [] as number[],
  bodySizes: [] as number[],
  recordsSize: 0,
  baseTimestamp: 0,
  maxTimestamp: 0,
  offsetDeltas: null as readonly number[] | null,
};

function headersSize(headers: NonNullable<Headers>, index: number): number {
  let size = varintSize(headers.length);
  for (let h = 0; h < headers.length; h++) {
    const header = headers[h];
    if (typeof header.key !== 'string') {
      throw new TributaryError('INVALID_RECORD', `header keys must be strings; record ${index} header ${h} has ${typeof header.key}`, { record: index, header: h });
    }
    const keyLength = Buffer.byteLength(header.key);
    const valueLength = byteLength(header.value);
    size += varintSize(keyLength) + keyLength + varintSize(valueLength) + (valueLength > 0 ? valueLength : 0);
  }
  return size;
}

function writeHeaders(buf: Buffer, headers: NonNullable<Headers>, pos: number): number {
  pos = writeVarint(buf, headers.length, pos);
  for (let h = 0; h < headers.length; h++) {
    const header = headers[h];
    const keyLength = Buffer.byteLength(header.key);
    pos = writeBytes(buf, header.key, keyLength, writeVarint(buf, keyLength, pos));
    const valueLength = byteLength(header.value);
    pos = writeBytes(buf, header.value, valueLength, writeVarint(buf, valueLength, pos));
  }
  return pos;
}

/**
 * Writes one record in Kafka's v2 record format at `pos` and returns the position after it:
 * length, attributes, timestamp and offset deltas, key, value, headers. `body` is the record's
 * size after its length varint, and the lengths are UTF-8 byte lengths (-1 for null); the caller
 * measured them, and `buf` has room for `varintSize(body) + body` bytes.
 */
export function writeRecord(
  buf: Buffer,
  pos: number,
  body: number,
  timestampDelta: number,
  offsetDelta: number,
  key: Bytes,
  keyLength: number,
  value: Bytes,
  valueLength: number,
  headers: Headers,
): number {
  pos = writeVarint(buf, body, pos);
  buf[pos++] = 0; // record attributes: unused in v2
  pos = writeVarint(buf, timestampDelta, pos);
  pos = writeVarint(buf, offsetDelta, pos);
  pos = writeBytes(buf, key, keyLength, writeVarint(buf, keyLength, pos));
  pos = writeBytes(buf, value, valueLength, writeVarint(buf, valueLength, pos));
  if (headers === undefined || headers.length === 0) buf[pos++] = 0;
  else pos = writeHeaders(buf, headers, pos);
  return pos;
}

/**
 * Encodes `records` as one RecordBatch v2. Offsets are relative to `options.baseOffset` (default 0);
 * the log assigns real offsets on append by patching the header, without re-encoding.
 */
export function encodeRecordBatch(records: readonly RecordInput[], options: RewriteOptions = {}): Buffer {
  checkRecords(records);
  const count = records.length;
  const offsetDeltas = options.offsetDeltas ?? null;
  if (offsetDeltas !== null) checkOffsetDeltas(offsetDeltas, count, options.lastOffsetDelta);
  const defaultTimestamp = options.timestamp ?? Date.now();
  const baseTimestamp = records[0].timestamp ?? defaultTimestamp;
  const { keys, values, keyLengths, valueLengths, timestampDeltas, bodySizes } = scratch;
  const headers = scratch.headers!;
  let maxTimestamp = baseTimestamp;
  let recordsSize = 0;
  try {
    for (let i = 0; i < count; i++) {
      const record = records[i];
      const timestamp = record.timestamp ?? defaultTimestamp;
      checkTimestamp(timestamp, i, baseTimestamp);
      if (timestamp > maxTimestamp) maxTimestamp = timestamp;
      const timestampDelta = timestamp - baseTimestamp;
      const keyLength = byteLength(record.key);
      const valueLength = byteLength(record.value);
      const recordHeaders = record.headers;
      const body =
        1 + // attributes
        varintSize(timestampDelta) +
        varintSize(offsetDeltas === null ? i : offsetDeltas[i]) +
        varintSize(keyLength) +
        (keyLength > 0 ? keyLength : 0) +
        varintSize(valueLength) +
        (valueLength > 0 ? valueLength : 0) +
        (recordHeaders === undefined || recordHeaders.length === 0 ? 1 : headersSize(recordHeaders, i));
      keys[i] = record.key;
      values[i] = record.value;
      headers[i] = recordHeaders;
      timestampDeltas[i] = timestampDelta;
      keyLengths[i] = keyLength;
      valueLengths[i] = valueLength;
      bodySizes[i] = body;
      recordsSize += varintSize(body) + body;
    }
    scratch.count = count;
    scratch.recordsSize = recordsSize;
    scratch.baseTimestamp = baseTimestamp;
    scratch.maxTimestamp = maxTimestamp;
    scratch.offsetDeltas = offsetDeltas;
    return encodeRecordBatchSized(scratch, options);
  } finally {
    // Keep no caller's bytes alive; the numeric columns keep their length for the next call.
    keys.fill(null, 0, count);
    values.fill(null, 0, count);
    headers.fill(undefined, 0, count);
    scratch.offsetDeltas = null;
  }
}

function checkOffsetDeltas(deltas: readonly number[], count: number, lastOffsetDelta: number | undefined): void {
  if (!Array.isArray(deltas) || deltas.length !== count) {
    throw new TributaryError('INVALID_RECORD', `offsetDeltas must hold one delta per record (${count})`, { count });
  }
  for (let i = 0; i < count; i++) {
    const delta = deltas[i];
    if (!Number.isSafeInteger(delta) || delta < (i === 0 ? 0 : deltas[i - 1] + 1) || delta > INT32_MAX) {
      throw new TributaryError('INVALID_RECORD', `offsetDeltas must be strictly increasing integers in [0, 2^31); record ${i} has ${delta}`, { record: i, delta });
    }
  }
  if (lastOffsetDelta !== undefined) checkIntegerOption('lastOffsetDelta', lastOffsetDelta, deltas[count - 1], INT32_MAX);
}

/**
 * Encodes records whose sizes the caller already computed (see `SizedRecords`); the bytes are
 * those `encodeRecordBatch` writes for the same records. The sizes are trusted: timestamps and
 * header keys are not re-checked here. `options.timestamp` only sets a LogAppendTime batch's max
 * timestamp.
 */
export function encodeRecordBatchSized(records: SizedRecords, options: RewriteOptions = {}): Buffer {
  const count = records.count;
  if (count < 1) checkRecords([]);
  const codec = codecByName(options.compression ?? 'none');
  const { keys, values, headers, keyLengths, valueLengths, timestampDeltas, bodySizes, recordsSize } = records;
  const offsetDeltas = records.offsetDeltas ?? null;
  const compressed = codec.id !== 0;
  const recordsBuf = Buffer.allocUnsafe(compressed ? recordsSize : BATCH_HEADER_SIZE + recordsSize);
  let pos = compressed ? 0 : RECORDS_OFFSET;
  for (let i = 0; i < count; i++) {
    const offsetDelta = offsetDeltas === null ? i : offsetDeltas[i];
    pos = writeRecord(recordsBuf, pos, bodySizes[i], timestampDeltas[i], offsetDelta, keys[i], keyLengths[i], values[i], valueLengths[i], headers === null ? undefined : headers[i]);
  }
  let batch: Buffer;
  if (compressed) {
    const payload = codec.compress(recordsBuf);
    batch = Buffer.allocUnsafe(BATCH_HEADER_SIZE + payload.length);
    batch.set(payload, RECORDS_OFFSET);
  } else {
    batch = recordsBuf;
  }
  const lastOffsetDelta = options.lastOffsetDelta ?? (offsetDeltas === null ? count - 1 : offsetDeltas[count - 1]);
  writeBatchHeader(batch, codec.id, count, lastOffsetDelta, records.baseTimestamp, records.maxTimestamp, options);
  return batch;
}

/** What `frameRecordBatch` needs to know of the records it frames. */
export interface WrittenRecords {
  /** Number of records, with offset deltas 0, 1, 2, .... */
  readonly count: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
}

/**
 * Frames records already written with `writeRecord` (`records`: the uncompressed records section,
 * offset deltas 0 to count - 1) as one RecordBatch v2: compresses them as one block if
 * `options.compression` asks, then writes the header and the CRC. The bytes are those
 * `encodeRecordBatch` writes for the same records, in a buffer of exactly their size from
 * `allocate` (default `Buffer.allocUnsafe`; the producer frames into shared memory, see
 * client/frame-pool.ts).
 */
export function frameRecordBatch(records: Buffer, written: WrittenRecords, options: EncodeOptions = {}, allocate: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  if (written.count < 1) checkRecords([]);
  const codec = codecByName(options.compression ?? 'none');
  const payload = codec.id === 0 ? records : codec.compress(records);
  const batch = allocate(BATCH_HEADER_SIZE + payload.length);
  batch.set(payload, RECORDS_OFFSET);
  writeBatchHeader(batch, codec.id, written.count, written.count - 1, written.baseTimestamp, written.maxTimestamp, options);
  return batch;
}

/** Fills in the header of `batch`, whose records section is in place, and its CRC. `options.timestamp` only sets a LogAppendTime batch's max timestamp. */
function writeBatchHeader(batch: Buffer, codecId: number, count: number, lastOffsetDelta: number, baseTimestamp: number, maxTimestamp: number, options: RewriteOptions): void {
  const baseOffset = checkIntegerOption('baseOffset', options.baseOffset ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const producerId = checkIntegerOption('producerId', options.producerId ?? NO_PRODUCER_ID, NO_PRODUCER_ID, Number.MAX_SAFE_INTEGER);
  const producerEpoch = checkIntegerOption('producerEpoch', options.producerEpoch ?? NO_PRODUCER_EPOCH, NO_PRODUCER_EPOCH, INT16_MAX);
  const baseSequence = checkIntegerOption('baseSequence', options.baseSequence ?? NO_SEQUENCE, NO_SEQUENCE, INT32_MAX);
  const partitionLeaderEpoch = checkIntegerOption('partitionLeaderEpoch', options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, INT32_MIN, INT32_MAX);
  const logAppendTime = options.timestampType === 'log-append';
  if (logAppendTime) maxTimestamp = options.timestamp ?? maxTimestamp;

  let attributes = codecId;
  if (logAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
  if (options.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (options.isControl) attributes |= CONTROL_FLAG_MASK;

  setBaseOffset(batch, baseOffset);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  batch[MAGIC_OFFSET] = CURRENT_MAGIC;
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(batch, baseTimestamp, BASE_TIMESTAMP_OFFSET);
  writeInt64(batch, maxTimestamp, MAX_TIMESTAMP_OFFSET);
  writeInt64(batch, producerId, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(count, RECORD_COUNT_OFFSET);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}
