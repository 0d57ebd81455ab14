/**
 * The bookkeeping between `send` calls and the batches that carry their records.
 *
 * A `SendJob` is one `send`/`sendBatch` call: one promise, settled when every batch holding one
 * of its records is done. A `ProducerBatch` lists its jobs as segments (a job's run of
 * consecutive records in the batch), so completion costs one step per job per batch, never one
 * per record.
 *
 * A record is encoded into its batch's buffer the moment it joins the batch, so a batch holds
 * bytes, not the caller's keys and values: nothing per record stays on the heap for the garbage
 * collector to trace and copy while the batch lingers and awaits its acknowledgement.
 */
import { frameRecordBatch, writeRecord } from '../record/batch-encoder.js';
import { RECORDS_OFFSET } from '../record/batch-header.js';
import type { CompressionName } from '../record/index.js';
import type { Acks, AppendResponse } from '../runtime/messages.js';
import { varintSize } from '../record/varint.js';
import type { SharedFramePool } from './frame-pool.js';
import type { PreparedTopic } from './producer-message.js';

/**
 * KafkaJS's RecordMetadata, one per topic-partition a send wrote to. Offsets and times are
 * decimal strings, as KafkaJS returns them, so ported code that parses or compares them behaves
 * the same. `baseOffset` is the offset of the send's first record in that partition;
 * `logAppendTime` is '-1' unless the topic stamps LogAppendTime. With acks 0 nothing is awaited,
 * so all three are '-1' (as Kafka's clients report them).
 */
export interface RecordMetadata {
  readonly topicName: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly baseOffset: string;
  readonly logAppendTime: string;
  readonly logStartOffset: string;
}

const UNKNOWN = '-1';

export class SendJob {
  readonly promise: Promise<RecordMetadata[]>;
  /** The records to append; dropped once appended, so a job awaiting acknowledgement holds none. */
  topics: readonly PreparedTopic[] | null;
  /**
   * Batches still holding records of this job, plus one while its records are being appended,
   * so that a batch finishing during the append (acks 0 completes on sending) cannot settle the
   * job before its last record is in.
   */
  private pending = 1;
  private settled = false;
  private results: RecordMetadata[] | null = null;
  private resolveJob!: (results: RecordMetadata[]) => void;
  private rejectJob!: (error: unknown) => void;

  constructor(
    /** Increasing per producer: lets a partition tell whether this job already wrote to it. */
    readonly id: number,
    topics: readonly PreparedTopic[],
    readonly acks: Acks,
    readonly timeoutMs: number,
    /** The most its records can take of `bufferMemory`. */
    readonly maxBytes: number,
  ) {
    this.topics = topics;
    this.promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      this.resolveJob = resolve;
      this.rejectJob = reject;
    });
  }

  addBatch(): void {
    this.pending++;
  }

  addResult(result: RecordMetadata): void {
    (this.results ??= []).push(result);
  }

  /** One batch (or the append phase) is done with this job. */
  release(): void {
    if (--this.pending > 0 || this.settled) return;
    this.settled = true;
    const results = this.results ?? [];
    if (results.length > 1) results.sort(byTopicPartition);
    this.resolveJob(results);
  }

  /** The first error wins; batches still in flight finish, but the caller hears now. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectJob(error);
  }
}

function byTopicPartition(a: RecordMetadata, b: RecordMetadata): number {
  if (a.topicName !== b.topicName) return a.topicName < b.topicName ? -1 : 1;
  return a.partition - b.partition;
}

interface Segment {
  readonly job: SendJob;
  /** Index in the batch of the job's first record here. */
  readonly firstIndex: number;
  /** This is the job's first batch in the partition, so its offset is the one the job reports. */
  readonly reports: boolean;
}

/** Encoded size of a record after its length varint: attributes, the two deltas, and the payload. */
export function recordBody(payload: number, timestampDelta: number, offsetDelta: number): number {
  return 1 + varintSize(timestampDelta) + varintSize(offsetDelta) + payload;
}

/** A waiter of `flush()` counting the batches it still waits for. */
export interface FlushBarrier {
  remaining: number;
  readonly resolve: () => void;
}

/**
 * The buffers batches write their records into, reused: a batch's buffer lives from its first
 * record until it is acknowledged, long enough that allocating one per batch would keep the
 * collector busy with buffers of a few generations. Buffers are handed out newest first (still
 * in cache) and at most `FREE_BYTES` of them wait here for a batch.
 */
