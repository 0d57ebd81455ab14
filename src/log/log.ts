/**
 * One partition's log: a directory of segments in Kafka's on-disk format, an appender that
 * batches writes, reads of whole batches, recovery on open, and retention.
 *
 * The API is synchronous on purpose. Every log is owned by exactly one worker thread (the
 * partition's actor), which calls it from nowhere else; nothing here is shared, locked or awaited.
 * On a page-cached file a synchronous `readSync`/`writeSync` costs a few microseconds, where an
 * asynchronous call would add a libuv threadpool round trip of tens. Only one `Log` may have a
 * directory open at a time; the owner guarantees that.
 *
 * ## What an acknowledged append survives
 *
 * An append is acknowledged when `append` returns. "Survives" means that after the crash, `open`
 * recovers the batch with the same offsets and bytes.
 *
 * | fsync policy | process crash (kill, OOM, uncaught error) | machine crash (power loss, kernel panic) |
 * | --- | --- | --- |
 * | `always` | yes: written and fdatasynced before `append` returns | yes |
 * | `interval` | once written to the file: when the append buffer fills, at `flush()`, `roll()`, `close()`, or at the latest `flushIntervalMs` later | once fdatasynced: at `flush()`, `roll()`, `close()`, or by the interval timer, which writes at most `flushIntervalMs` later and fdatasyncs on the threadpool without blocking the log's thread |
 * | `never` | as `interval` | only when the OS writes the pages back (Linux: typically within 30 s), or at `flush()`, `roll()`, `close()` |
 *
 * Until it is written, an acknowledged batch lives only in the appender's buffer, in this
 * process's memory, but it is already visible to readers. With `appendBufferBytes: 0` every
 * append is written before it returns, so under `interval` and `never` it survives a process crash
 * at once (Kafka's own guarantee with its default flush settings). A rolled segment is always
 * fdatasynced before the next one is created, whatever the policy, so a crash can only ever tear
 * the end of the last segment, which recovery truncates.
 *
 * ## Reads
 *
 * `read` returns whole batches as the only view of a fresh ArrayBuffer the caller owns (safe to
 * keep, or to transfer whole to another thread), each
 * one's length, magic, CRC32C and offsets verified on the way out, so a corrupt byte is never
 * served and decoders may skip their own CRC check. Verifying costs one CRC32C pass over the
 * bytes (several GB/s), far below the cost of decoding them.
 *
 * ## Timers
 *
 * Under `interval` and `never` an unref'd timer writes the buffer every `flushIntervalMs` (and
 * under `interval` fdatasyncs), armed while there is something to write or sync. It fires on
 * multiples of `flushIntervalMs` in wall-clock time, not at intervals counted from the log's
 * open, so that logs with the same interval, on every thread, sync together and their fdatasyncs
 * share the file system's journal commits: with each log's ticks at its own point in the second,
 * every fdatasync forced a commit of its own, writers to the other partitions stalled behind each
 * one (ext4, data=ordered), and two threads producing with a client each ran no faster than one. Retention does not run on a timer: the owner calls
 * `applyRetention()` on its own schedule (Kafka checks every 5 minutes), so one scheduler can
 * serve every partition of a thread and tests control time through the injected clock.
 */
import path from 'node:path';
import { TributaryError } from '../errors.js';
import {
  BATCH_HEADER_SIZE,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  RECORD_COUNT_OFFSET,
  batchSizeAt,
  type BatchValidity,
  checkBatch,
  maxTimestampAt,
  setBaseOffset,
  setLogAppendTime,
} from '../record/batch-header.js';
import type { TimestampType } from '../record/types.js';
import { Appender } from './appender.js';
import { writeCheckpoint } from './checkpoint.js';
import { compactSegments, type CleanerContext, type CompactOptions, type CompactResult } from './cleaner.js';
import { resolveLogConfig, type LogConfig } from './config.js';
import { ensureIndexes } from './index-loader.js';
import { LogReader } from './reader.js';
import { loadLog, type RecoveryReport } from './recovery.js';
import { retentionCount } from './retention.js';
import { CLEAN_SHUTDOWN_MARKER, LOG_START_CHECKPOINT, RECOVERY_POINT_CHECKPOINT } from './segment-files.js';
import { Segment } from './segment.js';
import { closeFile, modifiedTime, openFile, syncDir } from './sync-fs.js';
import { findOffsetForTimestamp, type TimestampOffset } from './timestamp-search.js';

