/**
 * One partition as an actor: it owns the partition's `Log`, its idempotent-producer state and its
 * parked long-poll fetches, and is driven by exactly one thread (its `PartitionHost`), one request
 * at a time. Everything here is synchronous except the long-poll timers.
 *
 * ## Group commit: what an answered append guarantees
 *
 * `append` puts the batch into the log's append buffer, which lives in the worker thread's memory
 * and dies with it. So the host does not answer an append at once: it collects the answers of
 * one turn of the event loop, calls `commit()` on every partition appended to in that turn, and
 * only then posts the answers (and every other answer queued behind them, so a fetch never hands
 * out bytes that are not yet in the file either: those are the high watermark's job in Kafka).
 * One write per partition per turn serves every append of that turn.
 *
 * `commit()` writes the buffer to the segment file without fdatasync (`Log.flush({ fsync: false })`);
 * under `fsync: 'always'` there is nothing left to do, since `Log.append` already wrote and
 * fdatasynced before returning. So an answered append (any acks: acks=0 is answered too, and the
 * runtime ignores the answer; acks=1 and acks=-1 get the same treatment, -1 meaning "durable per
 * the topic's fsync policy") survives:
 *
 * | fsync policy | worker thread crash | process crash | machine crash (power loss, kernel panic) |
 * | --- | --- | --- | --- |
 * | `always` | yes | yes | yes: fdatasynced before the answer |
 * | `interval` | yes | yes | only once fdatasynced: at the latest `flushIntervalMs` after the append (the log's timer), or at a `flush` request, a segment roll or a close |
 * | `never` | yes | yes | only once the OS writes the pages back (Linux: typically within 30 s), or at a `flush` request, a segment roll or a close |
 *
 * "Survives" means the partition reopened after the crash (recovery) holds the batch at the same
 * offsets, and a producer's retry of it is answered as a duplicate with those offsets (if it lies
 * within the tail that producer-state.ts rescans on open; see its bound). A worker
 * or process crash cannot lose bytes written to the file, since they are in the kernel's page
 * cache. A commit that fails turns every answer of that partition still queued into the error:
 * the outcome of those appends is unknown, and an idempotent producer's retry resolves it.
 *
 * ## Long-poll fetches
 *
 * As Kafka's DelayedFetch: a fetch is answered at once when at least `minBytes` (capped by
 * `maxBytes`) are available from its offset or `maxWaitMs` is 0; otherwise it is parked until
 * appends bring enough bytes or the wait expires, and then answered with whatever a read returns
 * at that moment (possibly nothing, or an error such as OFFSET_OUT_OF_RANGE if records were
 * deleted meanwhile). A closing partition answers its parked fetches the same way.
 */
import fs from 'node:fs';
import { TributaryError } from '../errors.js';
import { Log, type LogConfig } from '../log/index.js';
import { BATCH_HEADER_SIZE, batchSizeAt, checkBatch, maxTimestampAt } from '../record/batch-header.js';
import type { AppendResponse, FetchResponse, ListOffsetsResponse, OffsetSpec, PartitionRef, PartitionState, WorkerRequests } from '../runtime/messages.js';
import { ProducerState, producerBatchAt, type AppendedBatch } from './producer-state.js';

export interface PartitionActorOptions {
  /** Epoch milliseconds for the log (LogAppendTime, time-based rolls). Default Date.now. */
  readonly clock?: () => number;
}

export type FetchArgs = WorkerRequests['fetch']['args'];

export type FetchOutcome = { readonly ok: true; readonly result: FetchResponse } | { readonly ok: false; readonly error: unknown };

interface ParkedFetch {
  readonly args: FetchArgs;
  /** Bytes available from the fetch offset so far. */
  available: number;
  readonly timer: NodeJS.Timeout;
  readonly answer: (outcome: FetchOutcome) => void;
}

export class PartitionActor {
  readonly topic: string;
  readonly partition: number;
  private readonly parked = new Set<ParkedFetch>();