export class BatchBufferPool {
  private readonly free: Buffer[] = [];
  private freeBytes = 0;
  /** The least `firstBytes` falls to: min(batchBytes, 16 KiB). */
  private readonly minFirstBytes: number;
  /**
   * Size of a new batch's first buffer. It starts small, so that lingering batches of a few
   * records do not take `batchBytes` each. A batch that outgrows it raises it to the size grown
   * to, and a batch finished within a quarter of it halves it: a producer whose batches fill then
   * starts each at the size they reach. With a fixed 16 KiB start, the buffers given back by
   * growing batches were the next batches' first buffers, and a third of all batches grew, copying
   * ~17% of the bytes written (`npm run bench`, 1M records).
   */
  private firstBytes: number;

  constructor(
    /** No batch grows past this, unless a single record needs more. */
    private readonly batchBytes: number,
  ) {
    this.minFirstBytes = Math.min(batchBytes, INITIAL_BUFFER_BYTES);
    this.firstBytes = this.minFirstBytes;
  }

  /** A buffer of at least `minBytes` (and at least the size a batch starts with). */
  take(minBytes: number): Buffer {
    const free = this.free;
    // Smaller buffers would only be outgrown; they wait here from before `firstBytes` rose.
    while (free.length > 0 && free[free.length - 1].length < this.firstBytes) this.freeBytes -= free.pop()!.length;
    if (free.length > 0 && free[free.length - 1].length >= minBytes) {
      const buffer = free.pop()!;
      this.freeBytes -= buffer.length;
      return buffer;
    }
    return Buffer.allocUnsafeSlow(Math.max(minBytes, this.firstBytes));
  }

  /** A buffer of at least `minBytes` holding the first `used` bytes of `buffer`, which is given back. */
  grow(buffer: Buffer, used: number, minBytes: number): Buffer {
    // Doubling copies each byte about once more in all; the cap keeps a full batch within batchBytes.
    const bigger = this.take(Math.max(minBytes, Math.min(buffer.length * 2, this.batchBytes)));
    buffer.copy(bigger, 0, 0, used);
    this.firstBytes = Math.max(this.firstBytes, Math.min(bigger.length, this.batchBytes));
    this.give(buffer);
    return bigger;
  }

  /** Gives back the buffer of a finished batch, which wrote `used` bytes into it. */
  finished(buffer: Buffer, used: number): void {
    if (used * 4 <= this.firstBytes) this.firstBytes = Math.max(this.minFirstBytes, this.firstBytes / 2);
    this.give(buffer);
  }

  give(buffer: Buffer): void {
    if (buffer.length < this.firstBytes || this.freeBytes + buffer.length > FREE_BYTES) return;
    this.free.push(buffer);
    this.freeBytes += buffer.length;
  }
}

const INITIAL_BUFFER_BYTES = 16 * 1024;
/** Enough free buffers for 64 default (64 KiB) batches: what 8 partitions with 5 in flight and one open each hold, and then some. */
const FREE_BYTES = 4 * 1024 * 1024;

