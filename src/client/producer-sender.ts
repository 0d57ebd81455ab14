/**
 * Sends sealed batches to their partitions: at most `maxInFlight` appends per partition awaiting
 * an answer, retries with backoff, and the idempotent producer's sequence numbers.
 *
 * ## Retries keep the bytes
 *
 * A retry must carry the same producer id, epoch and sequence as the first attempt, so that a
 * partition that already appended the batch (the ambiguous case: it appended, then the answer was
 * lost) recognizes it and answers with the original offsets instead of appending it twice. A
 * batch is framed into a chunk of shared memory (see frame-pool.ts) that the request lends to the
 * partition's thread: the chunk returns to the pool when that thread answers, and is abandoned if
 * the request fails (the thread may read it yet). So every attempt frames the batch afresh from
 * its records, which the batch keeps, already encoded, in a buffer of its own (see
 * `ProducerBatch`): the same records under the same header give the same bytes, as the codecs are
 * deterministic. Framing costs one copy of the records (or their compression) and one CRC.
 *
 * ## Order and failures, per partition
 *
 * Requests to one partition are handled in the order sent. When an attempt fails with a
 * retriable error, the partition stops sending new batches, waits for the answers of those in
 * flight, then waits the backoff and resends the failed batches in sequence order before
 * anything newer. Under idempotence, a batch sent after one that failed is refused with
 * OUT_OF_ORDER_SEQUENCE (the partition saw a gap); that refusal is expected, so the batch is
 * resent without counting against its retries.
 *
 * A batch that fails for good (a non-retriable error, retries exhausted, or
 * OUT_OF_ORDER_SEQUENCE / UNKNOWN_PRODUCER_ID with no earlier batch to blame, meaning the
 * partition lost track of this producer) fails exactly the sends with records in it. Under
 * idempotence it leaves a gap in the partition's sequence that would make every later batch fail
 * too, so, as Kafka's producer does (KIP-360), the partition moves to a fresh producer identity
 * (`initProducerId`) and its unsent and to-be-retried batches are restamped from sequence 0.
 * Other partitions keep their identity: sequences are per partition.
 *
 * ## Timeouts
 *
 * An append unanswered after the batch's `timeout` counts as a REQUEST_TIMED_OUT failure and is
 * retried. The first request may still be appended later; under idempotence the retry is then a
 * recognized duplicate. A late answer to the first attempt still completes the batch if it has
 * not been resent yet. The one case idempotence cannot cover: a batch whose attempt timed out, then
 * restamped because an earlier batch of its partition failed for good, is resent under the new
 * identity, so if the timed-out attempt was appended after all, its records are written twice
 * (Kafka's producer has the same window after an epoch bump).
 */
import { TributaryError } from '../errors.js';
import type { AppendResponse } from '../runtime/messages.js';
import { transferListFor } from '../runtime/messages.js';
import type { PartitionClient, ProducerIdentity } from '../runtime/partition-client.js';
import { SharedFramePool } from './frame-pool.js';
import type { ProducerBatch } from './producer-batch.js';
import { retryDelayMs, type RetryOptions } from './retry.js';

export interface SenderConfig {
  readonly idempotent: boolean;
  readonly maxInFlight: number;
  readonly retry: RetryOptions;
}

/** Sequence numbers wrap from 2^31 - 1 to 0, as in Kafka. */
const SEQUENCE_MODULUS = 2 ** 31;

class PartitionPipeline {
  /** Sealed batches waiting to be sent (or resent), in sequence order. */
  readonly ready: ProducerBatch[] = [];
  /** Batches whose attempt awaits an answer, in the order sent. */
  readonly inFlight: ProducerBatch[] = [];
  producerId: number;
  producerEpoch: number;
  nextSequence = 0;
  /** A batch failed and waits to be resent: nothing new goes out until the answers in flight are in. */
  recovering = false;
  /** A batch failed for good under idempotence: the partition needs a fresh producer identity before sending more. */
  resetNeeded = false;
  resetFailures = 0;
  /** Waiting out a backoff or for a fresh producer identity. */
  paused = false;
  timer: NodeJS.Timeout | null = null;

  constructor(identity: ProducerIdentity | null) {
    this.producerId = identity?.producerId ?? -1;
    this.producerEpoch = identity?.producerEpoch ?? -1;
  }
}

const ignore = (): void => {};

export class ProducerSender {
  private readonly pipelines = new Map<string, PartitionPipeline[]>();
  private identity: ProducerIdentity | null = null;
  private identityRequest: Promise<ProducerIdentity> | null = null;
  private sealCount = 0;
  private readonly frames = new SharedFramePool();

