/**
 * Decodes Kafka RecordBatch v2 bytes into records.
 *
 * Keys, values and header values are zero-copy views into the batch (or into its decompressed
 * records section), so decoding costs one small object per record and no copying. The CRC32C is
 * verified before anything is decoded: a corrupt batch is never turned into records.
 */
import { TributaryError } from '../errors.js';
import {
  BATCH_HEADER_SIZE,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  assertValidBatch,
  batchSizeAt,
  readBatchHeader,
} from './batch-header.js';
import { codecById } from './codecs/index.js';
import type { DecodedBatch, DecodedRecord, RecordHeader } from './types.js';
import { ByteReader } from './varint.js';

export interface DecodeOptions {
  /** Verify the batch's CRC32C before decoding. Default true; skip only for bytes already verified. */
  readonly verifyCrc?: boolean;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

function readNullableBytes(reader: ByteReader): Buffer | null {
  const length = reader.readVarint();
  return length < 0 ? null : reader.readBytes(length);
}

function readHeaders(reader: ByteReader, count: number): readonly RecordHeader[] {
  if (count === 0) return NO_HEADERS;
  if (count < 0) throw new TributaryError('INVALID_RECORD', `negative header count ${count} at byte ${reader.pos}`, { position: reader.pos });
  const headers: RecordHeader[] = new Array(count);
  for (let h = 0; h < count; h++) {
    const keyLength = reader.readVarint();
    if (keyLength < 0) throw new TributaryError('INVALID_RECORD', `null header key at byte ${reader.pos}`, { position: reader.pos });
    const key = reader.readBytes(keyLength).toString('utf8');
    headers[h] = { key, value: readNullableBytes(reader) };
  }
  return headers;
}

/**
 * Decodes the single batch at the start of `bytes` (trailing bytes are ignored).
 * Throws CORRUPT_BATCH when the batch fails its checks, INVALID_RECORD when its records are malformed.
 */
export function decodeRecordBatch(bytes: Buffer, options: DecodeOptions = {}): DecodedBatch {
  if (options.verifyCrc !== false) assertValidBatch(bytes, 0, bytes.length);
  else if (bytes.length < BATCH_HEADER_SIZE || batchSizeAt(bytes) > bytes.length) {
    throw new TributaryError('CORRUPT_BATCH', `record batch truncated: ${bytes.length} bytes`, { length: bytes.length });
  }
  const header = readBatchHeader(bytes, 0);
  const attributes = header.attributes;
  const codec = codecById(attributes & COMPRESSION_CODEC_MASK);
  const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const end = header.sizeInBytes;

  let reader: ByteReader;
  if (codec.id === 0) {
    reader = new ByteReader(bytes, RECORDS_OFFSET, end);
  } else {
    let plain: Buffer;
    try {
      plain = codec.decompress(bytes.subarray(RECORDS_OFFSET, end));
    } catch (cause) {
      throw new TributaryError('INVALID_RECORD', `${codec.name} records section of batch at offset ${header.baseOffset} does not decompress`, { baseOffset: header.baseOffset, compression: codec.name }, { cause });
    }
    reader = new ByteReader(plain, 0, plain.length);
  }

  const count = header.recordCount;
  if (count < 0) throw new TributaryError('INVALID_RECORD', `negative record count ${count}`, { count });
  const baseOffset = header.baseOffset;
  // Record timestamps are deltas from the stored baseTimestamp even when KIP-534's delete-horizon
  // flag repurposes that field: Kafka's builder computes the deltas against whatever it stores.
  const baseTimestamp = header.baseTimestamp;
  const records: DecodedRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const length = reader.readVarint();
    const recordEnd = reader.pos + length;
    if (length < 0 || recordEnd > reader.end) throw reader.truncated();
    reader.pos++; // record attributes: unused in v2
    const timestampDelta = reader.readVarint();
    const offsetDelta = reader.readVarint();
    const key = readNullableBytes(reader);
    const value = readNullableBytes(reader);
    const headers = readHeaders(reader, reader.readVarint());
    if (reader.pos !== recordEnd) {
      throw new TributaryError('INVALID_RECORD', `record ${i} of batch at offset ${baseOffset} is ${length} bytes long but its fields take ${reader.pos - recordEnd + length}`, { baseOffset, record: i });
    }
    records[i] = {
      offset: baseOffset + offsetDelta,
      timestamp: logAppendTime ? header.maxTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    };
  }
  if (reader.pos !== reader.end) {
    throw new TributaryError('INVALID_RECORD', `batch at offset ${baseOffset} has ${reader.end - reader.pos} bytes after its ${count} records`, { baseOffset });
  }

  return {
    baseOffset,
    lastOffset: baseOffset + header.lastOffsetDelta,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    baseTimestamp: header.baseTimestamp,
    maxTimestamp: header.maxTimestamp,
    timestampType: logAppendTime ? 'log-append' : 'create',
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    compression: codec.name,
    sizeInBytes: header.sizeInBytes,
    records,
  };
}

/**
 * Decodes every whole batch in `bytes`, a concatenation such as a log read or a fetch response.
 * A partial batch at the end is skipped, as Kafka consumers do (a fetch may cut the last batch).
 */
export function* decodeRecordBatches(bytes: Buffer, options: DecodeOptions = {}): Generator<DecodedBatch> {
  let pos = 0;
  while (bytes.length - pos >= BATCH_HEADER_SIZE) {
    const size = batchSizeAt(bytes, pos);
    if (size < BATCH_HEADER_SIZE) {
      throw new TributaryError('CORRUPT_BATCH', `record batch at byte ${pos} has invalid length ${size}`, { position: pos, size });
    }
    if (pos + size > bytes.length) return;
    yield decodeRecordBatch(bytes.subarray(pos, pos + size), options);
    pos += size;
  }
}
