/**
 * What `dump-log` reads out of a partition's files, as plain data: the batches of a `.log`
 * segment (every header field, whether its CRC holds, and with `deep` its records), the entries of
 * a `.index` or `.timeindex` and whether the log agrees with them. The printing is the command's.
 *
 * Everything goes through the log layer's own readers (BatchScanner, checkBatch, the index
 * classes and their sanity checks) over a read-only file descriptor: dumping never changes a
 * byte, and does not need the data directory's lock.
 *
 * A `.log` is read as far as it can be: a batch that fails its CRC is reported and skipped (its
 * length still frames it); bytes that cannot be framed as a batch (a corrupt length, a torn tail)
 * are reported with their position, and the scan resumes at the next sound batch if there is one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TributaryError } from '../errors.js';
import { BatchScanner, type SegmentBytes } from '../log/batch-scanner.js';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex, offsetIndexProblem } from '../log/offset-index.js';
import { parseSegmentFileName } from '../log/segment-files.js';
import { nextSoundBatch } from '../log/segment-scan.js';
import { TIME_INDEX_ENTRY_SIZE, TimeIndex, timeIndexProblem } from '../log/time-index.js';
import { lastSequence } from '../partition/producer-state.js';
import { decodeRecordBatch } from '../record/batch-decoder.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  checkBatch,
  computeBatchCrc,
  readBatchHeader,
  type BatchHeader,
} from '../record/batch-header.js';
import { codecById } from '../record/codecs/index.js';
import { decodeControlRecord } from '../record/control.js';
import { CliError } from './errors.js';

/** Reads are this large: many batches per read, as recovery scans. */
const WINDOW_BYTES = 4 * 1024 * 1024;