export interface LogOptions {
  /** Epoch milliseconds; drives time-based rolls of segments without timestamps, LogAppendTime and retention. Default Date.now. */
  readonly clock?: () => number;
}

export interface AppendOptions {
  /**
   * `create` (default) keeps the producer's timestamps. `log-append` stamps every batch with the
   * log's clock, as a Kafka topic with `message.timestamp.type=LogAppendTime` does: the batch's
   * timestamp-type bit and max timestamp are set and its CRC recomputed.
   */
  readonly timestampType?: TimestampType;
  /**
   * Verify each batch's CRC32C before appending it (default true, as Kafka's broker does). Even
   * at several GB/s the check is a quarter or more of the append path's time (measured: 3.4
   * against 4.5 GB/s for 64 KiB batches), so a caller that checksummed the bytes itself in this
   * process (the embedded producer) may skip it. Length and magic are always checked. A batch
   * appended unverified with a wrong CRC is never served (reads verify), but recovery after a
   * crash then finds it and refuses to open the log.
   */
  readonly verifyCrc?: boolean;
}

export interface FlushOptions {
  /** fdatasync after writing (default true). */
  readonly fsync?: boolean;
}

export interface AppendResult {
  /** Offset assigned to the first record of the first batch. */
  readonly baseOffset: number;
  /** Offset assigned to the last record of the last batch. */
  readonly lastOffset: number;
  /** The time stamped on the batches, with `timestampType: 'log-append'` only. */
  readonly logAppendTime?: number;
}

export interface ReadResult {
  /**
   * Whole batches in offset order, starting with the batch that holds the requested offset (it
   * may begin before it, as in Kafka); empty at the log end offset. CRC-verified; the only view of
   * an ArrayBuffer the caller owns (a few bytes of it may lie outside the view), so it can be
   * transferred whole.
   */
  readonly bytes: Buffer;
  /** Offset after the last returned batch, where a sequential reader continues; the requested offset when `bytes` is empty. */
  readonly nextOffset: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

export interface SegmentInfo {
  readonly baseOffset: number;
  /** Offset after the segment's last batch. */
  readonly nextOffset: number;
  /** Bytes, including any still in the appender's buffer. */
  readonly size: number;
  /** The `.log` file. */
  readonly file: string;
}

export interface RetentionResult {
  readonly deletedSegments: number;
  readonly logStartOffset: number;
}

export type { TimestampOffset, CompactOptions, CompactResult };

const INT32_MAX = 0x7fff_ffff;

export class Log {
  private readonly segmentList: Segment[];
  private readonly appender: Appender;
  private readonly reader: LogReader;
  /** The flush timer, armed while the log has unwritten or unsynced bytes (under `interval` and `never`). */
  private timer: NodeJS.Timeout | null = null;
  /** Due time of the flush timer's last tick. */
  private lastFlushDue = 0;
  private startOffset: number;
  private endOffset: number;
  /** Bytes of all segments but the active one. */
  private closedBytes = 0;
  /**
   * Closed segments from this offset on were written since the last compaction (Kafka's cleaner
   * checkpoint, kept in memory: after a restart every closed segment counts as dirty once).
   */
  private cleanedUpTo = 0;
  private closed = false;
  /** A storage failure while writing: the log accepts no more writes until reopened (recovery sorts out the files). */
  private failure: TributaryError | null = null;

