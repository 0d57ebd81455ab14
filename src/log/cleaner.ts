/**
 * Log compaction (`cleanupPolicy: 'compact'`): Kafka's LogCleaner for one partition, run
 * synchronously by its owner through `Log.compact`. Not scheduled by the runtime yet.
 *
 * ## What survives
 *
 * - The latest record of every key. "Latest" is taken over the whole log, the active segment
 *   included (Kafka's offset map stops at the active segment because producers append to it
 *   concurrently; here the owner thread is the only caller, so an older value in a closed segment
 *   superseded by one in the active segment is removed too).
 * - Records with a null key: Kafka rejects them on append to a compacted topic; this log does not
 *   know its topic's policy, so they are kept, untouched.
 * - A tombstone (null value) that is the latest for its key, unless its segment's largest
 *   timestamp is older than `now - deleteRetentionMs` (Kafka's delete horizon, simplified: Kafka
 *   stamps the horizon into the batch on a first pass (KIP-534) and removes the tombstone on a later
 *   one; here the segment's age decides in one pass).
 * - Control batches (transaction markers), byte for byte. Transactional data is compacted like any
 *   other; aborted transactions are not removed (Kafka removes them) — there are no transactions yet.
 * - The active segment is never touched.
 *
 * ## How batches are rewritten (Kafka's MemoryRecords.filterTo / buildRetainedRecordsInto)
 *
 * A batch that loses no record is copied verbatim. One that loses some is re-encoded with its
 * original baseOffset, lastOffsetDelta, producer id/epoch, base sequence, partition leader epoch,
 * timestamp type, transactional flag and codec; each survivor keeps its offset (the record's
 * offset delta has gaps). Keeping the original offset range keeps the producer's last sequence
 * (baseSequence + lastOffsetDelta) and keeps batches contiguous, so every segment still covers
 * [baseOffset, next segment's baseOffset) without gaps and recovery's and the reader's contiguity
 * checks hold unchanged. A batch that loses every record becomes an empty batch (header only,
 * recordCount 0, no timestamps): one per batch with a producer id (Kafka retains such empty
 * batches so the producer's state survives), one per run of other emptied batches, spanning the
 * run. So compaction removes payload bytes, and leaves at most a 61-byte header behind per run.
 *
 * ## Crash safety: the swap protocol
 *
 * Each cleaned segment (same base offset, same offset range) replaces the old one through files
 * named `<base>.<kind>.cleaned` and `<base>.<kind>.swap`, for kind in log, index, timeindex:
 *
 * 1. write the three `.cleaned` files (log bytes and their rebuilt indexes), fdatasync each, fsync dir;
 * 2. rename `index.cleaned` and `timeindex.cleaned` to `.swap`, fsync dir;
 * 3. rename `log.cleaned` to `log.swap`, fsync dir — the commit point: a `.log.swap` exists only
 *    when all three cleaned files are complete and durable;
 * 4. rename `index.swap` and `timeindex.swap` over the old indexes, fsync dir;
 * 5. rename `log.swap` over the old log, fsync dir.
 *
 * On open, `finishInterruptedSwaps` (called by recovery before it lists segments) deletes every
 * `.cleaned` file (a cleaning that never committed), and for each base offset: if `.log.swap`
 * exists the swap committed, so the remaining `.swap` indexes and then the log are renamed into
 * place (steps 4-5 again); otherwise any `.swap` index is left over from step 2 of an uncommitted
 * swap and is deleted, leaving the old segment as it was. Since step 4 renames the indexes before
 * step 5 renames the log, an index `.swap` without a `.log.swap` can only be uncommitted. Either way
 * the log reopens with the old segment or the cleaned one, complete with matching indexes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TributaryError, storageError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_PARTITION_LEADER_EPOCH,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  computeBatchCrc,
  lastOffsetAt,
  maxTimestampAt,
} from '../record/batch-header.js';
import { decodeRecordBatch } from '../record/batch-decoder.js';
import { encodeRecordBatch } from '../record/batch-encoder.js';
import { writeInt64 } from '../record/int64.js';
import type { DecodedBatch, RecordInput } from '../record/types.js';
import { BatchScanner } from './batch-scanner.js';
import { parseSegmentFileName } from './segment-files.js';
import { Segment } from './segment.js';
import { closeFile, listDir, openFile, removeFile, syncData, syncDir, writeAt, writeFileSynced } from './sync-fs.js';
import { NO_TIMESTAMP } from './time-index.js';

export interface CompactOptions {
  /** Epoch milliseconds; default the log's clock. */
  readonly now?: number;
  /** Kafka's `delete.retention.ms`: how long tombstones stay readable. Default the log's `deleteRetentionMs`. */
  readonly deleteRetentionMs?: number;
}

