/**
 * The consumer: KafkaJS's API (so KafkaJS code ports by changing the constructor) plus native
 * async iterators, over a `PartitionClient`.
 *
 * ```ts
 * const consumer = new Consumer(client, { serde: { value: 'json' } });
 * await consumer.subscribe({ topics: ['clicks'], fromBeginning: true });
 * for await (const record of consumer) console.log(record.offset, record.value);
 * // or, as with KafkaJS:
 * await consumer.run({ eachMessage: async ({ topic, partition, message }) => { ... } });
 * ```
 *
 * Without a `groupId`, `subscribe` reads every partition of its topics and picks up partitions
 * added later (checked every `metadataMaxAge`); `assign` reads exactly the partitions it names.
 * Nothing is committed: positions live in the consumer. One delivery mode runs at a time: `run()`,
 * or one iterator. `stop()` ends it and keeps the positions, so a later `run()` or iteration
 * continues where it stopped.
 *
 * With a `groupId` (see consumer-group.ts), the consumer joins its group when a delivery starts
 * and leaves it when the delivery stops, as KafkaJS's `run`/`stop` do: the group's coordinator
 * decides which partitions of the subscribed topics it reads, positions start from the group's
 * committed offsets, and processed offsets are committed (`run`'s autoCommit options; an
 * iteration commits every 5 s, since a yielded record counts as consumed) and always before a
 * partition is revoked or the consumer leaves.
 */
import { TributaryError } from '../errors.js';
import { describeValue } from '../runtime/options.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import type { GroupJoined } from '../group/group-member.js';
import type { OffsetCommitEntry } from '../runtime/messages.js';
import { ConsumerGroup, type CommittedTopic } from './consumer-group.js';
import { BatchIterator, RecordIterator, type ConsumerBatch, type IterationSource } from './consumer-iterators.js';
import {
  parseConsumerSettings,
  parseRunSettings,
  type ConsumerOptions,
  type ConsumerSettings,
  type OffsetResetPolicy,
  type RunConfig,
} from './consumer-options.js';
import { kafkaMessageFactory, nativeRecordFactory, type ConsumerRecord } from './consumer-records.js';
import { Runner, type TopicPartitions } from './consumer-runner.js';
import { Fetcher, partitionKey, type FetcherMetrics, type PartitionAssignment, type PartitionFetch } from './fetcher.js';

export type { ConsumerOptions, ConsumerRetryOptions, ConsumerSerdeOptions, OffsetResetPolicy, RebalanceListener, RunConfig } from './consumer-options.js';
export type { ConsumerRecord, KafkaHeaders, KafkaMessage } from './consumer-records.js';
export type { ConsumerBatch } from './consumer-iterators.js';
export type { EachBatchPayload, EachMessagePayload, KafkaBatch, TopicPartitions } from './consumer-runner.js';
export type { FetcherMetrics as ConsumerMetrics } from './fetcher.js';

/** KafkaJS's `ConsumerSubscribeTopics` / `ConsumerSubscribeTopic`, with topic names only. */
export type Subscription = { readonly topics: readonly string[]; readonly fromBeginning?: boolean } | { readonly topic: string; readonly fromBeginning?: boolean };

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** A decimal string or a number; -2 is Kafka's earliest, -1 its latest. */
  readonly offset: string | number;
  /** `commitOffsets` only: free text stored with the offset (KafkaJS's and Kafka's commit metadata). */
  readonly metadata?: string | null;
}

/** `assign()`'s entries: without `offset`, a partition starts per `autoOffsetReset`. */
export interface AssignedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly offset?: string | number;
}

export interface PartitionTimestamp {
  readonly topic: string;
  readonly partition: number;
  readonly timestamp: number;
}

export interface OffsetForTime {
  readonly topic: string;
  readonly partition: number;
  /** The first offset whose record's timestamp is at or after the one asked for; null if no record is that recent. */
  readonly offset: number | null;
  /** That record's timestamp; null with `offset`. */
  readonly timestamp: number | null;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The next offset the consumer delivers; null until the consumer has found it (it starts per autoOffsetReset). */
  readonly position: number | null;
  readonly highWatermark: number;
  /** Records between the position and the high watermark; null while the position is. */
  readonly lag: number | null;
}

/** KafkaJS's instrumentation event names (`consumer.events`). */
const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  REBALANCING: 'consumer.rebalancing',
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  CRASH: 'consumer.crash',
} as const;