  /**
   * Opens (creating if missing) the log in `dir`, recovering it if it was not closed cleanly.
   * Throws INVALID_CONFIG for a bad or unknown config key, CORRUPT_LOG if the files hold corruption
   * that is not a torn tail, STORAGE_ERROR when the file system fails.
   */
  static open(dir: string, config: Partial<LogConfig> = {}, options: LogOptions = {}): Log {
    const resolved = resolveLogConfig(config);
    const clock = options.clock ?? Date.now;
    const loaded = loadLog(dir, resolved, clock());
    return new Log(dir, resolved, clock, loaded.segments, loaded.logStartOffset, loaded.report);
  }

  private constructor(
    readonly dir: string,
    readonly config: Readonly<LogConfig>,
    private readonly clock: () => number,
    segments: Segment[],
    logStartOffset: number,
    /** What opening the log found and did: clean or not, segments rescanned, indexes rebuilt, torn tail cut. */
    readonly recovery: RecoveryReport,
  ) {
    this.segmentList = segments;
    this.startOffset = logStartOffset;
    this.endOffset = this.active.nextOffset;
    for (let i = 0; i < segments.length - 1; i++) this.closedBytes += segments[i].size;
    this.appender = new Appender(config.appendBufferBytes);
    this.appender.attach(this.active);
    this.reader = new LogReader(this.segmentList, config.indexIntervalBytes);
  }

  /** The first offset a reader may ask for. */
  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The offset the next appended record gets. */
  get logEndOffset(): number {
    return this.endOffset;
  }

  /** Bytes in all segments, including any still in the appender's buffer. */
  get size(): number {
    return this.closedBytes + this.active.size;
  }

  get segments(): readonly SegmentInfo[] {
    return this.segmentList.map((segment) => ({ baseOffset: segment.baseOffset, nextOffset: segment.nextOffset, size: segment.size, file: segment.paths.log }));
  }

  /** Kafka's ListOffsets EARLIEST: the log start offset. */
  earliestOffset(): number {
    this.checkOpen();
    return this.startOffset;
  }

  /** Kafka's ListOffsets LATEST: the log end offset. */
  latestOffset(): number {
    this.checkOpen();
    return this.endOffset;
  }

  /**
   * Appends one or more concatenated RecordBatch v2 batches and assigns their offsets by patching
   * each batch's baseOffset in `batches` itself (the CRC does not cover it; nothing is
   * re-encoded). Every batch is checked before any is appended, so a rejected call appends
   * nothing: CORRUPT_BATCH (length, magic, CRC32C), RECORD_TOO_LARGE (over `maxBatchBytes`),
   * INVALID_RECORD (record count disagreeing with the offset range, as Kafka rejects it).
   */
  append(batches: Buffer, options: AppendOptions = {}): AppendResult {
    this.checkWritable();
    this.validate(batches, options.verifyCrc !== false);
    const logAppendTime = options.timestampType === 'log-append' ? this.clock() : undefined;
    const baseOffset = this.endOffset;
    try {
      for (let pos = 0; pos < batches.length; ) {
        const size = batchSizeAt(batches, pos);
        if (logAppendTime !== undefined) setLogAppendTime(batches, logAppendTime, pos, size);
        const lastOffset = this.endOffset + batches.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
        const maxTimestamp = maxTimestampAt(batches, pos);
        if (this.shouldRoll(size, lastOffset, maxTimestamp)) this.rollActive();
        setBaseOffset(batches, this.endOffset, pos);
        const active = this.active;
        const position = active.size;
        this.appender.append(batches, pos, size);
        active.indexBatch(position, size, lastOffset, maxTimestamp, this.config.indexIntervalBytes);
        this.endOffset = lastOffset + 1;
        pos += size;
      }
      if (this.config.fsync === 'always') this.appender.sync();
      else this.armFlushTimer();
    } catch (error) {
      throw this.fail(error);
    }
    const lastOffset = this.endOffset - 1;
    return logAppendTime === undefined ? { baseOffset, lastOffset } : { baseOffset, lastOffset, logAppendTime };
  }