/** A file opened read-only, readable the way the log layer reads its segments. */
export class ReadOnlyFile implements SegmentBytes {
  readonly fileBytes: number;
  private readonly fd: number;

  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
      this.fileBytes = fs.fstatSync(this.fd).size;
    } catch (cause) {
      throw new CliError(`cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }

  /** The base offset in the file's name (Kafka's 20-digit names), or null for any other name. */
  get nameOffset(): number | null {
    return parseSegmentFileName(path.basename(this.path))?.baseOffset ?? null;
  }

  read(target: Uint8Array, targetOffset: number, position: number, length: number): void {
    let done = 0;
    while (done < length) {
      const read = fs.readSync(this.fd, target, targetOffset + done, length - done, position + done);
      if (read === 0) throw new CliError(`${this.path} ended at byte ${position + done} while being read (did it shrink?)`);
      done += read;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface DumpedRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** The record's producer sequence, or -1 for a batch without one. */
  readonly sequence: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
  /** A control batch's transaction marker. */
  readonly marker?: { readonly type: 'COMMIT' | 'ABORT'; readonly coordinatorEpoch: number };
}

export interface DumpedBatch {
  readonly position: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly count: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly partitionLeaderEpoch: number;
  readonly isTransactional: boolean;
  readonly isControl: boolean;
  /** Set on batches the cleaner marked (KIP-534): when their tombstones may go. */
  readonly deleteHorizonMs: number | null;
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  readonly maxTimestamp: number;
  readonly size: number;
  readonly magic: number;
  readonly compression: string;
  readonly crc: number;
  readonly isValid: boolean;
  /** Why it is not valid (INVALID_MAGIC, CRC_MISMATCH), or null. */
  readonly problem: string | null;
  /** The CRC32C of the bytes as they are, when it differs from `crc`. */
  readonly computedCrc: number | null;
  /** With `deep`: the records, or why they could not be read. */
  readonly records?: readonly DumpedRecord[];
  readonly recordsError?: string;
}

/** Bytes that are not a batch: from `position` for `length` bytes, resuming at `resumesAt` (null: they run to the end). */
export interface InvalidBytes {
  readonly position: number;
  readonly length: number;
  readonly problem: string;
  readonly resumesAt: number | null;
}

export type LogDumpEntry = { readonly kind: 'batch'; readonly batch: DumpedBatch } | { readonly kind: 'invalid-bytes'; readonly bytes: InvalidBytes };

/** The batches of a `.log` file in file order, and the stretches of bytes that are not batches. */
export function* dumpLog(file: ReadOnlyFile, deep: boolean): Generator<LogDumpEntry> {
  let position = 0;
  // Resynchronising skips only batches whose offsets a log could hold after this file's start.
  let baseOffset = file.nameOffset;
  for (;;) {
    const scanner = new BatchScanner(file, position, file.fileBytes, WINDOW_BYTES);
    for (;;) {
      const framing = scanner.next();
      if (framing === 'END') return;
      if (framing !== null) {
        const resumesAt = nextSoundBatch({ read: file.read.bind(file), fileBytes: file.fileBytes, baseOffset: baseOffset ?? 0 }, scanner.position, 0);
        const end = resumesAt < 0 ? file.fileBytes : resumesAt;
        yield { kind: 'invalid-bytes', bytes: { position: scanner.position, length: end - scanner.position, problem: framing, resumesAt: resumesAt < 0 ? null : resumesAt } };
        if (resumesAt < 0) return;
        position = resumesAt;
        break;
      }
      const batch = describeBatch(scanner.buf, scanner.at, scanner.size, scanner.position, deep);
      baseOffset ??= batch.baseOffset;
      yield { kind: 'batch', batch };
    }
  }
}

function describeBatch(buf: Buffer, at: number, size: number, position: number, deep: boolean): DumpedBatch {
  const header = readHeader(buf, at);
  const problem = checkBatch(buf, at, at + size);
  const attributes = header.attributes;
  const batch: DumpedBatch = {
    position,
    baseOffset: header.baseOffset,
    lastOffset: header.baseOffset + header.lastOffsetDelta,
    count: header.recordCount,
    baseSequence: header.baseSequence,
    lastSequence: header.baseSequence < 0 ? -1 : lastSequence(header.baseSequence, header.lastOffsetDelta),
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    deleteHorizonMs: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0 ? header.baseTimestamp : null,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 'LogAppendTime' : 'CreateTime',
    maxTimestamp: header.maxTimestamp,
    size,
    magic: header.magic,
    compression: codecName(attributes & COMPRESSION_CODEC_MASK),
    crc: header.crc,
    isValid: problem === null,
    problem,
    computedCrc: problem === 'CRC_MISMATCH' ? computeBatchCrc(buf, at, size) : null,
  };
  // A batch of another magic has another layout; its records cannot be read as v2.
  if (!deep || problem === 'INVALID_MAGIC') return batch;
  try {
    return { ...batch, records: describeRecords(buf.subarray(at, at + size), batch) };
  } catch (error) {
    return { ...batch, recordsError: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The batch header, with its int64 fields read approximately where they lie beyond 2^53 (which
 * only corrupt bytes do, in practice), so that such a batch is dumped rather than ending the dump.
 */
function readHeader(buf: Buffer, at: number): BatchHeader {
  try {
    return readBatchHeader(buf, at);
  } catch (error) {
    if (!TributaryError.is(error, 'INVALID_RECORD')) throw error;
    const int64 = (field: number) => Number(buf.readBigInt64BE(at + field));
    return {
      baseOffset: int64(BASE_OFFSET_OFFSET),
      sizeInBytes: buf.readInt32BE(at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD,
      partitionLeaderEpoch: buf.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
      magic: buf.readInt8(at + MAGIC_OFFSET),
      crc: buf.readUInt32BE(at + CRC_OFFSET),
      attributes: buf.readInt16BE(at + ATTRIBUTES_OFFSET),
      lastOffsetDelta: buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
      baseTimestamp: int64(BASE_TIMESTAMP_OFFSET),
      maxTimestamp: int64(MAX_TIMESTAMP_OFFSET),
      producerId: int64(PRODUCER_ID_OFFSET),
      producerEpoch: buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
      baseSequence: buf.readInt32BE(at + BASE_SEQUENCE_OFFSET),
      recordCount: buf.readInt32BE(at + RECORD_COUNT_OFFSET),
    };
  }
}

function describeRecords(bytes: Buffer, batch: DumpedBatch): DumpedRecord[] {
  const decoded = decodeRecordBatch(bytes, { verifyCrc: false });
  return decoded.records.map((record) => {
    const described: DumpedRecord = {
      offset: record.offset,
      timestamp: record.timestamp,
      keySize: record.key === null ? -1 : record.key.length,
      valueSize: record.value === null ? -1 : record.value.length,
      sequence: batch.baseSequence < 0 ? -1 : lastSequence(batch.baseSequence, record.offset - batch.baseOffset),
      key: record.key,
      value: record.value,
      headers: record.headers,
    };
    if (!batch.isControl) return described;
    const marker = decodeControlRecord(record);
    return { ...described, marker: { type: marker.type === 'commit' ? 'COMMIT' : 'ABORT', coordinatorEpoch: marker.coordinatorEpoch } };
  });
}

function codecName(id: number): string {
  try {
    return codecById(id).name;
  } catch {
    return `unknown(${id})`;
  }
}

export interface OffsetIndexEntry {
  readonly offset: number;
  readonly position: number;
}

export interface TimeIndexEntry {
  readonly timestamp: number;
  readonly offset: number;
}

/** An entry the log contradicts, as Kafka's dump reports it: what the index says, and what the log has there. */
export interface IndexMismatch {
  readonly kind: 'offset-mismatch' | 'offset-not-found' | 'timestamp-mismatch' | 'timestamp-out-of-order';
  readonly indexOffset: number;
  /** The log's last offset of the batch found (-1 if none); for timestamps, the entry's timestamp. */
  readonly logOffset: number;
  readonly indexTimestamp?: number;
  /** The batch's max timestamp, or the previous entry's timestamp for out-of-order entries. */
  readonly logTimestamp?: number;
}

export interface IndexDump<E> {
  readonly baseOffset: number;
  readonly entries: readonly E[];
  /** Why the log layer would not trust this file (and rebuild it on open), or null. */
  readonly sanityProblem: string | null;
  /** The `.log` next to it that entries were checked against, or null when there is none. */
  readonly logFile: string | null;
  readonly mismatches: readonly IndexMismatch[];
}

/** The batches' positions, last offsets and max timestamps of the log a segment index belongs to, as far as they frame. */
interface LogBatchHeaders {
  readonly size: number;
  /** Batch number by file position. */
  readonly byPosition: Map<number, number>;
  readonly lastOffsets: number[];
  readonly maxTimestamps: number[];
}

function siblingLog(indexFile: string): LogBatchHeaders | null {
  const logPath = indexFile.replace(/\.(index|timeindex)$/, '.log');
  if (!fs.existsSync(logPath)) return null;
  const log = new ReadOnlyFile(logPath);
  try {
    const headers: LogBatchHeaders = { size: log.fileBytes, byPosition: new Map(), lastOffsets: [], maxTimestamps: [] };
    const scanner = new BatchScanner(log, 0, log.fileBytes, WINDOW_BYTES, true);
    while (scanner.next() === null) {
      const header = readHeader(scanner.buf, scanner.at);
      headers.byPosition.set(scanner.position, headers.lastOffsets.length);
      headers.lastOffsets.push(header.baseOffset + header.lastOffsetDelta);
      headers.maxTimestamps.push(header.maxTimestamp);
    }
    return headers;
  } finally {
    log.close();
  }
}

function indexBaseOffset(file: ReadOnlyFile): number {
  const baseOffset = file.nameOffset;
  if (baseOffset === null) {
    throw new CliError(`${file.path}: an index's offsets are relative to the base offset in its name, so it must be named as Kafka names it (00000000000000000000.index)`);
  }
  return baseOffset;
}

