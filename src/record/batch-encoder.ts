/**
 * Encodes records into one Kafka RecordBatch v2, byte for byte as Kafka's producer does.
 *
 * Sizes are computed first so the batch is written into a single allocation: every record is
 * copied once, varints are written in place, and the CRC32C is taken once over the whole batch.
 * Compressed batches write the records section into a scratch buffer, compress it as one block,
 * and then prepend the header.
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

/** Writes a byte field's bytes (not its length); short keys are copied by hand, which beats `set` for a few bytes. */
function writeBytes(buf: Buffer, bytes: Bytes, length: number, pos: number): number {
  if (length <= 0) return pos;
  if (typeof bytes === 'string') {
    buf.write(bytes, pos, length, 'utf8');
  } else if (length <= 16) {
    const src = bytes as Buffer;
    for (let i = 0; i < length; i++) buf[pos + i] = src[i];
  } else {
    buf.set(bytes as Buffer, pos);
  }
  return pos + length;
}

/**
 * Per-record facts computed by the sizing pass and reused by the writing pass, kept in typed
 * arrays shared across calls so encoding allocates nothing per record.
 */
let bodySizes = new Int32Array(1024);
let keyLengths = new Int32Array(1024);
let valueLengths = new Int32Array(1024);
let timestampDeltas = new Float64Array(1024);

function ensureScratch(count: number): void {
  if (bodySizes.length >= count) return;
  const size = Math.max(count, bodySizes.length * 2);
  bodySizes = new Int32Array(size);
  keyLengths = new Int32Array(size);
  valueLengths = new Int32Array(size);
  timestampDeltas = new Float64Array(size);
}

function headersSize(record: RecordInput, index: number): number {
  const headers = record.headers!;
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

function writeHeaders(buf: Buffer, record: RecordInput, pos: number): number {
  const headers = record.headers!;
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
 * Encodes `records` as one RecordBatch v2. Offsets are relative to `options.baseOffset` (default 0);
 * the log assigns real offsets on append by patching the header, without re-encoding.
 */
export function encodeRecordBatch(records: readonly RecordInput[], options: EncodeOptions = {}): Buffer {
  checkRecords(records);
  const count = records.length;
  const defaultTimestamp = options.timestamp ?? Date.now();
  const codec = codecByName(options.compression ?? 'none');
  ensureScratch(count);

  const baseTimestamp = records[0].timestamp ?? defaultTimestamp;
  const baseOffset = checkIntegerOption('baseOffset', options.baseOffset ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const producerId = checkIntegerOption('producerId', options.producerId ?? NO_PRODUCER_ID, NO_PRODUCER_ID, Number.MAX_SAFE_INTEGER);
  const producerEpoch = checkIntegerOption('producerEpoch', options.producerEpoch ?? NO_PRODUCER_EPOCH, NO_PRODUCER_EPOCH, INT16_MAX);
  const baseSequence = checkIntegerOption('baseSequence', options.baseSequence ?? NO_SEQUENCE, NO_SEQUENCE, INT32_MAX);
  const partitionLeaderEpoch = checkIntegerOption('partitionLeaderEpoch', options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, INT32_MIN, INT32_MAX);
  let maxTimestamp = baseTimestamp;
  let recordsSize = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i];
    const timestamp = record.timestamp ?? defaultTimestamp;
    checkTimestamp(timestamp, i, baseTimestamp);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const timestampDelta = timestamp - baseTimestamp;
    const keyLength = byteLength(record.key);
    const valueLength = byteLength(record.value);
    const body =
      1 + // attributes
      varintSize(timestampDelta) +
      varintSize(i) +
      varintSize(keyLength) +
      (keyLength > 0 ? keyLength : 0) +
      varintSize(valueLength) +
      (valueLength > 0 ? valueLength : 0) +
      (record.headers === undefined || record.headers.length === 0 ? 1 : headersSize(record, i));
    timestampDeltas[i] = timestampDelta;
    keyLengths[i] = keyLength;
    valueLengths[i] = valueLength;
    bodySizes[i] = body;
    recordsSize += varintSize(body) + body;
  }
  const logAppendTime = options.timestampType === 'log-append';
  if (logAppendTime) maxTimestamp = options.timestamp ?? maxTimestamp;

  const compressed = codec.id !== 0;
  const recordsBuf = Buffer.allocUnsafe(compressed ? recordsSize : BATCH_HEADER_SIZE + recordsSize);
  let pos = compressed ? 0 : RECORDS_OFFSET;
  for (let i = 0; i < count; i++) {
    const record = records[i];
    pos = writeVarint(recordsBuf, bodySizes[i], pos);
    recordsBuf[pos++] = 0; // record attributes: unused in v2
    pos = writeVarint(recordsBuf, timestampDeltas[i], pos);
    pos = writeVarint(recordsBuf, i, pos);
    const keyLength = keyLengths[i];
    pos = writeBytes(recordsBuf, record.key, keyLength, writeVarint(recordsBuf, keyLength, pos));
    const valueLength = valueLengths[i];
    pos = writeBytes(recordsBuf, record.value, valueLength, writeVarint(recordsBuf, valueLength, pos));
    if (record.headers === undefined || record.headers.length === 0) recordsBuf[pos++] = 0;
    else pos = writeHeaders(recordsBuf, record, pos);
  }

  let batch: Buffer;
  if (compressed) {
    const payload = codec.compress(recordsBuf);
    batch = Buffer.allocUnsafe(BATCH_HEADER_SIZE + payload.length);
    batch.set(payload, RECORDS_OFFSET);
  } else {
    batch = recordsBuf;
  }

  let attributes = codec.id;
  if (logAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
  if (options.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (options.isControl) attributes |= CONTROL_FLAG_MASK;

  setBaseOffset(batch, baseOffset);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  batch[MAGIC_OFFSET] = CURRENT_MAGIC;
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(batch, baseTimestamp, BASE_TIMESTAMP_OFFSET);
  writeInt64(batch, maxTimestamp, MAX_TIMESTAMP_OFFSET);
  writeInt64(batch, producerId, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(count, RECORD_COUNT_OFFSET);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}