  /**
   * Whole batches from the one holding `offset`: always that first batch, even if it is larger
   * than `maxBytes` (as Kafka's fetch), then more while the total stays within `maxBytes`, across
   * segments and including batches not yet written to the file. OFFSET_OUT_OF_RANGE outside
   * [logStartOffset, logEndOffset]; empty at logEndOffset; CORRUPT_BATCH if the first batch fails
   * verification (a later bad batch ends the result early, so the reader gets the error when it
   * asks for that batch's offset).
   */
  read(offset: number, maxBytes: number): ReadResult {
    this.checkOpen();
    this.checkOffset(offset);
    if (!Number.isInteger(maxBytes) || maxBytes < 0) {
      throw new TributaryError('INVALID_REQUEST', `maxBytes must be a non-negative integer, got ${maxBytes}`, { maxBytes });
    }
    if (offset === this.endOffset) return { bytes: Buffer.alloc(0), nextOffset: offset, logStartOffset: this.startOffset, logEndOffset: this.endOffset };
    const { bytes, nextOffset } = this.reader.read(offset, maxBytes);
    return { bytes, nextOffset, logStartOffset: this.startOffset, logEndOffset: this.endOffset };
  }

  /**
   * Kafka's ListOffsets for a timestamp: the first record at or after the log start offset whose
   * timestamp is >= `timestamp`, with its own timestamp (record precision: the batch that reaches
   * the timestamp is decoded). null when no record is that recent.
   */
  offsetForTimestamp(timestamp: number): TimestampOffset | null {
    this.checkOpen();
    if (!Number.isSafeInteger(timestamp)) {
      throw new TributaryError('INVALID_REQUEST', `timestamp must be an integer (epoch milliseconds), got ${timestamp}`, { timestamp });
    }
    return findOffsetForTimestamp(this.segmentList, timestamp, this.startOffset, this.config.indexIntervalBytes);
  }

  /**
   * Deletes the oldest closed segments that breach retention (see retention.ts for the rules and
   * why the active segment is kept) and advances the log start offset past them. `now` defaults
   * to the clock.
   */
  applyRetention(now: number = this.clock()): RetentionResult {
    this.checkWritable();
    // Kafka applies retention only to logs whose cleanup policy includes delete.
    if (this.config.cleanupPolicy === 'compact') return { deletedSegments: 0, logStartOffset: this.startOffset };
    const count = retentionCount(this.segmentList, this.config, now, this.startOffset, (segment) => this.largestTimestamp(segment));
    this.deleteOldest(count);
    return { deletedSegments: count, logStartOffset: this.startOffset };
  }

  /**
   * Kafka's DeleteRecords: makes `offset` the log start offset, so reads below it fail with
   * OFFSET_OUT_OF_RANGE, persists it (it survives a restart), and deletes the closed segments
   * wholly below it. An offset at or below the current start changes nothing. Returns the log
   * start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.checkWritable();
    if (!Number.isInteger(offset)) throw new TributaryError('INVALID_REQUEST', `offset must be an integer, got ${offset}`, { offset });
    if (offset > this.endOffset) {
      throw new TributaryError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}: the log ends at ${this.endOffset}`, {
        offset,
        logStartOffset: this.startOffset,
        logEndOffset: this.endOffset,
      });
    }
    if (offset <= this.startOffset) return this.startOffset;
    this.guard(() => writeCheckpoint(this.dir, LOG_START_CHECKPOINT, offset));
    this.startOffset = offset;
    let below = 0;
    while (below < this.segmentList.length - 1 && this.segmentList[below + 1].baseOffset <= offset) below++;
    this.deleteOldest(below);
    return this.startOffset;
  }

  /**
   * Compacts when enough of the closed bytes are dirty (`minCleanableDirtyRatio`, see
   * `cleanedUpTo`): what the partition does on each cleanup pass of a `cleanupPolicy: 'compact'`
   * log, as Kafka's cleaner picks the dirtiest logs. Null when there was nothing worth cleaning.
   */
  compactIfDirty(now: number = this.clock()): CompactResult | null {
    this.checkWritable();
    if (this.segmentList.length < 2 || this.closedBytes === 0) return null;
    let dirty = 0;
    for (let i = 0; i < this.segmentList.length - 1; i++) if (this.segmentList[i].baseOffset >= this.cleanedUpTo) dirty += this.segmentList[i].size;
    if (dirty === 0 || dirty / this.closedBytes < this.config.minCleanableDirtyRatio) return null;
    return this.compact({ now, deleteRetentionMs: this.config.deleteRetentionMs });
  }