  constructor(
    private readonly client: PartitionClient,
    private readonly config: SenderConfig,
    /** Called once per batch when it is acknowledged or has failed for good. */
    private readonly onDone: (batch: ProducerBatch) => void,
  ) {}

  /** The producer identity new partitions start with (idempotent producers only). */
  setIdentity(identity: ProducerIdentity): void {
    this.identity = identity;
  }

  /** Takes a full or lingered-out batch: stamps its identity and sequence, encodes it, and queues it. */
  seal(batch: ProducerBatch): void {
    const pipeline = this.pipeline(batch.topic, batch.partition);
    batch.sealOrder = ++this.sealCount;
    if (this.config.idempotent) this.stamp(pipeline, batch);
    try {
      batch.bytes = batch.frame(this.frames);
    } catch (error) {
      if (this.config.idempotent) pipeline.nextSequence = batch.baseSequence;
      this.fail(batch, error);
      return;
    }
    pipeline.ready.push(batch);
    this.drain(pipeline);
  }

  /** Stops backoff timers; answers still in flight are handled as they arrive. */
  close(): void {
    for (const pipelines of this.pipelines.values()) {
      for (const pipeline of pipelines) {
        if (pipeline !== undefined && pipeline.timer !== null) {
          clearTimeout(pipeline.timer);
          pipeline.timer = null;
        }
      }
    }
  }

  private pipeline(topic: string, partition: number): PartitionPipeline {
    let pipelines = this.pipelines.get(topic);
    if (pipelines === undefined) {
      pipelines = [];
      this.pipelines.set(topic, pipelines);
    }
    let pipeline = pipelines[partition];
    if (pipeline === undefined) {
      pipeline = new PartitionPipeline(this.identity);
      pipelines[partition] = pipeline;
    }
    return pipeline;
  }

  private stamp(pipeline: PartitionPipeline, batch: ProducerBatch): void {
    batch.producerId = pipeline.producerId;
    batch.producerEpoch = pipeline.producerEpoch;
    batch.baseSequence = pipeline.nextSequence;
    pipeline.nextSequence = (pipeline.nextSequence + batch.recordCount) % SEQUENCE_MODULUS;
  }

  private drain(pipeline: PartitionPipeline): void {
    if (pipeline.paused) return;
    if (pipeline.recovering || pipeline.resetNeeded) {
      if (pipeline.inFlight.length > 0) return;
      if (pipeline.resetNeeded) {
        if (pipeline.ready.length > 0) this.reset(pipeline);
        return;
      }
      pipeline.recovering = false;
      const first = pipeline.ready[0];
      if (first !== undefined && first.failures > 0) {
        this.pause(pipeline, retryDelayMs(first.failures, this.config.retry));
        return;
      }
    }
    while (pipeline.inFlight.length < this.config.maxInFlight && pipeline.ready.length > 0) {
      this.transmit(pipeline, pipeline.ready.shift()!);
    }
  }

  private pause(pipeline: PartitionPipeline, delayMs: number): void {
    pipeline.paused = true;
    pipeline.timer = setTimeout(() => {
      pipeline.paused = false;
      pipeline.timer = null;
      this.drain(pipeline);
    }, delayMs);
  }

  private transmit(pipeline: PartitionPipeline, batch: ProducerBatch): void {
    let bytes = batch.bytes;
    if (bytes === null) {
      try {
        bytes = batch.frame(this.frames);
      } catch (error) {
        this.fail(batch, error);
        return;
      }
    }
    // The bytes are lent to this attempt (a frame too large for the pool is transferred): a retry frames again.
    batch.bytes = null;
    const frame = bytes;
    const attempt = ++batch.attempt;
    let request: Promise<AppendResponse>;
    try {
      request = this.client.request(
        'append',
        { topic: batch.topic, partition: batch.partition, batch: bytes, acks: batch.acks, logAppendTime: batch.logAppendTime },
        transferListFor(bytes),
      );
    } catch (error) {
      request = Promise.reject(error);
    }
    // Answered, the partition has copied the batch into its log: the chunk can carry the next one.
    request.then(() => this.frames.give(frame), ignore);
    if (batch.acks === 0) {
      // Kafka's acks 0: nothing is awaited and no error is reported; the send is done once the batch is out.
      request.then(ignore, ignore);
      this.complete(batch, null);
      return;
    }
    batch.inFlight = true;
    pipeline.inFlight.push(batch);
    const timer = setTimeout(() => this.onFailure(pipeline, batch, attempt, timedOut(batch)), batch.timeoutMs);
    timer.unref();
    request.then(
      (response) => {
        clearTimeout(timer);
        this.onAnswer(pipeline, batch, attempt, response);
      },
      (error: unknown) => {
        clearTimeout(timer);
        this.onFailure(pipeline, batch, attempt, error);
      },
    );
  }

