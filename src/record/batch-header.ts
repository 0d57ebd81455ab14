/**
 * The fixed 61-byte header of Kafka's RecordBatch v2 (magic 2), read and patched in place.
 *
 * Layout (big-endian), as in Kafka's DefaultRecordBatch:
 *
 *   0  baseOffset            int64
 *   8  batchLength           int32   bytes after this field, so a batch occupies batchLength + 12
 *  12  partitionLeaderEpoch  int32
 *  16  magic                 int8    always 2
 *  17  crc                   uint32  CRC32C of every byte from `attributes` to the end of the batch
 *  21  attributes            int16   bits 0-2 compression, 3 timestamp type, 4 transactional,
 *                                    5 control, 6 delete-horizon set (KIP-534)
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64
 *  35  maxTimestamp          int64
 *  43  producerId            int64
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordCount           int32
 *  61  records...
 *
 * The CRC covers neither baseOffset nor partitionLeaderEpoch, so the log assigns offsets by
 * patching those fields without re-encoding or re-checksumming the batch.
 */
import { TributaryError } from '../errors.js';
import { crc32c } from './crc32c.js';
import { readInt64, writeInt64 } from './int64.js';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the batch header; also the smallest possible batch (a batch of zero records). */
export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes that precede what batchLength counts. */
export const LOG_OVERHEAD = 12;
export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

/** Kafka's "no producer" / "no sequence" sentinel. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

/** The header fields of one batch, decoded without touching its records. */
export interface BatchHeader {
  readonly baseOffset: number;
  /** Total bytes the batch occupies, header included (batchLength + 12). */
  readonly sizeInBytes: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET_OFFSET),
    sizeInBytes: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT_OFFSET),
  };
}

/** Total bytes of the batch starting at `pos` (header included), from its batchLength field. */
export function batchSizeAt(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
}

export function baseOffsetAt(buf: Buffer, pos = 0): number {
  return readInt64(buf, pos + BASE_OFFSET_OFFSET);
}

export function lastOffsetAt(buf: Buffer, pos = 0): number {
  return readInt64(buf, pos + BASE_OFFSET_OFFSET) + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
}

export function maxTimestampAt(buf: Buffer, pos = 0): number {
  return readInt64(buf, pos + MAX_TIMESTAMP_OFFSET);
}

/** Assigns the batch's offsets: rewrites baseOffset in place. The CRC stays valid (it does not cover it). */
export function setBaseOffset(buf: Buffer, baseOffset: number, pos = 0): void {
  writeInt64(buf, baseOffset, pos + BASE_OFFSET_OFFSET);
}

export function setPartitionLeaderEpoch(buf: Buffer, epoch: number, pos = 0): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Stamps a batch with the log's clock, as a topic with LogAppendTime does: sets the timestamp-type
 * bit and maxTimestamp (which readers then report as every record's timestamp) and, since the
 * attributes are checksummed, recomputes the CRC.
 */
export function setLogAppendTime(buf: Buffer, time: number, pos = 0, sizeInBytes = batchSizeAt(buf, pos)): void {
  buf.writeInt16BE(buf.readInt16BE(pos + ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET);
  writeInt64(buf, time, pos + MAX_TIMESTAMP_OFFSET);
  buf.writeUInt32BE(computeBatchCrc(buf, pos, sizeInBytes), pos + CRC_OFFSET);
}

/** CRC32C of the batch's checksummed region (attributes to end). */
export function computeBatchCrc(buf: Buffer, pos: number, sizeInBytes: number): number {
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + sizeInBytes));
}

/** Why the bytes at a position are not a valid batch, or null when they are. */
export type BatchValidity =
  | null
  | 'TRUNCATED_HEADER'
  | 'INVALID_LENGTH'
  | 'TRUNCATED_BATCH'
  | 'INVALID_MAGIC'
  | 'CRC_MISMATCH';

/**
 * Checks the batch at `pos` of `buf`, which holds valid bytes up to `end`: that a header fits,
 * that its length is sane and fits, that its magic is 2, and that its CRC32C matches.
 */
export function checkBatch(buf: Buffer, pos: number, end: number): BatchValidity {
  if (end - pos < BATCH_HEADER_SIZE) return 'TRUNCATED_HEADER';
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) return 'INVALID_LENGTH';
  const size = batchLength + LOG_OVERHEAD;
  if (end - pos < size) return 'TRUNCATED_BATCH';
  if (buf[pos + MAGIC_OFFSET] !== CURRENT_MAGIC) return 'INVALID_MAGIC';
  if (computeBatchCrc(buf, pos, size) !== buf.readUInt32BE(pos + CRC_OFFSET)) return 'CRC_MISMATCH';
  return null;
}

/** Throws CORRUPT_BATCH naming the failed check unless the batch at `pos` is valid. */
export function assertValidBatch(buf: Buffer, pos = 0, end = buf.length, where: Record<string, unknown> = {}): void {
  const problem = checkBatch(buf, pos, end);
  if (problem !== null) {
    throw new TributaryError('CORRUPT_BATCH', `record batch at byte ${pos} is invalid: ${problem}`, { ...where, position: pos, problem });
  }
}