  /**
   * Compacts the closed segments (`cleanupPolicy: 'compact'`, see cleaner.ts): keeps each key's
   * latest record, drops tombstones in segments older than `deleteRetentionMs` (default the
   * log's), keeps offsets, and swaps the rewritten segments in crash-safely. The active segment is
   * never rewritten. A failure leaves the log refusing writes until reopened, as any storage
   * failure does (reopening finishes or discards the interrupted swap).
   */
  compact(options: CompactOptions = {}, testHooks: { afterStep?: CleanerContext['afterStep'] } = {}): CompactResult {
    this.checkWritable();
    const deleteRetentionMs = options.deleteRetentionMs ?? this.config.deleteRetentionMs;
    if (!Number.isSafeInteger(deleteRetentionMs) || deleteRetentionMs < 0) {
      throw new TributaryError('INVALID_REQUEST', `deleteRetentionMs must be a non-negative integer, got ${deleteRetentionMs}`, { deleteRetentionMs });
    }
    let result: CompactResult | undefined;
    try {
      result = compactSegments({
        dir: this.dir,
        segments: this.segmentList,
        indexIntervalBytes: this.config.indexIntervalBytes,
        now: options.now ?? this.clock(),
        deleteRetentionMs,
        largestTimestamp: (segment) => this.largestTimestamp(segment),
        afterStep: testHooks.afterStep,
      });
      this.cleanedUpTo = this.active.baseOffset;
    } catch (error) {
      throw this.fail(error);
    } finally {
      this.closedBytes = 0;
      for (let i = 0; i < this.segmentList.length - 1; i++) this.closedBytes += this.segmentList[i].size;
    }
    return result;
  }

  /** Closes the active segment (if it holds anything) and starts a new one at the log end offset. */
  roll(): void {
    this.checkWritable();
    if (this.active.size > 0) this.guard(() => this.rollActive());
  }

  /**
   * Writes the appender's buffer to the segment file, so every append so far survives a process
   * crash, and fdatasyncs it, so they survive a machine crash too, whatever the fsync policy.
   * With `{ fsync: false }` it only writes (one `writeSync`, no disk wait): what a caller that
   * answers appends in groups needs to make them survive a process crash.
   */
  flush(options: FlushOptions = {}): void {
    this.checkWritable();
    this.guard(() => (options.fsync === false ? this.appender.writeOut() : this.appender.sync()));
  }

  /**
   * Flushes and fdatasyncs, writes the active segment's index files exactly sized, checkpoints the
   * recovery point and log start offset, releases every file, and marks the shutdown clean so
   * the next open skips recovery. Every other method then throws LOG_CLOSED; calling close again
   * does nothing. If a write fails, the log is released anyway and the error thrown; the next
   * open recovers as after a crash.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      if (this.failure === null) {
        this.appender.sync();
        this.active.writeIndexes();
        writeCheckpoint(this.dir, RECOVERY_POINT_CHECKPOINT, this.endOffset);
        writeCheckpoint(this.dir, LOG_START_CHECKPOINT, this.startOffset);
        const marker = path.join(this.dir, CLEAN_SHUTDOWN_MARKER);
        closeFile(openFile(marker, 'w'), marker);
        syncDir(this.dir);
      }
    } finally {
      this.appender.detach();
      for (const segment of this.segmentList) segment.close();
    }
  }

  private get active(): Segment {
    return this.segmentList[this.segmentList.length - 1];
  }

  /** Kafka's LogSegment.shouldRoll, for one batch; an empty segment is never rolled. */
  private shouldRoll(size: number, lastOffset: number, maxTimestamp: number): boolean {
    const active = this.active;
    if (active.size === 0) return false;
    return (
      active.size + size > this.config.segmentBytes ||
      lastOffset - active.baseOffset > INT32_MAX ||
      active.indexesFull(this.config.maxIndexBytes) ||
      this.timeWaitedForRoll(active, maxTimestamp) > this.config.segmentMs
    );
  }