/** The payload of each event, as KafkaJS shapes it. */
export interface ConsumerEventPayloads {
  'consumer.group_join': {
    /** From the member's JoinGroup to its assignment being taken, ms. */
    readonly duration: number;
    readonly groupId: string;
    readonly isLeader: boolean;
    readonly leaderId: string;
    /** The assignor the group chose. */
    readonly groupProtocol: string;
    readonly memberId: string;
    /** The whole assignment of this generation: partitions by topic. */
    readonly memberAssignment: Readonly<Record<string, number[]>>;
  };
  'consumer.rebalancing': { readonly groupId: string; readonly memberId: string };
  'consumer.heartbeat': { readonly groupId: string; readonly memberId: string; readonly groupGenerationId: number };
  'consumer.commit_offsets': { readonly groupId: string; readonly memberId: string; readonly groupGenerationId: number; readonly topics: readonly CommittedTopic[] };
  'consumer.crash': { readonly error: unknown; readonly groupId: string | null; readonly restart: false };
}

export type ConsumerEventType = keyof ConsumerEventPayloads;

/** KafkaJS's instrumentation event. */
export interface ConsumerEvent<T extends ConsumerEventType = ConsumerEventType> {
  readonly id: number;
  readonly type: T;
  readonly timestamp: number;
  readonly payload: ConsumerEventPayloads[T];
}

export type ConsumerCrashEvent = ConsumerEvent<'consumer.crash'>;

/** How often an iteration in a group commits its positions: Kafka's default `auto.commit.interval.ms`. */
const ITERATION_COMMIT_INTERVAL_MS = 5_000;

export class Consumer<K = Buffer | null, V = Buffer | null> implements AsyncIterable<ConsumerRecord<K, V>> {
  /** KafkaJS's `consumer.events`: the ones about groups, commits and crashes (KafkaJS's request and fetch events are not emitted). */
  readonly events = Object.freeze(EVENTS);
  private readonly settings: ConsumerSettings;
  private readonly fetcher: Fetcher;
  /** The group mode; null without a groupId. */
  private readonly group: ConsumerGroup | null;
  /** Subscribed topics and the reset policy each was subscribed with; null without a subscription. */
  private subscription: Map<string, OffsetResetPolicy> | null = null;
  private manual = false;
  private readonly pausedTopics = new Set<string>();
  /** Partitions paused one by one, by topic. */
  private readonly pausedPartitions = new Map<string, Set<number>>();
  private runner: Runner<K, V> | null = null;
  private stopping: Promise<void> = Promise.resolve();
  private iteration: IterationSource | null = null;
  private iterationFailure: unknown = undefined;
  private metadataTimer: NodeJS.Timeout | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Map<ConsumerEventType, Set<(event: ConsumerEvent) => void>>();
  private eventCount = 0;
  private closed = false;

  constructor(
    private readonly client: PartitionClient,
    options?: ConsumerOptions<K, V>,
  ) {
    this.settings = parseConsumerSettings(options as ConsumerOptions<unknown, unknown> | undefined);
    this.fetcher = new Fetcher(client, this.settings, (error) => this.fetchFailed(error));
    const group = this.settings.group;
    this.group =
      group === null
        ? null
        : new ConsumerGroup(client, this.fetcher, group, this.settings.autoOffsetReset, this.settings.retry, {
            subscription: () => this.subscription ?? new Map(),
            applyPauses: () => this.applyPauses(),
            joined: (info) => this.emit(EVENTS.GROUP_JOIN, joinPayload(group.groupId, info)),
            rebalancing: ({ memberId }) => this.emit(EVENTS.REBALANCING, { groupId: group.groupId, memberId }),
            heartbeat: ({ memberId, generationId }) => this.emit(EVENTS.HEARTBEAT, { groupId: group.groupId, memberId, groupGenerationId: generationId }),
            committed: ({ memberId, generationId }, topics) =>
              this.emit(EVENTS.COMMIT_OFFSETS, { groupId: group.groupId, memberId, groupGenerationId: generationId, topics }),
            failed: (error) => this.groupFailed(error),
          });
  }

  /** Kept for KafkaJS compatibility: an embedded consumer has nothing to connect to. */
  async connect(): Promise<void> {
    this.checkOpen('connect');
  }