  private onAnswer(pipeline: PartitionPipeline, batch: ProducerBatch, attempt: number, response: AppendResponse): void {
    if (batch.done || attempt !== batch.attempt) return;
    // A late answer to an attempt that timed out lands here with the batch waiting in `ready`.
    remove(batch.inFlight ? pipeline.inFlight : pipeline.ready, batch);
    batch.inFlight = false;
    this.complete(batch, response);
    this.drain(pipeline);
  }

  private onFailure(pipeline: PartitionPipeline, batch: ProducerBatch, attempt: number, error: unknown): void {
    if (!batch.inFlight || attempt !== batch.attempt) return;
    remove(pipeline.inFlight, batch);
    batch.inFlight = false;
    if (this.config.idempotent && TributaryError.is(error, 'OUT_OF_ORDER_SEQUENCE') && (pipeline.resetNeeded || hasEarlier(pipeline, batch))) {
      // The partition saw a gap left by an earlier batch that failed: not this batch's fault.
      this.requeue(pipeline, batch);
    } else if (TributaryError.is(error) && error.retriable && batch.failures < this.config.retry.retries) {
      batch.failures++;
      this.requeue(pipeline, batch);
    } else {
      this.fail(batch, error);
      if (this.config.idempotent) pipeline.resetNeeded = true;
    }
    this.drain(pipeline);
  }

  private requeue(pipeline: PartitionPipeline, batch: ProducerBatch): void {
    const ready = pipeline.ready;
    let at = 0;
    while (at < ready.length && ready[at].sealOrder < batch.sealOrder) at++;
    ready.splice(at, 0, batch);
    pipeline.recovering = true;
  }

  /** Moves the partition to a fresh producer identity and restamps its waiting batches from sequence 0. */
  private reset(pipeline: PartitionPipeline): void {
    pipeline.paused = true;
    this.freshIdentity().then(
      (identity) => {
        pipeline.paused = false;
        pipeline.resetNeeded = false;
        pipeline.resetFailures = 0;
        pipeline.producerId = identity.producerId;
        pipeline.producerEpoch = identity.producerEpoch;
        pipeline.nextSequence = 0;
        for (const batch of pipeline.ready) {
          this.stamp(pipeline, batch);
          batch.bytes = null;
          // An answer still to come for an attempt under the old identity must not complete the restamped batch.
          batch.attempt++;
        }
        pipeline.recovering = true;
        this.drain(pipeline);
      },
      (error: unknown) => {
        pipeline.paused = false;
        if (TributaryError.is(error) && error.retriable && pipeline.resetFailures < this.config.retry.retries) {
          pipeline.resetFailures++;
          this.pause(pipeline, retryDelayMs(pipeline.resetFailures, this.config.retry));
          return;
        }
        pipeline.resetFailures = 0;
        for (const batch of pipeline.ready.splice(0)) this.fail(batch, error);
      },
    );
  }

  /** One `initProducerId` serves every partition that asks while it is pending. */
  private freshIdentity(): Promise<ProducerIdentity> {
    if (this.identityRequest === null) {
      this.identityRequest = this.client.initProducerId().then(
        (identity) => {
          this.identityRequest = null;
          this.identity = identity;
          return identity;
        },
        (error: unknown) => {
          this.identityRequest = null;
          throw error;
        },
      );
    }
    return this.identityRequest;
  }

  /** `response` is null for acks 0, which learns no offsets. */
  private complete(batch: ProducerBatch, response: AppendResponse | null): void {
    batch.complete(response);
    this.onDone(batch);
  }

  private fail(batch: ProducerBatch, error: unknown): void {
    batch.fail(error);
    this.onDone(batch);
  }
}

function hasEarlier(pipeline: PartitionPipeline, batch: ProducerBatch): boolean {
  const first = pipeline.ready[0];
  if (first !== undefined && first.sealOrder < batch.sealOrder) return true;
  for (const other of pipeline.inFlight) if (other.sealOrder < batch.sealOrder) return true;
  return false;
}

function remove(list: ProducerBatch[], batch: ProducerBatch): void {
  const at = list.indexOf(batch);
  if (at >= 0) list.splice(at, 1);
}

function timedOut(batch: ProducerBatch): TributaryError {
  return new TributaryError('REQUEST_TIMED_OUT', `append to ${batch.topic}-${batch.partition} got no answer within ${batch.timeoutMs} ms`, {
    topic: batch.topic,
    partition: batch.partition,
    timeoutMs: batch.timeoutMs,
  });
}