  /**
   * Kafka's timeWaitedForRoll: how far the incoming batch's max timestamp is past the segment's
   * first batch's, or, when that batch has no timestamp, how long the segment has existed.
   */
  private timeWaitedForRoll(segment: Segment, maxTimestamp: number): number {
    if (segment.firstBatchTimestamp === undefined) {
      const header = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
      segment.read(header, 0, 0, BATCH_HEADER_SIZE);
      segment.firstBatchTimestamp = maxTimestampAt(header, 0);
    }
    return segment.firstBatchTimestamp >= 0 ? maxTimestamp - segment.firstBatchTimestamp : this.clock() - segment.createdAt;
  }

  /**
   * Makes the active segment durable and closed, then starts the next: fdatasync the old segment
   * before the new file exists (so no crash can tear a segment that has a successor), write its
   * index files, create the new segment, and only then checkpoint the new recovery point.
   */
  private rollActive(): void {
    const old = this.active;
    this.appender.sync();
    this.appender.detach();
    old.writeIndexes();
    const next = Segment.create(this.dir, this.endOffset, this.clock());
    syncDir(this.dir);
    this.segmentList.push(next);
    this.closedBytes += old.size;
    this.appender.attach(next);
    writeCheckpoint(this.dir, RECOVERY_POINT_CHECKPOINT, next.baseOffset);
  }

  private deleteOldest(count: number): void {
    if (count === 0) return;
    this.guard(() => {
      for (const segment of this.segmentList.splice(0, count)) {
        this.closedBytes -= segment.size;
        segment.delete();
      }
    });
    this.startOffset = Math.max(this.startOffset, this.segmentList[0].baseOffset);
  }

  /** Kafka's LogSegment.largestTimestamp: the largest batch timestamp, or the file's mtime if none has one. */
  private largestTimestamp(segment: Segment): number {
    ensureIndexes(segment, this.config.indexIntervalBytes);
    return segment.maxTimestamp >= 0 ? segment.maxTimestamp : modifiedTime(segment.paths.log);
  }

  /** Checks every batch of an append before any is applied. */
  private validate(batches: Buffer, verifyCrc: boolean): void {
    if (!Buffer.isBuffer(batches) || batches.length === 0) {
      throw new TributaryError('INVALID_RECORD', 'an append needs at least one record batch in a non-empty Buffer', { length: Buffer.isBuffer(batches) ? 0 : typeof batches });
    }
    for (let pos = 0; pos < batches.length; ) {
      if (batches.length - pos >= LOG_OVERHEAD) {
        const size = batchSizeAt(batches, pos);
        if (size > this.config.maxBatchBytes) {
          throw new TributaryError('RECORD_TOO_LARGE', `record batch at byte ${pos} is ${size} bytes, over maxBatchBytes ${this.config.maxBatchBytes}`, {
            position: pos,
            size,
            maxBatchBytes: this.config.maxBatchBytes,
          });
        }
      }
      const problem = verifyCrc ? checkBatch(batches, pos, batches.length) : framingProblem(batches, pos);
      if (problem !== null) {
        throw new TributaryError('CORRUPT_BATCH', `record batch at byte ${pos} of the append is invalid: ${problem}`, { position: pos, problem });
      }
      const lastOffsetDelta = batches.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
      const recordCount = batches.readInt32BE(pos + RECORD_COUNT_OFFSET);
      if (lastOffsetDelta < 0 || recordCount !== lastOffsetDelta + 1) {
        throw new TributaryError('INVALID_RECORD', `record batch at byte ${pos} holds ${recordCount} records but spans ${lastOffsetDelta + 1} offsets`, {
          position: pos,
          recordCount,
          lastOffsetDelta,
        });
      }
      if (!Number.isSafeInteger(maxTimestampAt(batches, pos))) {
        throw new TributaryError('INVALID_RECORD', `record batch at byte ${pos} has a max timestamp beyond 2^53`, { position: pos });
      }
      pos += batchSizeAt(batches, pos);
    }
  }