/** The whole entries of an index file (a partial entry at its end is left out, and reported by trailingProblem). */
function indexBytes(file: ReadOnlyFile, entrySize: number): Buffer {
  const bytes = Buffer.alloc(file.fileBytes - (file.fileBytes % entrySize));
  file.read(bytes, 0, 0, bytes.length);
  return bytes;
}

/** A `.index` file's entries, checked against the `.log` beside it: each entry's position must start the batch ending at its offset. */
export function dumpOffsetIndex(file: ReadOnlyFile): IndexDump<OffsetIndexEntry> {
  const baseOffset = indexBaseOffset(file);
  const bytes = indexBytes(file, OFFSET_INDEX_ENTRY_SIZE);
  const index = new OffsetIndex(baseOffset, bytes);
  const log = siblingLog(file.path);
  const entries: OffsetIndexEntry[] = [];
  const mismatches: IndexMismatch[] = [];
  for (let slot = 0; slot < index.entries; slot++) {
    const entry = { offset: index.offsetAt(slot), position: index.positionAt(slot) };
    if (slot > 0 && entry.offset === baseOffset) break;
    entries.push(entry);
    if (log === null) continue;
    const found = log.byPosition.get(entry.position);
    const logOffset = found === undefined ? -1 : log.lastOffsets[found];
    if (logOffset !== entry.offset) mismatches.push({ kind: found === undefined ? 'offset-not-found' : 'offset-mismatch', indexOffset: entry.offset, logOffset });
  }
  return {
    baseOffset,
    entries,
    sanityProblem: trailingProblem(file, OFFSET_INDEX_ENTRY_SIZE) ?? offsetIndexProblem(bytes, log?.size ?? Infinity),
    logFile: log === null ? null : file.path.replace(/\.index$/, '.log'),
    mismatches,
  };
}