  private constructor(
    ref: PartitionRef,
    readonly dir: string,
    private readonly log: Log,
    private readonly producers: ProducerState,
  ) {
    this.topic = ref.topic;
    this.partition = ref.partition;
  }

  /** Opens (recovering if needed) the log in `dir` and rebuilds producer state from its tail. */
  static open(ref: PartitionRef, dir: string, config: Partial<LogConfig>, options: PartitionActorOptions = {}): PartitionActor {
    const log = Log.open(dir, config, options.clock === undefined ? {} : { clock: options.clock });
    try {
      return new PartitionActor(ref, dir, log, ProducerState.rebuild(log, `${ref.topic}-${ref.partition}`));
    } catch (error) {
      log.close();
      throw error;
    }
  }

  get state(): PartitionState {
    const log = this.log;
    return {
      topic: this.topic,
      partition: this.partition,
      logStartOffset: log.earliestOffset(),
      logEndOffset: log.logEndOffset,
      sizeBytes: log.size,
      segments: log.segments.length,
    };
  }

  /**
   * Appends exactly one RecordBatch v2 (Kafka's rule for magic 2), unless it is an idempotent
   * producer's retry, which is answered with the original offsets. The batch's bytes are patched
   * in place (offset, and LogAppendTime when `logAppendTime`). The answer, duplicate or not, may
   * be sent only after `commit()` succeeds: a duplicate's original may still be unwritten, or its
   * write may have failed (see the module comment).
   */
  append(bytes: Uint8Array, logAppendTime: boolean): AppendResponse {
    if (!(bytes instanceof Uint8Array)) {
      throw new TributaryError('INVALID_REQUEST', `append needs the batch as a Uint8Array, got ${typeof bytes}`, { type: typeof bytes });
    }
    const batch = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (batch.length < BATCH_HEADER_SIZE || batchSizeAt(batch) !== batch.length) {
      this.assertIntact(batch);
      throw new TributaryError('INVALID_RECORD', `an append carries exactly one record batch; got ${batch.length} bytes, of which the first batch is ${batchSizeAt(batch)}`, {
        length: batch.length,
        firstBatchSize: batchSizeAt(batch),
      });
    }
    const identity = producerBatchAt(batch);
    if (identity === null) throw this.rejection(batch, new TributaryError('INVALID_RECORD', `clients may not append control batches to ${this.name}`, {}));
    let duplicate: AppendedBatch | null;
    try {
      duplicate = this.producers.check(identity);
    } catch (error) {
      throw this.rejection(batch, error);
    }
    if (duplicate !== null) {
      this.assertIntact(batch);
      return this.appendResponse(duplicate.baseOffset, duplicate.lastOffset, logAppendTime ? duplicate.timestamp : undefined, true);
    }
    const result = this.log.append(batch, logAppendTime ? { timestampType: 'log-append' } : {});
    this.producers.record(identity, result.baseOffset, result.lastOffset, maxTimestampAt(batch));
    this.wakeFetches(batch.length);
    return this.appendResponse(result.baseOffset, result.lastOffset, result.logAppendTime, false);
  }

  /** Makes this turn's appends reach the segment file before their answers leave (see the module comment). */
  commit(): void {
    this.log.flush({ fsync: false });
  }

