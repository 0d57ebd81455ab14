/**
 * `tributary/record`: Kafka's RecordBatch v2 format, for tools and for every layer above.
 */
export { encodeRecordBatch } from './batch-encoder.js';
export { decodeRecordBatch, decodeRecordBatches, type DecodeOptions } from './batch-decoder.js';
export {
  BATCH_HEADER_SIZE,
  readBatchHeader,
  checkBatch,
  assertValidBatch,
  type BatchHeader,
  type BatchValidity,
} from './batch-header.js';
export { crc32c } from './crc32c.js';
export { codecById, codecByName, COMPRESSION_NAMES } from './codecs/index.js';
export type { CompressionCodec } from './codecs/codec.js';
export type {
  CompressionName,
  DecodedBatch,
  DecodedRecord,
  EncodeOptions,
  RecordHeader,
  RecordInput,
  TimestampType,
} from './types.js';
