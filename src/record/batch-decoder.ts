/**
 * Decodes Kafka RecordBatch v2 bytes into records.
 *
 * Keys, values and header values are zero-copy views into the batch (or into its decompressed
 * records section), so decoding costs one small object per record and no copying. The CRC32C is
 * verified before anything is decoded: a corrupt batch is never turned into records. The record
 * loop itself is `readRecords` (record-reader.ts), shared with the consumer's hot path.
 */
import { TributaryError } from '../errors.js';
import {
  BATCH_HEADER_SIZE,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  assertValidBatch,
  batchSizeAt,
  readBatchHeader,
} from './batch-header.js';
import { codecById } from './codecs/index.js';
import { readRecords } from './record-reader.js';
import type { DecodedBatch, DecodedRecord, RecordHeader } from './types.js';

export interface DecodeOptions {
  /** Verify the batch's CRC32C before decoding. Default true; skip only for bytes already verified. */
  readonly verifyCrc?: boolean;
}

function makeRecord(offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[]): DecodedRecord {
  return { offset, timestamp, key, value, headers };
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
  const count = header.recordCount;
  if (count < 0) throw new TributaryError('INVALID_RECORD', `negative record count ${count}`, { count });
  const baseOffset = header.baseOffset;

  // Every record, control records included, whatever its offset.
  const records: DecodedRecord[] = [];
  const left = readRecords(bytes, 0, header.sizeInBytes, -Infinity, makeRecord, records);
  if (left !== 0) {
    throw new TributaryError('INVALID_RECORD', `batch at offset ${baseOffset} has ${left} bytes after its ${count} records`, { baseOffset });
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