  /** Stops delivery and fetching; every later call fails with CLOSED. */
  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
  }

  close(): Promise<void> {
    return this.disconnect();
  }

  /**
   * Reads every partition of the topics (added to earlier subscriptions); in a group, the share of
   * them the group assigns (a running member rejoins to get it). `fromBeginning: true` starts
   * partitions without a position (in a group: without a committed offset) at the earliest offset,
   * otherwise `autoOffsetReset` decides. Fails with UNKNOWN_TOPIC_OR_PARTITION for a topic that
   * does not exist.
   */
  async subscribe(subscription: Subscription): Promise<void> {
    this.checkOpen('subscribe');
    if (this.manual) throw new TributaryError('INVALID_REQUEST', 'this consumer uses assign(); a consumer either subscribes to topics or assigns partitions', {});
    const { topics, fromBeginning } = parseSubscription(subscription);
    for (const topic of topics) this.client.topic(topic);
    const policy: OffsetResetPolicy = fromBeginning ? 'earliest' : this.settings.autoOffsetReset;
    this.subscription ??= new Map();
    for (const topic of topics) this.subscription.set(topic, policy);
    if (this.group !== null) this.group.rejoin();
    else this.refreshSubscription();
  }

  /** Reads exactly these partitions (replacing an earlier assign), each from its `offset` if given. Not for a group member, whose partitions come from its group. */
  assign(partitions: readonly AssignedPartition[]): void {
    this.checkOpen('assign');
    if (this.group !== null) {
      throw new TributaryError('INVALID_REQUEST', `this consumer is a member of group ${JSON.stringify(this.group.settings.groupId)}, which assigns its partitions; assign() is for consumers without a groupId`, {});
    }
    if (this.subscription !== null) throw new TributaryError('INVALID_REQUEST', 'this consumer subscribed to topics; a consumer either subscribes to topics or assigns partitions', {});
    if (!Array.isArray(partitions)) throw new TributaryError('INVALID_REQUEST', 'assign() takes an array of { topic, partition, offset? }', {});
    const entries: PartitionAssignment[] = [];
    const seen = new Set<string>();
    for (const entry of partitions) {
      const { topic, partition } = this.checkPartition(entry, 'assign');
      const key = partitionKey(topic, partition);
      if (seen.has(key)) throw new TributaryError('INVALID_REQUEST', `assign() names partition ${partition} of topic '${topic}' twice`, { topic, partition });
      seen.add(key);
      const start = entry.offset === undefined ? undefined : parseOffset(entry.offset, 'assign');
      entries.push({ topic, partition, start, resetPolicy: this.settings.autoOffsetReset });
    }
    this.manual = entries.length > 0;
    this.fetcher.assign(entries);
    this.applyPauses();
  }

  /**
   * Starts KafkaJS-style delivery and resolves once it runs (as KafkaJS's `run` does); in a group,
   * joins it. A failing handler is retried per `retry`; when retries run out, or fetching fails
   * for good, the consumer stops and emits `consumer.crash`.
   */
  async run(config: RunConfig<K, V>): Promise<void> {
    this.checkOpen('run');
    const settings = parseRunSettings(config, this.group !== null);
    this.checkIdle('run');
    const group = this.group;
    const runner = new Runner<K, V>(this.fetcher, settings, kafkaMessageFactory<K, V>(this.settings.serdes), this.settings.retry, {
      pause: (topic, partition) => this.pause([{ topic, partitions: [partition] }]),
      resume: (topic, partition) => this.resume([{ topic, partitions: [partition] }]),
      crash: (error) => this.crash(error),
      autoCommit: group !== null && settings.autoCommit ? (after) => group.autoCommit(after) : null,
    });
    this.runner = runner;
    // Loops first: starting to fetch can fail at once (autoOffsetReset 'none'), and the crash must find them.
    runner.start();
    this.startFetching();
    group?.start(settings);
  }

  /**
   * Ends `run()` or the iteration in progress, after the handlers running now return; positions
   * are kept. A group member then commits and leaves its group.
   */
  async stop(): Promise<void> {
    const runner = this.runner;
    if (runner !== null) {
      this.runner = null;
      this.stopping = this.afterRun(runner.stop());
    } else if (this.iteration !== null) {
      this.stopping = this.afterRun(Promise.resolve());
    }
    this.iteration = null;
    this.stopFetching();
    await this.stopping;
  }

  /**
   * KafkaJS's commitOffsets, for a group member while it delivers: commits the given offsets (the
   * next offset to process, as Kafka commits them) or, without any, the position of every
   * assigned partition. Fails REBALANCE_IN_PROGRESS while the member is (re)joining, and with the
   * coordinator's error (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID...) when it refuses.
   */
  async commitOffsets(offsets?: readonly PartitionOffset[]): Promise<void> {
    this.checkOpen('commitOffsets');
    if (this.group === null) throw new TributaryError('INVALID_REQUEST', 'commitOffsets() needs a consumer with a groupId: offsets are committed to a group', {});
    if (offsets !== undefined && !Array.isArray(offsets)) throw new TributaryError('INVALID_REQUEST', 'commitOffsets() takes an array of { topic, partition, offset }', {});
    const entries = offsets?.map((entry): OffsetCommitEntry => {
      const { topic, partition } = this.checkTarget(entry, 'commitOffsets');
      const offset = parseOffset(entry.offset, 'commitOffsets');
      if (typeof offset !== 'number') throw new TributaryError('INVALID_REQUEST', `commitOffsets() needs an offset >= 0, got ${describeValue(entry.offset)}`, { topic, partition });
      if (entry.metadata !== undefined && entry.metadata !== null && typeof entry.metadata !== 'string') {
        throw new TributaryError('INVALID_REQUEST', `commitOffsets() metadata must be a string, got ${describeValue(entry.metadata)}`, { topic, partition });
      }
      return { topic, partition, offset, metadata: entry.metadata ?? null };
    });
    await this.group.commitOffsets(entries);
  }

  /** `for await (const record of consumer)`: records one at a time, offsets and timestamps as numbers. */
  [Symbol.asyncIterator](): AsyncIterableIterator<ConsumerRecord<K, V>> {
    return new RecordIterator<K, V>(this.beginIteration(), nativeRecordFactory<K, V>(this.settings.serdes));
  }

  /**
   * The records of each partition in order, as arrays of whole record batches of about a thousand
   * records (a fetch response comes as several: see BATCH_RECORDS). In a group, `autoCommit:
   * false` (Kafka's `enable.auto.commit=false`) commits nothing by itself, neither on the timer nor
   * when partitions are revoked or the member leaves: the caller commits with `commitOffsets`,
   * once what it made of the records is safe (a stream task, after flushing its outputs).
   */
  batches(options?: { readonly autoCommit?: boolean }): AsyncIterableIterator<ConsumerBatch<K, V>> {
    return new BatchIterator<K, V>(this.beginIteration(options?.autoCommit !== false), nativeRecordFactory<K, V>(this.settings.serdes));
  }

  /** Moves a partition's position; data already fetched for it is dropped. -2 means earliest, -1 latest. */
  seek(target: PartitionOffset): void {
    this.checkOpen('seek');
    const { topic, partition } = this.checkTarget(target, 'seek');
    this.fetcher.seek(this.assigned(topic, partition, 'seek'), parseOffset(target.offset, 'seek'));
  }

  /** Stops delivering and fetching the partitions (every partition of a topic without `partitions`) until resumed. */
  pause(topics: readonly TopicPartitions[]): void {
    this.checkOpen('pause');
    for (const { topic, partitions } of this.checkTopicPartitions(topics, 'pause')) {
      if (partitions === undefined) this.pausedTopics.add(topic);
      else for (const partition of partitions) this.pausedSet(topic).add(partition);
    }
    this.applyPauses();
  }

  resume(topics: readonly TopicPartitions[]): void {
    this.checkOpen('resume');
    for (const { topic, partitions } of this.checkTopicPartitions(topics, 'resume')) {
      if (partitions === undefined) {
        this.pausedTopics.delete(topic);
        this.pausedPartitions.delete(topic);
        continue;
      }
      if (this.pausedTopics.delete(topic)) {
        // The topic-wide pause now covers every assigned partition but the resumed ones.
        for (const state of this.fetcher.assignment) if (state.topic === topic) this.pausedSet(topic).add(state.partition);
      }
      for (const partition of partitions) this.pausedPartitions.get(topic)?.delete(partition);
    }
    this.applyPauses();
  }

  /** The assigned partitions that are paused, by topic. */
  paused(): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const state of this.fetcher.assignment) {
      if (!state.paused) continue;
      const partitions = byTopic.get(state.topic) ?? [];
      partitions.push(state.partition);
      byTopic.set(state.topic, partitions);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  /** Kafka's offsetsForTimes: per partition, the first offset with a timestamp at or after the one given. */
  async offsetsForTimes(entries: readonly PartitionTimestamp[]): Promise<OffsetForTime[]> {
    this.checkOpen('offsetsForTimes');
    if (!Array.isArray(entries)) throw new TributaryError('INVALID_REQUEST', 'offsetsForTimes() takes an array of { topic, partition, timestamp }', {});
    const checked = entries.map((entry) => {
      const { topic, partition } = this.checkTarget(entry, 'offsetsForTimes');
      if (!Number.isSafeInteger(entry.timestamp)) {
        throw new TributaryError('INVALID_REQUEST', `offsetsForTimes() timestamp must be an integer (epoch ms), got ${String(entry.timestamp)}`, { topic, partition });
      }
      return { topic, partition, timestamp: entry.timestamp };
    });
    return Promise.all(
      checked.map(async ({ topic, partition, timestamp }) => {
        const found = await this.client.request('listOffsets', { topic, partition, spec: { timestamp } });
        return found.offset < 0 ? { topic, partition, offset: null, timestamp: null } : { topic, partition, offset: found.offset, timestamp: found.timestamp };
      }),
    );
  }

  /** Per assigned partition, how far the position is behind the high watermark (from the last fetch, else asked for). */
  async lag(): Promise<PartitionLag[]> {
    this.checkOpen('lag');
    return Promise.all(
      [...this.fetcher.assignment].map(async (state) => {
        const { topic, partition } = state;
        const highWatermark = state.highWatermark ?? (await this.client.request('listOffsets', { topic, partition, spec: 'latest' })).offset;
        const position = state.startAt === null ? state.position : null;
        return { topic, partition, position, highWatermark, lag: position === null ? null : Math.max(0, highWatermark - position) };
      }),
    );
  }

  /** Counters of the fetch engine; `bufferedBytes` is what the memory bound limits. */
  metrics(): FetcherMetrics {
    return this.fetcher.metrics();
  }

  /** KafkaJS's instrumentation events (see `events`). Returns a function that removes the listener. */
  on<T extends ConsumerEventType>(event: T, listener: (event: ConsumerEvent<T>) => void): () => void {
    const known = Object.values(EVENTS) as string[];
    if (!known.includes(event)) throw new TributaryError('INVALID_REQUEST', `consumer emits ${known.map((name) => `'${name}'`).join(', ')}, not '${String(event)}'`, { event: String(event) });
    let listeners = this.listeners.get(event);
    if (listeners === undefined) this.listeners.set(event, (listeners = new Set()));
    const added = listener as (event: ConsumerEvent) => void;
    listeners.add(added);
    return () => listeners.delete(added);
  }

  private beginIteration(autoCommit = true): IterationSource {
    this.checkOpen('iterate');
    this.checkIdle('iterate');
    this.iterationFailure = undefined;
    const source: IterationSource = {
      fetcher: this.fetcher,
      isActive: () => this.iteration === source,
      takeFailure: () => {
        const failure = this.iterationFailure;
        this.iterationFailure = undefined;
        return failure;
      },
      end: () => {
        if (this.iteration !== source) return;
        this.iteration = null;
        this.stopFetching();
        this.stopping = this.afterRun(Promise.resolve());
      },
    };
    this.iteration = source;
    this.startFetching();
    const group = this.group;
    if (group !== null) {
      group.start({ autoCommit, autoCommitInterval: null, autoCommitThreshold: null });
      if (autoCommit) {
        this.commitTimer = setInterval(() => void group.autoCommit('timer'), ITERATION_COMMIT_INTERVAL_MS);
        this.commitTimer.unref();
      }
    }
    return source;
  }

  /** After a delivery's loops ended: a group member commits and leaves. */
  private async afterRun(loops: Promise<void>): Promise<void> {
    await loops;
    await this.group?.stop();
  }

  private startFetching(): void {
    this.fetcher.start();
    if (this.subscription !== null) {
      this.metadataTimer = setInterval(() => this.onMetadataTimer(), this.settings.metadataMaxAge);
      this.metadataTimer.unref();
    }
  }

  private stopFetching(): void {
    this.fetcher.stop();
    if (this.metadataTimer !== null) {
      clearInterval(this.metadataTimer);
      this.metadataTimer = null;
    }
    if (this.commitTimer !== null) {
      clearInterval(this.commitTimer);
      this.commitTimer = null;
    }
  }

  private onMetadataTimer(): void {
    try {
      if (this.group !== null) this.group.checkMetadata();
      else this.refreshSubscription();
    } catch {
      // The runtime is failing (closing, say): the fetches of the current assignment report it.
    }
  }

  /** Assigns every partition of the subscribed topics; a deleted topic's partitions leave the assignment. */
  private refreshSubscription(): void {
    const entries: PartitionAssignment[] = [];
    for (const [topic, resetPolicy] of this.subscription!) {
      let partitions: number;
      try {
        partitions = this.client.topic(topic).partitions;
      } catch (error) {
        if (TributaryError.is(error, 'UNKNOWN_TOPIC_OR_PARTITION')) continue;
        throw error;
      }
      for (let partition = 0; partition < partitions; partition++) entries.push({ topic, partition, resetPolicy });
    }
    this.fetcher.assign(entries);
    this.applyPauses();
  }

  private pausedSet(topic: string): Set<number> {
    let partitions = this.pausedPartitions.get(topic);
    if (partitions === undefined) {
      partitions = new Set();
      this.pausedPartitions.set(topic, partitions);
    }
    return partitions;
  }

  private applyPauses(): void {
    for (const state of this.fetcher.assignment) {
      this.fetcher.setPaused(state, this.pausedTopics.has(state.topic) || this.pausedPartitions.get(state.topic)?.has(state.partition) === true);
    }
  }

  private fetchFailed(error: unknown): void {
    if (this.runner !== null) this.crash(error);
    else if (this.iteration !== null) this.iterationFailure = error;
  }

  /** The group member was forced out, or a rebalance listener failed: the delivery ends with the error. */
  private groupFailed(error: unknown): void {
    if (this.runner === null && this.iteration === null) return;
    // Stopping the fetcher wakes an iteration waiting for data, so that it finds the failure.
    this.stopFetching();
    this.fetchFailed(error);
  }

  private crash(error: unknown): void {
    const runner = this.runner;
    if (runner === null) return;
    this.runner = null;
    this.stopping = this.afterRun(runner.stop());
    this.stopFetching();
    const groupId = this.settings.group?.groupId ?? null;
    if ((this.listeners.get(EVENTS.CRASH)?.size ?? 0) === 0) {
      // KafkaJS logs a crash; with no logger here, an unheard crash must still not pass silently.
      process.emitWarning(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.emit(EVENTS.CRASH, { error, groupId, restart: false });
  }

  private emit<T extends ConsumerEventType>(type: T, payload: ConsumerEventPayloads[T]): void {
    const listeners = this.listeners.get(type);
    if (listeners === undefined || listeners.size === 0) return;
    const event: ConsumerEvent<T> = { id: ++this.eventCount, type, timestamp: Date.now(), payload };
    for (const listener of listeners) listener(event);
  }

  private checkOpen(operation: string): void {
    if (this.closed) throw new TributaryError('CLOSED', `the consumer is disconnected; ${operation}() needs a new consumer`, { operation });
  }

  private checkIdle(operation: string): void {
    if (this.runner !== null || this.iteration !== null) {
      throw new TributaryError('INVALID_REQUEST', `cannot ${operation}: the consumer is already delivering through ${this.runner !== null ? 'run()' : 'an iterator'}; stop() it first`, {
        operation,
      });
    }
    if (this.subscription === null && !this.manual) {
      throw new TributaryError('INVALID_REQUEST', `cannot ${operation}: subscribe() to topics or assign() partitions first`, { operation });
    }
  }

  private assigned(topic: string, partition: number, operation: string): PartitionFetch {
    const state = this.fetcher.get(topic, partition);
    if (state === undefined) {
      throw new TributaryError('INVALID_REQUEST', `${operation}(): partition ${partition} of topic '${topic}' is not assigned to this consumer`, { topic, partition });
    }
    return state;
  }

  /** A { topic, partition } that names an existing partition. */
  private checkPartition(entry: unknown, operation: string): { topic: string; partition: number } {
    const { topic, partition } = this.checkTarget(entry, operation);
    const partitions = this.client.topic(topic).partitions;
    if (partition >= partitions) {
      throw new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `${operation}(): topic '${topic}' has ${partitions} partitions, so partition ${partition} does not exist`, {
        topic,
        partition,
      });
    }
    return { topic, partition };
  }

  private checkTarget(entry: unknown, operation: string): { topic: string; partition: number } {
    const { topic, partition } = (entry ?? {}) as { topic?: unknown; partition?: unknown };
    if (typeof topic !== 'string' || topic === '') {
      throw new TributaryError('INVALID_REQUEST', `${operation}() needs a topic name, got ${describeValue(topic)}`, { operation });
    }
    if (!Number.isSafeInteger(partition) || (partition as number) < 0) {
      throw new TributaryError('INVALID_REQUEST', `${operation}() needs a partition number >= 0, got ${describeValue(partition)}`, { operation, topic });
    }
    return { topic, partition: partition as number };
  }

  private checkTopicPartitions(topics: readonly TopicPartitions[], operation: string): readonly TopicPartitions[] {
    if (!Array.isArray(topics)) throw new TributaryError('INVALID_REQUEST', `${operation}() takes an array of { topic, partitions? }`, { operation });
    for (const entry of topics) {
      if (typeof entry?.topic !== 'string' || entry.topic === '') {
        throw new TributaryError('INVALID_REQUEST', `${operation}() needs a topic name, got ${describeValue(entry?.topic)}`, { operation });
      }
      if (entry.partitions !== undefined && (!Array.isArray(entry.partitions) || !entry.partitions.every((p: unknown) => Number.isSafeInteger(p) && (p as number) >= 0))) {
        throw new TributaryError('INVALID_REQUEST', `${operation}() partitions of topic '${entry.topic}' must be an array of partition numbers`, { operation, topic: entry.topic });
      }
    }
    return topics;
  }
}

function joinPayload(groupId: string, info: GroupJoined): ConsumerEventPayloads['consumer.group_join'] {
  const memberAssignment: Record<string, number[]> = {};
  for (const { topic, partition } of info.assigned) (memberAssignment[topic] ??= []).push(partition);
  return {
    duration: info.durationMs,
    groupId,
    isLeader: info.isLeader,
    leaderId: info.leaderId,
    groupProtocol: info.protocolName,
    memberId: info.memberId,
    memberAssignment,
  };
}

function parseSubscription(subscription: Subscription): { topics: readonly string[]; fromBeginning: boolean } {
  const given = (subscription ?? {}) as { topics?: unknown; topic?: unknown; fromBeginning?: unknown };
  const topics = given.topics !== undefined ? given.topics : given.topic !== undefined ? [given.topic] : undefined;
  if (!Array.isArray(topics) || topics.length === 0) {
    throw new TributaryError('INVALID_REQUEST', 'subscribe() takes { topics: string[] } or { topic: string }', {});
  }
  for (const topic of topics) {
    if (topic instanceof RegExp) {
      throw new TributaryError('INVALID_REQUEST', `subscribe() to ${String(topic)}: regular-expression subscriptions are not supported; name the topics`, { topic: String(topic) });
    }
    if (typeof topic !== 'string' || topic === '') throw new TributaryError('INVALID_REQUEST', `subscribe() needs topic names, got ${describeValue(topic)}`, {});
  }
  if (given.fromBeginning !== undefined && typeof given.fromBeginning !== 'boolean') {
    throw new TributaryError('INVALID_REQUEST', `subscribe() fromBeginning must be a boolean, got ${describeValue(given.fromBeginning)}`, {});
  }
  return { topics: topics as string[], fromBeginning: given.fromBeginning === true };
}

/** An offset as KafkaJS takes it (a decimal string or a number), with Kafka's -2 (earliest) and -1 (latest). */
function parseOffset(offset: unknown, operation: string): number | 'earliest' | 'latest' {
  const value = typeof offset === 'string' && /^-?\d+$/.test(offset) ? Number(offset) : offset;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -2) {
    throw new TributaryError('INVALID_REQUEST', `${operation}() offset must be an integer >= 0 (or -2 for earliest, -1 for latest), got ${describeValue(offset)}`, { operation });
  }
  return value === -2 ? 'earliest' : value === -1 ? 'latest' : value;
}