/** A batch of one partition: records written as they join, framed and sent once sealed, retried from the same bytes. */
export class ProducerBatch {
  count = 0;
  /**
   * Largest timestamp so far, as its delta from `baseTimestamp`: a small integer, where storing an
   * epoch-millisecond double into a field would allocate a heap number per record.
   */
  private maxTimestampDelta = 0;
  /**
   * The records in Kafka's format, from `RECORDS_OFFSET` (room for the batch header) to `end`.
   * The batch keeps them until it is done: what crosses to the partition's thread is a framed copy
   * whose ArrayBuffer is transferred (detached here), so a retry frames these again. Null once
   * done and given back to the pool.
   */
  private buffer: Buffer | null;
  private end = RECORDS_OFFSET;
  /** The smallest `timeout` of the sends in the batch. */
  timeoutMs: number;
  /** Set when sealed: the framed batch, or null once transferred to the partition's thread (framed again for a retry). */
  bytes: Buffer | null = null;
  producerId = -1;
  producerEpoch = -1;
  baseSequence = -1;
  /** Failed attempts of this batch's own (not counting those caused by an earlier batch's failure). */
  failures = 0;
  /** Attempt counter: an answer for an earlier attempt (one that timed out) is ignored. */
  attempt = 0;
  /** An attempt is awaiting its answer. */
  inFlight = false;
  /** Order of sealing, producer-wide; within a partition it is the order of sequence numbers. */
  sealOrder = 0;
  done = false;
  flushBarriers: FlushBarrier[] | null = null;
  private readonly segments: Segment[] = [];
  private lastJob: SendJob | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly acks: Acks,
    readonly compression: CompressionName,
    /** The topic stamps LogAppendTime (the partition rewrites the batch's timestamps). */
    readonly logAppendTime: boolean,
    /** Timestamp of the first record, from which the others' deltas are encoded. */
    readonly baseTimestamp: number,
    /** `performance.now()` when the batch opened; it seals `lingerMs` later at the latest. */
    readonly openedAt: number,
    timeoutMs: number,
    private readonly pool: BatchBufferPool,
    /** Encoded size of the first record, which the first buffer must hold. */
    firstRecordBytes: number,
  ) {
    this.timeoutMs = timeoutMs;
    this.buffer = pool.take(RECORDS_OFFSET + firstRecordBytes);
  }

  get recordCount(): number {
    return this.count;
  }

  get maxTimestamp(): number {
    return this.baseTimestamp + this.maxTimestampDelta;
  }

  /** Exact encoded size of the records, uncompressed (the batch header excluded). */
  get recordBytes(): number {
    return this.end - RECORDS_OFFSET;
  }

  /**
   * Writes record `index` of `prepared`, of a `job`, into the batch; `body` is its encoded size
   * after the length varint (see `recordBody`). `firstInPartition` tells whether the job has no
   * earlier batch in this partition. Returns the record's encoded size.
   */
  add(prepared: PreparedTopic, index: number, body: number, job: SendJob, firstInPartition: boolean): number {
    if (job !== this.lastJob) {
      this.lastJob = job;
      this.segments.push({ job, firstIndex: this.count, reports: firstInPartition });
      job.addBatch();
      if (job.timeoutMs < this.timeoutMs) this.timeoutMs = job.timeoutMs;
    }
    const timestampDelta = prepared.timestamps[index] - this.baseTimestamp;
    const size = varintSize(body) + body;
    let buffer = this.buffer!;
    if (this.end + size > buffer.length) this.buffer = buffer = this.pool.grow(buffer, this.end, this.end + size);
    const headers = prepared.headers === null ? undefined : prepared.headers[index];
    this.end = writeRecord(
      buffer,
      this.end,
      body,
      timestampDelta,
      this.count++,
      prepared.keys[index],
      prepared.keyLengths[index],
      prepared.values[index],
      prepared.valueLengths[index],
      headers,
    );
    if (timestampDelta > this.maxTimestampDelta) this.maxTimestampDelta = timestampDelta;
    return size;
  }

  /**
   * The batch as it is sent: framed, compressed and checksummed under its current producer id,
   * epoch and sequence, into a buffer from `frames` when given (see frame-pool.ts).
   */
  frame(frames?: SharedFramePool): Buffer {
    const options = { compression: this.compression, producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: this.baseSequence };
    const records = this.buffer!.subarray(RECORDS_OFFSET, this.end);
    return frames === undefined ? frameRecordBatch(records, this, options) : frameRecordBatch(records, this, options, (size) => frames.take(size));
  }

  /** Gives the batch's buffer back to the pool once it is done; nothing reads it after that. */
  releaseBuffer(): void {
    if (this.buffer === null) return;
    this.pool.finished(this.buffer, this.end);
    this.buffer = null;
  }

  /** Settles the batch's share of every job it holds records of. `response` is null for acks 0, which learns no offsets. */
  complete(response: AppendResponse | null): void {
    this.done = true;
    // Once per batch, not per segment: a batch of many one-record sends would format these once per send.
    const logAppendTime = response?.logAppendTime === undefined ? UNKNOWN : String(response.logAppendTime);
    const logStartOffset = response === null ? UNKNOWN : String(response.logStartOffset);
    for (const { job, firstIndex, reports } of this.segments) {
      if (reports) {
        job.addResult({
          topicName: this.topic,
          partition: this.partition,
          errorCode: 0,
          baseOffset: response === null ? UNKNOWN : String(response.baseOffset + firstIndex),
          logAppendTime,
          logStartOffset,
        });
      }
      job.release();
    }
  }

  fail(error: unknown): void {
    this.done = true;
    for (const { job } of this.segments) {
      job.fail(error);
      job.release();
    }
  }
}