  private checkOffset(offset: number): void {
    if (!Number.isInteger(offset)) throw new TributaryError('INVALID_REQUEST', `offset must be an integer, got ${offset}`, { offset });
    if (offset < this.startOffset || offset > this.endOffset) {
      throw new TributaryError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside the log's range [${this.startOffset}, ${this.endOffset}]`, {
        offset,
        logStartOffset: this.startOffset,
        logEndOffset: this.endOffset,
      });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new TributaryError('LOG_CLOSED', `the log in ${this.dir} is closed`, { dir: this.dir });
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failure !== null) {
      throw new TributaryError('STORAGE_ERROR', `the log in ${this.dir} failed earlier and accepts no writes until reopened: ${this.failure.message}`, { dir: this.dir }, { cause: this.failure });
    }
  }

  /** Runs a step that changes files; a failure leaves the log refusing writes (see `failure`). */
  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      throw this.fail(error);
    }
  }

  private fail(error: unknown): unknown {
    if (this.failure === null) {
      this.failure = TributaryError.is(error) ? error : new TributaryError('STORAGE_ERROR', `the log in ${this.dir} failed: ${String(error)}`, { dir: this.dir }, { cause: error });
    }
    return error;
  }

  /**
   * Arms the flush timer, unless armed, for the first multiple of flushIntervalMs since the epoch
   * after both the clock and the last tick's due time (see the module comment on timers): a timer
   * may run a little before its due time by Date.now(), and the next tick must not then come at
   * once for the same multiple. The wait never exceeds flushIntervalMs, so that a wall clock set
   * back does not hold the next fdatasync back with it. The timer is armed only while the log has
   * something to write or sync: an idle log costs no wake-ups.
   */
  private armFlushTimer(): void {
    if (this.timer !== null || this.closed || this.config.fsync === 'always') return;
    const interval = this.config.flushIntervalMs;
    const due = (Math.floor(Math.max(Date.now(), this.lastFlushDue) / interval) + 1) * interval;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastFlushDue = due;
      this.onFlushTimer();
      if (this.failure === null && this.flushPending) this.armFlushTimer();
    }, Math.min(interval, Math.max(0, due - Date.now()))).unref();
  }

  /** The flush timer has work: buffered bytes to write, and under `interval` written bytes to fdatasync. */
  private get flushPending(): boolean {
    return this.config.fsync === 'interval' ? this.appender.dirty : this.appender.pending > 0;
  }

  private onFlushTimer(): void {
    if (this.closed || this.failure !== null || !this.flushPending) return;
    try {
      if (this.config.fsync === 'interval') this.appender.syncInBackground((error) => this.fail(error));
      else this.appender.writeOut();
    } catch (error) {
      this.fail(error);
    }
  }
}

/** checkBatch without the CRC: whether a whole batch with magic 2 starts at `pos`. */
function framingProblem(buf: Buffer, pos: number): BatchValidity {
  const remaining = buf.length - pos;
  if (remaining < BATCH_HEADER_SIZE) return 'TRUNCATED_HEADER';
  const size = batchSizeAt(buf, pos);
  if (size < BATCH_HEADER_SIZE) return 'INVALID_LENGTH';
  if (size > remaining) return 'TRUNCATED_BATCH';
  if (buf[pos + MAGIC_OFFSET] !== CURRENT_MAGIC) return 'INVALID_MAGIC';
  return null;
}

