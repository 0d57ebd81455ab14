/**
 * The bookkeeping between `send` calls and the batches that carry their records.
 *
 * A `SendJob` is one `send`/`sendBatch` call: one promise, settled when every batch holding one
 * of its records is done. A `ProducerBatch` lists its jobs as segments (a job's run of
 * consecutive records in the batch), so completion costs one step per job per batch, never one
 * per record.
 */
import type { CompressionName } from '../record/index.js';
import type { Acks, AppendResponse } from '../runtime/messages.js';
import type { SizedRecords } from '../record/batch-encoder.js';
import { varintSize } from '../record/varint.js';
import type { MessageHeadersArray, PreparedTopic } from './producer-message.js';

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
 * A batch's records are kept as columns with their sizes (`SizedRecords`), so sealing encodes
 * them without measuring anything again, and a retry re-encodes the same bytes from them.
 */
export class ProducerBatch implements SizedRecords {
  count = 0;
  readonly keys: (Buffer | string | null)[] = [];
  readonly values: (Buffer | string | null)[] = [];
  /** Null until a record with headers joins. */
  headers: (MessageHeadersArray | undefined)[] | null = null;
  readonly keyLengths: number[] = [];
  readonly valueLengths: number[] = [];
  readonly timestampDeltas: number[] = [];
  readonly bodySizes: number[] = [];
  maxTimestamp: number;
  /** Exact encoded size of the records, uncompressed (the batch header excluded). */
  recordBytes = 0;
  /** The smallest `timeout` of the sends in the batch. */
  timeoutMs: number;
  /** Set when sealed: the encoded batch, or null once transferred to the partition's thread (re-encoded for a retry). */
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
  ) {
    this.timeoutMs = timeoutMs;
    this.maxTimestamp = baseTimestamp;
  }

  get recordCount(): number {
    return this.count;
  }

  /** `SizedRecords.recordsSize`: the records' encoded size. */
  get recordsSize(): number {
    return this.recordBytes;
  }

  /**
   * Adds record `index` of `prepared`, of a `job`; `body` is its encoded size after the length
   * varint (see `recordBody`). `firstInPartition` tells whether the job has no earlier batch in
   * this partition. Returns the record's encoded size.
   */
  add(prepared: PreparedTopic, index: number, body: number, job: SendJob, firstInPartition: boolean): number {
    if (job !== this.lastJob) {
      this.lastJob = job;
      this.segments.push({ job, firstIndex: this.count, reports: firstInPartition });
      job.addBatch();
      if (job.timeoutMs < this.timeoutMs) this.timeoutMs = job.timeoutMs;
    }
    const timestamp = prepared.timestamps[index];
    const at = this.count++;
    this.keys.push(prepared.keys[index]);
    this.values.push(prepared.values[index]);
    const headers = prepared.headers === null ? undefined : prepared.headers[index];
    if (headers !== undefined) (this.headers ??= new Array<MessageHeadersArray | undefined>(at).fill(undefined))[at] = headers;
    else if (this.headers !== null) this.headers.push(undefined);
    this.keyLengths.push(prepared.keyLengths[index]);
    this.valueLengths.push(prepared.valueLengths[index]);
    this.timestampDeltas.push(timestamp - this.baseTimestamp);
    this.bodySizes.push(body);
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    const size = varintSize(body) + body;
    this.recordBytes += size;
    return size;
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
