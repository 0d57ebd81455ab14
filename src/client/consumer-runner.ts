/**
 * `consumer.run()`: KafkaJS's delivery loops. `partitionsConsumedConcurrently` loops each claim a
 * partition with data, hand its fetched response to `eachMessage` (one message at a time) or
 * `eachBatch` (the whole response), and move the partition's position as the handler completes.
 * A partition is claimed by one loop at a time, so its records arrive in order.
 *
 * A failing handler is retried as KafkaJS retries it: the partition's data is dropped and
 * delivered again from the first unprocessed record after a backoff, until `retry.retries` is
 * exhausted; then the consumer crashes. Errors that no retry can fix (a TributaryError that is
 * not retriable, TypeError, RangeError, ReferenceError, SyntaxError) crash it at once.
 */
import { TributaryError } from '../errors.js';
import type { RetryOptions } from './retry.js';
import { batchEnd, decodeBatchInto, type KafkaMessage, type RecordFactory } from './consumer-records.js';
import type { Claim, Fetcher, PartitionFetch } from './fetcher.js';

export interface TopicPartitions {
  readonly topic: string;
  /** Left out: every partition of the topic. */
  readonly partitions?: readonly number[];
}

/** KafkaJS's `EachMessagePayload`. */
export interface EachMessagePayload<K = Buffer | null, V = Buffer | null> {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage<K, V>;
  /**
   * Kept for KafkaJS compatibility; resolves at once. A group member heartbeats on its own timer,
   * which runs while handlers await, so a long handler needs no manual heartbeats.
   */
  heartbeat(): Promise<void>;
  /** Pauses this partition after the current message; returns a function that resumes it. */
  pause(): () => void;
}

/** KafkaJS's `Batch`: the messages of one fetch response of one partition. */
export interface KafkaBatch<K = Buffer | null, V = Buffer | null> {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string;
  readonly messages: readonly KafkaMessage<K, V>[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  /** Records after the batch's last one: highWatermark - 1 - lastOffset. */
  offsetLag(): string;
  /** Records after the batch's first one: highWatermark - 1 - firstOffset. */
  offsetLagLow(): string;
}

/** KafkaJS's `EachBatchPayload`, without `commitOffsetsIfNecessary` and `uncommittedOffsets` (use `consumer.commitOffsets`). */
export interface EachBatchPayload<K = Buffer | null, V = Buffer | null> {
  readonly batch: KafkaBatch<K, V>;
  /** Marks the message with this offset, and all before it, processed. */
  resolveOffset(offset: string | number): void;
  heartbeat(): Promise<void>;
  /** False once the consumer stops: a long batch handler should return. */
  isRunning(): boolean;
  /** True once this partition was sought, paused or unassigned: the rest of the batch is not wanted. */
  isStale(): boolean;
  pause(): () => void;
}

export type EachMessageHandler<K, V> = (payload: EachMessagePayload<K, V>) => Promise<void>;
export type EachBatchHandler<K, V> = (payload: EachBatchPayload<K, V>) => Promise<void>;

export interface RunSettings<K, V> {
  readonly eachMessage: EachMessageHandler<K, V> | undefined;
  readonly eachBatch: EachBatchHandler<K, V> | undefined;
  readonly eachBatchAutoResolve: boolean;
  readonly partitionsConsumedConcurrently: number;
  /** Commit processed offsets (in a group; see RunConfig). */
  readonly autoCommit: boolean;
  readonly autoCommitInterval: number | null;
  readonly autoCommitThreshold: number | null;
}

export interface RunnerHooks {
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  /** The run ends with this error (its loops have been told to stop). */
  crash(error: unknown): void;
  /**
   * Auto-commit, when on: after each message (`'message'`: commit if the interval or threshold
   * is reached) and after each batch, handled or failed (`'batch'`: commit), as KafkaJS does.
   */
  autoCommit: ((after: 'message' | 'batch') => Promise<void>) | null;
}

const heartbeat = (): Promise<void> => Promise.resolve();

const UNRECOVERABLE = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

export class Runner<K, V> {
  private running = false;
  private loops: Promise<void>[] = [];
  /** Consecutive handler failures per partition. */
  private readonly failures = new WeakMap<PartitionFetch, number>();