export interface CompactResult {
  /** Closed segments rewritten and swapped in. */
  readonly segmentsCleaned: number;
  /** Records dropped: superseded values and expired tombstones. */
  readonly recordsRemoved: number;
  /** Bytes of the rewritten segments before and after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** The points of the swap protocol, for tests that simulate a crash after each. */
export type SwapStep = 'cleaned-written' | 'indexes-staged' | 'log-staged' | 'indexes-swapped' | 'log-swapped';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

const SCAN_WINDOW_BYTES = 1024 * 1024;

export interface CleanerContext {
  readonly dir: string;
  /** The log's live list; closed segments that are rewritten are replaced in it. The last is active. */
  readonly segments: Segment[];
  readonly indexIntervalBytes: number;
  readonly now: number;
  readonly deleteRetentionMs: number;
  /** The segment's largest timestamp (Kafka's LogSegment.largestTimestamp). */
  readonly largestTimestamp: (segment: Segment) => number;
  /** Called after each step of each swap (tests throw from it to simulate a crash there). */
  readonly afterStep?: (step: SwapStep, baseOffset: number) => void;
}

/** Cleans every closed segment of the log; see the module comment. */
export function compactSegments(ctx: CleanerContext): CompactResult {
  const latest = latestOffsets(ctx.segments);
  let segmentsCleaned = 0;
  let recordsRemoved = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  const horizon = ctx.now - ctx.deleteRetentionMs;
  for (let i = 0; i < ctx.segments.length - 1; i++) {
    const old = ctx.segments[i];
    if (old.size === 0) continue;
    const dropTombstones = ctx.largestTimestamp(old) < horizon;
    const cleaned = cleanSegment(ctx, old, latest, dropTombstones);
    if (cleaned === null) continue;
    swapIn(ctx, i, cleaned.segment);
    segmentsCleaned++;
    recordsRemoved += cleaned.removed;
    bytesBefore += old.size;
    bytesAfter += cleaned.segment.size;
  }
  return { segmentsCleaned, recordsRemoved, bytesBefore, bytesAfter };
}

/** Each non-null key's latest offset in the whole log (the offset map; Kafka's SkimpyOffsetMap, exact here). */
function latestOffsets(segments: readonly Segment[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const segment of segments) {
    forEachBatch(segment, (batch) => {
      if (batch.isControl) return;
      for (const record of batch.records) if (record.key !== null) latest.set(record.key.toString('latin1'), record.offset);
    });
  }
  return latest;
}

function forEachBatch(segment: Segment, visit: (batch: DecodedBatch, bytes: Buffer, position: number) => void): void {
  const scanner = new BatchScanner(segment, 0, segment.size, SCAN_WINDOW_BYTES);
  for (;;) {
    const framing = scanner.next();
    if (framing === 'END') return;
    if (framing !== null) {
      throw new TributaryError('CORRUPT_LOG', `segment ${segment.paths.log} cannot be compacted: ${framing} at byte ${scanner.position}`, {
        segment: segment.paths.log,
        position: scanner.position,
        problem: framing,
      });
    }
    const bytes = scanner.buf.subarray(scanner.at, scanner.at + scanner.size);
    visit(decodeRecordBatch(bytes), bytes, scanner.position);
  }
}

/** Staged `.cleaned` files of one segment, with the in-memory segment that will replace it. */
interface Cleaned {
  readonly segment: Segment;
  readonly removed: number;
}

/**
 * Writes the cleaned copy of `old` to `.cleaned` files (step 1), or returns null (writing nothing)
 * when no record of it would be removed.
 */
function cleanSegment(ctx: CleanerContext, old: Segment, latest: Map<string, number>, dropTombstones: boolean): Cleaned | null {
  const keep = (key: Buffer | null, value: Buffer | null, offset: number): boolean =>
    key === null || (latest.get(key.toString('latin1')) === offset && !(value === null && dropTombstones));

  let removable = 0;
  forEachBatch(old, (batch) => {
    if (batch.isControl) return;
    for (const record of batch.records) if (!keep(record.key, record.value, record.offset)) removable++;
  });
  if (removable === 0) return null;

  const files = stagedPaths(old, CLEANED_SUFFIX);
  const segment = new Segment(ctx.dir, old.baseOffset, 0, old.baseOffset, old.createdAt);
  segment.startIndexes();
  let offsetOfMaxTs = old.baseOffset;
  let position = 0;
  const fd = openFile(files.log, 'w');
  try {
    const write = (bytes: Buffer): void => {
      writeAt(fd, files.log, bytes, 0, bytes.length, position);
      const lastOffset = lastOffsetAt(bytes);
      const maxTimestamp = maxTimestampAt(bytes);
      if (maxTimestamp > segment.maxTimestamp) offsetOfMaxTs = lastOffset;
      segment.indexBatch(position, bytes.length, lastOffset, maxTimestamp, ctx.indexIntervalBytes);
      position += bytes.length;
    };
    // A run of emptied batches without a producer id, written as one empty batch when it ends.
    let run: { first: number; last: number; template: Buffer } | null = null;
    const endRun = (): void => {
      if (run !== null) write(emptyBatch(run.template, run.first, run.last, false));
      run = null;
    };
    forEachBatch(old, (batch, bytes) => {
      if (batch.isControl) {
        endRun();
        write(Buffer.from(bytes));
        return;
      }
      const survivors = batch.records.filter((record) => keep(record.key, record.value, record.offset));
      if (survivors.length === batch.records.length) {
        endRun();
        write(Buffer.from(bytes));
      } else if (survivors.length > 0) {
        endRun();
        write(rewriteBatch(batch, survivors));
      } else if (batch.producerId !== NO_PRODUCER_ID) {
        endRun();
        write(emptyBatch(bytes, batch.baseOffset, batch.lastOffset, true));
      } else if (run === null) {
        run = { first: batch.baseOffset, last: batch.lastOffset, template: Buffer.from(bytes.subarray(0, BATCH_HEADER_SIZE)) };
      } else {
        run.last = batch.lastOffset;
      }
    });
    endRun();
    syncData(fd, files.log);
  } finally {
    closeFile(fd, files.log);
  }
  if (segment.nextOffset !== old.nextOffset) {
    throw new TributaryError('CORRUPT_LOG', `compacting ${old.paths.log} changed its offset range (next offset ${segment.nextOffset}, expected ${old.nextOffset})`, {
      segment: old.paths.log,
    });
  }
  segment.fileBytes = position;
  segment.timeIndex.maybeAppend(segment.maxTimestamp, offsetOfMaxTs);
  writeFileSynced(files.index, segment.offsetIndex.bytes());
  writeFileSynced(files.timeIndex, segment.timeIndex.bytes());
  // Kafka keeps a cleaned segment's last-modified time: retention falls back on it.
  try {
    const stat = fs.statSync(old.paths.log);
    fs.utimesSync(files.log, stat.atime, stat.mtime);
  } catch (cause) {
    throw storageError('utimes', files.log, cause);
  }
  syncDir(ctx.dir);
  ctx.afterStep?.('cleaned-written', old.baseOffset);
  return { segment, removed: removable };
}

/** The batch re-encoded with only `survivors`, every header field Kafka keeps kept (see the module comment). */
function rewriteBatch(batch: DecodedBatch, survivors: DecodedBatch['records']): Buffer {
  const logAppend = batch.timestampType === 'log-append';
  const records: RecordInput[] = survivors.map((record) => ({
    key: record.key,
    value: record.value,
    headers: record.headers,
    timestamp: logAppend ? batch.maxTimestamp : record.timestamp,
  }));
  return encodeRecordBatch(records, {
    baseOffset: batch.baseOffset,
    offsetDeltas: survivors.map((record) => record.offset - batch.baseOffset),
    lastOffsetDelta: batch.lastOffset - batch.baseOffset,
    compression: batch.compression,
    timestampType: batch.timestampType,
    timestamp: batch.maxTimestamp,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    isTransactional: batch.isTransactional,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
  });
}

/**
 * A header-only batch with no records covering [first, last]: with `keepProducer` the template's
 * producer fields, leader epoch and flags (Kafka's retained empty batch), else none.
 */
function emptyBatch(template: Buffer, first: number, last: number, keepProducer: boolean): Buffer {
  const batch = Buffer.alloc(BATCH_HEADER_SIZE);
  writeInt64(batch, first, 0);
  batch.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch[MAGIC_OFFSET] = CURRENT_MAGIC;
  batch.writeInt32BE(last - first, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(batch, NO_TIMESTAMP, BASE_TIMESTAMP_OFFSET);
  writeInt64(batch, NO_TIMESTAMP, MAX_TIMESTAMP_OFFSET);
  batch.writeInt32BE(0, RECORD_COUNT_OFFSET);
  if (keepProducer) {
    batch.writeInt32BE(template.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET), PARTITION_LEADER_EPOCH_OFFSET);
    batch.writeInt16BE(template.readInt16BE(ATTRIBUTES_OFFSET) & (TIMESTAMP_TYPE_MASK | TRANSACTIONAL_FLAG_MASK), ATTRIBUTES_OFFSET);
    template.copy(batch, PRODUCER_ID_OFFSET, PRODUCER_ID_OFFSET, RECORD_COUNT_OFFSET);
  } else {
    batch.writeInt32BE(NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
    writeInt64(batch, NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
    batch.writeInt16BE(NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
    batch.writeInt32BE(NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  }
  batch.writeUInt32BE(computeBatchCrc(batch, 0, BATCH_HEADER_SIZE), CRC_OFFSET);
  return batch;
}

/** Steps 2-5 of the swap, then the in-memory replacement. */
function swapIn(ctx: CleanerContext, index: number, cleaned: Segment): void {
  const old = ctx.segments[index];
  const base = old.baseOffset;
  const staged = stagedPaths(old, CLEANED_SUFFIX);
  const swap = stagedPaths(old, SWAP_SUFFIX);
  // Hold the old file open, so reads served from the old segment object until the replacement
  // below see the old bytes even once the cleaned file has been renamed over it.
  old.handle();
  rename(staged.index, swap.index);
  rename(staged.timeIndex, swap.timeIndex);
  syncDir(ctx.dir);
  ctx.afterStep?.('indexes-staged', base);
  rename(staged.log, swap.log);
  syncDir(ctx.dir);
  ctx.afterStep?.('log-staged', base);
  rename(swap.index, old.paths.index);
  rename(swap.timeIndex, old.paths.timeIndex);
  syncDir(ctx.dir);
  ctx.afterStep?.('indexes-swapped', base);
  rename(swap.log, old.paths.log);
  syncDir(ctx.dir);
  ctx.segments[index] = cleaned;
  old.close();
  ctx.afterStep?.('log-swapped', base);
}

/**
 * Recovery's part of the swap protocol (see the module comment): deletes uncommitted `.cleaned`
 * and staged index files, completes committed swaps. Returns how many swaps it completed.
 */
export function finishInterruptedSwaps(dir: string): number {
  const names = listDir(dir);
  const committed = new Set<number>();
  const staged: { name: string; target: string; baseOffset: number; kind: string }[] = [];
  let changed = false;
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) {
      removeFile(path.join(dir, name));
      changed = true;
      continue;
    }
    if (!name.endsWith(SWAP_SUFFIX)) continue;
    const target = name.slice(0, -SWAP_SUFFIX.length);
    const parsed = parseSegmentFileName(target);
    if (parsed === null) continue;
    staged.push({ name, target, baseOffset: parsed.baseOffset, kind: parsed.kind });
    if (parsed.kind === 'log') committed.add(parsed.baseOffset);
  }
  // Indexes before logs, as in the swap itself.
  staged.sort((a, b) => (a.kind === 'log' ? 1 : 0) - (b.kind === 'log' ? 1 : 0));
  for (const file of staged) {
    changed = true;
    if (committed.has(file.baseOffset)) rename(path.join(dir, file.name), path.join(dir, file.target));
    else removeFile(path.join(dir, file.name));
  }
  if (changed) syncDir(dir);
  return committed.size;
}

function stagedPaths(segment: Segment, suffix: string): { log: string; index: string; timeIndex: string } {
  const { log, index, timeIndex } = segment.paths;
  return { log: log + suffix, index: index + suffix, timeIndex: timeIndex + suffix };
}


function rename(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (cause) {
    throw storageError('rename', from, cause);
  }
}