  /** Answers through `answer`, at once or, for a long poll, later. Throws for bad arguments or a bad offset. */
  fetch(args: FetchArgs, answer: (outcome: FetchOutcome) => void): void {
    for (const field of ['maxWaitMs', 'minBytes'] as const) {
      const value = args[field];
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TributaryError('INVALID_REQUEST', `fetch ${field} must be a non-negative integer, got ${value}`, { [field]: value });
      }
    }
    const result = this.read(args.offset, args.maxBytes);
    if (args.maxWaitMs === 0 || satisfied(args, result.bytes.length)) {
      answer({ ok: true, result });
      return;
    }
    const fetch: ParkedFetch = {
      args,
      available: result.bytes.length,
      timer: setTimeout(() => this.release(fetch), args.maxWaitMs),
      answer,
    };
    this.parked.add(fetch);
  }

  /** Whole batches from `offset`, at least one even if larger than `maxBytes` (Kafka's rule), without waiting. */
  read(offset: number, maxBytes: number): FetchResponse {
    const { bytes, nextOffset, logStartOffset, logEndOffset } = this.log.read(offset, maxBytes);
    return { bytes, nextOffset, logStartOffset, highWatermark: logEndOffset };
  }

  listOffsets(spec: OffsetSpec): ListOffsetsResponse {
    if (spec === 'earliest') return { offset: this.log.earliestOffset(), timestamp: -1 };
    if (spec === 'latest') return { offset: this.log.latestOffset(), timestamp: -1 };
    if (typeof spec === 'object' && spec !== null && typeof spec.timestamp === 'number') {
      return this.log.offsetForTimestamp(spec.timestamp) ?? { offset: -1, timestamp: -1 };
    }
    throw new TributaryError('INVALID_REQUEST', `listOffsets spec must be 'earliest', 'latest' or { timestamp }, got ${JSON.stringify(spec)}`, { spec });
  }

  /** Kafka's DeleteRecords; returns the new log start offset. */
  deleteRecords(beforeOffset: number): number {
    return this.log.deleteRecordsBefore(beforeOffset);
  }

  /**
   * One cleanup pass, by the topic's cleanup policy: retention deletes old segments of a `delete`
   * log; a `compact` log is compacted if dirty enough. Returns the segments deleted or rewritten.
   * Compaction runs on this thread, so the partition answers nothing else while it rewrites.
   */
  applyRetention(now: number): number {
    if (this.log.config.cleanupPolicy === 'compact') return this.log.compactIfDirty(now)?.segmentsCleaned ?? 0;
    return this.log.applyRetention(now).deletedSegments;
  }

  /** Writes and fdatasyncs, whatever the fsync policy. */
  flush(): void {
    this.log.flush();
  }

  /** Answers parked fetches, closes the log (which writes and fdatasyncs everything) and, if asked, deletes the partition's directory. */
  close(deleteFiles: boolean): void {
    for (const fetch of this.parked) this.release(fetch);
    this.log.close();
    if (deleteFiles) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private get name(): string {
    return `${this.topic}-${this.partition}`;
  }


  private wakeFetches(appended: number): void {
    for (const fetch of this.parked) {
      fetch.available += appended;
      if (satisfied(fetch.args, fetch.available)) this.release(fetch);
    }
  }

  private release(fetch: ParkedFetch): void {
    clearTimeout(fetch.timer);
    this.parked.delete(fetch);
    let outcome: FetchOutcome;
    try {
      outcome = { ok: true, result: this.read(fetch.args.offset, fetch.args.maxBytes) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    fetch.answer(outcome);
  }

  private appendResponse(baseOffset: number, lastOffset: number, logAppendTime: number | undefined, duplicate: boolean): AppendResponse {
    const logStartOffset = this.log.logStartOffset;
    return logAppendTime === undefined ? { baseOffset, lastOffset, logStartOffset, duplicate } : { baseOffset, lastOffset, logStartOffset, logAppendTime, duplicate };
  }

  /**
   * A rejection decided from header fields is only trustworthy if the bytes are intact: a corrupt
   * batch must be reported as CORRUPT_BATCH (retriable), never as a fatal sequence error. The CRC
   * is checked here only on these rare paths; on the happy path `Log.append` checks it.
   */
  private rejection(batch: Buffer, error: unknown): unknown {
    this.assertIntact(batch);
    return error;
  }

  private assertIntact(batch: Buffer): void {
    const problem = checkBatch(batch, 0, batch.length);
    if (problem !== null) throw new TributaryError('CORRUPT_BATCH', `record batch appended to ${this.name} is invalid: ${problem}`, { position: 0, problem });
  }
}

/** Kafka's DelayedFetch condition: enough bytes, counting at most maxBytes. */
function satisfied(args: FetchArgs, available: number): boolean {
  return Math.min(available, args.maxBytes) >= args.minBytes;
}