  constructor(
    private readonly fetcher: Fetcher,
    private readonly settings: RunSettings<K, V>,
    private readonly factory: RecordFactory<KafkaMessage<K, V>>,
    private readonly retry: RetryOptions,
    private readonly hooks: RunnerHooks,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.settings.partitionsConsumedConcurrently }, () => this.loop());
  }

  /** Tells the loops to stop and waits for the handlers in progress to return. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const claim = this.fetcher.take();
      if (claim === null) {
        await this.fetcher.waitForData();
        continue;
      }
      try {
        if (this.settings.eachMessage !== undefined) await this.deliverMessages(claim, this.settings.eachMessage);
        else await this.deliverBatch(claim, this.settings.eachBatch!);
        this.failures.delete(claim.partition);
        this.fetcher.finish(claim);
      } catch (error) {
        this.handlerFailed(claim, error);
      }
      // Also after a failure: what was processed before it is committed (KafkaJS does the same).
      if (this.hooks.autoCommit !== null) await this.hooks.autoCommit('batch');
    }
  }

  private async deliverMessages(claim: Claim, eachMessage: EachMessageHandler<K, V>): Promise<void> {
    const { partition: state, data } = claim;
    const { topic, partition } = state;
    const pause = this.pauseFunction(topic, partition);
    const messages: KafkaMessage<K, V>[] = [];
    for (let pos = data.pos, end = batchEnd(data.bytes, pos); end >= 0; pos = end, end = batchEnd(data.bytes, pos)) {
      messages.length = 0;
      decodeBatchInto(data.bytes, pos, end, topic, partition, state.position!, this.factory, messages);
      for (const message of messages) {
        await eachMessage({ topic, partition, message, heartbeat, pause });
        this.fetcher.advance(claim, Number(message.offset) + 1);
        if (!this.fetcher.isCurrent(claim) || !this.running) return;
        if (this.hooks.autoCommit !== null) await this.hooks.autoCommit('message');
      }
      this.fetcher.release(claim, end);
    }
    this.fetcher.advance(claim, data.nextOffset);
  }

  private async deliverBatch(claim: Claim, eachBatch: EachBatchHandler<K, V>): Promise<void> {
    const { partition: state, data } = claim;
    const { topic, partition } = state;
    const messages: KafkaMessage<K, V>[] = [];
    const start = state.position!;
    let end = data.bytes.length;
    for (let pos = data.pos, next = batchEnd(data.bytes, pos); next >= 0; pos = next, next = batchEnd(data.bytes, pos)) {
      decodeBatchInto(data.bytes, pos, next, topic, partition, start, this.factory, messages);
      end = next;
    }
    if (messages.length === 0) {
      this.fetcher.advance(claim, data.nextOffset);
      return;
    }
    const lastOffset = messages[messages.length - 1].offset;
    await eachBatch({
      batch: new Batch(topic, partition, data.highWatermark, messages),
      resolveOffset: (offset) => {
        // Resolving the last message resolves the whole response, control batches after it included.
        this.fetcher.advance(claim, String(offset) === lastOffset ? data.nextOffset : Number(offset) + 1);
      },
      heartbeat,
      isRunning: () => this.running,
      isStale: () => !this.fetcher.isCurrent(claim),
      pause: this.pauseFunction(topic, partition),
    });
    if (this.settings.eachBatchAutoResolve) this.fetcher.advance(claim, data.nextOffset);
    this.fetcher.release(claim, end);
  }

  private pauseFunction(topic: string, partition: number): () => () => void {
    return () => {
      this.hooks.pause(topic, partition);
      return () => this.hooks.resume(topic, partition);
    };
  }

  private handlerFailed(claim: Claim, error: unknown): void {
    const attempt = (this.failures.get(claim.partition) ?? 0) + 1;
    const retriable = TributaryError.is(error) ? error.retriable : !(error instanceof Error && UNRECOVERABLE.has(error.name));
    if (!this.running || !retriable || attempt > this.retry.retries) {
      this.failures.delete(claim.partition);
      this.fetcher.finish(claim);
      if (this.running) {
        this.running = false;
        this.hooks.crash(error);
      }
      return;
    }
    this.failures.set(claim.partition, attempt);
    this.fetcher.retryLater(claim, attempt);
  }
}

class Batch<K, V> implements KafkaBatch<K, V> {
  readonly highWatermark: string;

  constructor(
    readonly topic: string,
    readonly partition: number,
    highWatermark: number,
    readonly messages: readonly KafkaMessage<K, V>[],
  ) {
    this.highWatermark = String(highWatermark);
  }

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  firstOffset(): string | null {
    return this.messages.length === 0 ? null : this.messages[0].offset;
  }

  lastOffset(): string {
    return this.messages.length === 0 ? String(Number(this.highWatermark) - 1) : this.messages[this.messages.length - 1].offset;
  }

  offsetLag(): string {
    return String(Number(this.highWatermark) - 1 - Number(this.lastOffset()));
  }

  offsetLagLow(): string {
    const first = this.firstOffset();
    return first === null ? '0' : String(Number(this.highWatermark) - 1 - Number(first));
  }
}