/**
 * A `.timeindex` file's entries, checked against the `.log` beside it as Kafka's dump checks them:
 * the first batch ending at or after each entry's offset must end exactly there and have the
 * entry's timestamp as its max, and timestamps must increase.
 */
export function dumpTimeIndex(file: ReadOnlyFile): IndexDump<TimeIndexEntry> {
  const baseOffset = indexBaseOffset(file);
  const bytes = indexBytes(file, TIME_INDEX_ENTRY_SIZE);
  const index = new TimeIndex(baseOffset, bytes);
  const log = siblingLog(file.path);
  const entries: TimeIndexEntry[] = [];
  const mismatches: IndexMismatch[] = [];
  let previous = -1;
  for (let slot = 0; slot < index.entries; slot++) {
    const entry = { timestamp: index.timestampAt(slot), offset: index.offsetAt(slot) };
    if (slot > 0 && entry.offset === baseOffset) break;
    entries.push(entry);
    if (log === null) continue;
    const found = firstAtOrAbove(log.lastOffsets, entry.offset);
    const logOffset = found < 0 ? -1 : log.lastOffsets[found];
    if (logOffset !== entry.offset) {
      mismatches.push({ kind: 'offset-not-found', indexOffset: entry.offset, logOffset });
    } else {
      if (log.maxTimestamps[found] !== entry.timestamp) {
        mismatches.push({ kind: 'timestamp-mismatch', indexOffset: entry.offset, logOffset, indexTimestamp: entry.timestamp, logTimestamp: log.maxTimestamps[found] });
      }
      if (previous >= entry.timestamp) {
        mismatches.push({ kind: 'timestamp-out-of-order', indexOffset: entry.offset, logOffset, indexTimestamp: entry.timestamp, logTimestamp: previous });
      }
    }
    previous = entry.timestamp;
  }
  const nextOffset = log === null || log.lastOffsets.length === 0 ? Infinity : log.lastOffsets[log.lastOffsets.length - 1] + 1;
  return {
    baseOffset,
    entries,
    sanityProblem: trailingProblem(file, TIME_INDEX_ENTRY_SIZE) ?? timeIndexProblem(bytes, baseOffset, nextOffset),
    logFile: log === null ? null : file.path.replace(/\.timeindex$/, '.log'),
    mismatches,
  };
}

/** The index of the first value >= `target` in ascending `values`, or -1. */
function firstAtOrAbove(values: readonly number[], target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo < values.length ? lo : -1;
}

function trailingProblem(file: ReadOnlyFile, entrySize: number): string | null {
  return file.fileBytes % entrySize === 0 ? null : `size ${file.fileBytes} is not a multiple of ${entrySize}`;
}
