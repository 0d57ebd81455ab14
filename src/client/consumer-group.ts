/**
 * The consumer's group mode: a `GroupMember` decides which partitions this consumer owns, and
 * this class moves them in and out of the fetcher and commits their offsets.
 *
 * - Taking partitions: their positions start from the group's committed offsets (OffsetFetch),
 *   else from the subscription's reset policy (`fromBeginning` / `autoOffsetReset`); then
 *   `onPartitionsAssigned` runs. Partitions the member keeps (cooperative) keep their positions
 *   and fetched data: they are never paused by a rebalance.
 * - Giving partitions up: they leave the fetcher's assignment at once, so nothing new is
 *   delivered from them; the revocation then waits until the handler (or iterator body) working
 *   on one has returned, commits their positions (unless they were lost, or auto-commit is off),
 *   and runs `onPartitionsRevoked` (or `onPartitionsLost`). Only then does the member rejoin, so
 *   no partition is processed by two members at once, and per-partition order holds.
 * - Committing: positions are the next offset to process, as Kafka commits them. Commits go out
 *   one at a time; each takes the positions of the moment it is sent, so a later commit never
 *   carries an older position. A commit refused because the member lost its place in the group
 *   leaves the offsets uncommitted (the next owner re-reads from the last commit: the at-least-once
 *   duplicates) and makes the member rejoin.
 */
import { TributaryError } from '../errors.js';
import type { TopicPartition } from '../group/assignors/index.js';
import { GroupMember, type Generation, type GroupJoined } from '../group/group-member.js';
import { NO_GENERATION } from '../group/member-machine.js';
import type { OffsetCommitEntry } from '../runtime/messages.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import type { ConsumerGroupSettings, OffsetResetPolicy, RebalanceListener } from './consumer-options.js';
import { partitionKey, type Fetcher, type PartitionAssignment, type PartitionFetch } from './fetcher.js';
import { retryDelayMs, type RetryOptions } from './retry.js';

/** How a delivery mode commits: `run()`'s auto-commit options, or an iterator's timer. */
export interface CommitPolicy {
  /** Commit before partitions are revoked and on leaving. */
  readonly autoCommit: boolean;
  readonly autoCommitInterval: number | null;
  readonly autoCommitThreshold: number | null;
}

export interface CommittedTopic {
  readonly topic: string;
  readonly partitions: { readonly partition: number; readonly offset: string }[];
}

/** What the consumer does with group happenings. */
export interface ConsumerGroupHooks {
  /** Subscribed topics and the reset policy each was subscribed with. */
  subscription(): ReadonlyMap<string, OffsetResetPolicy>;
  /** Re-applies the consumer's pauses to a new assignment. */
  applyPauses(): void;
  joined(info: GroupJoined): void;
  rebalancing(generation: Generation): void;
  heartbeat(generation: Generation): void;
  committed(generation: Generation, topics: CommittedTopic[]): void;
  /** The member was forced out, or a rebalance listener failed: delivery must end with this error. */
  failed(error: unknown): void;
}

export class ConsumerGroup {
  private member: GroupMember | null = null;
  private policy: CommitPolicy = { autoCommit: true, autoCommitInterval: null, autoCommitThreshold: null };
  /** Leaving the previous membership; the next one joins after it. */
  private leaving: Promise<void> = Promise.resolve();
  /** Committed offset of each owned partition, by partitionKey. */
  private readonly committedOffsets = new Map<string, number>();
  private commits: Promise<unknown> = Promise.resolve();
  private lastCommitAt = Date.now();
  /** Partition counts of the subscribed topics when the member last joined (undefined: the topic did not exist). */
  private partitionCounts = new Map<string, number | undefined>();

  constructor(
    private readonly client: PartitionClient,
    private readonly fetcher: Fetcher,
    readonly settings: ConsumerGroupSettings,
    private readonly defaultResetPolicy: OffsetResetPolicy,
    private readonly retry: RetryOptions,
    private readonly hooks: ConsumerGroupHooks,
  ) {}

  /** The member of the delivery in progress; null while the consumer does not deliver. */
  get current(): GroupMember | null {
    return this.member;
  }

  /** Joins the group for a delivery (after the previous membership, if any, has left). */
  start(policy: CommitPolicy): void {
    this.policy = policy;
    this.lastCommitAt = Date.now();
    const member: GroupMember = new GroupMember(
      this.client,
      { ...this.settings, retryBackoffMs: this.retry.initialRetryTime },
      {
        topics: () => this.joinTopics(),
        revoke: (partitions, lost, generation) => this.revoke(member, partitions, lost, generation),
        assign: (added, assigned) => this.assign(member, added, assigned),
        joined: (info) => this.hooks.joined(info),
        rebalancing: (generation) => this.hooks.rebalancing(generation),
        heartbeat: (generation) => this.hooks.heartbeat(generation),
        failed: (error) => this.hooks.failed(error),
      },
    );
    this.member = member;
    void this.leaving.then(() => {
      if (this.member === member) member.start();
    });
  }

  /** Leaves the group: every partition is revoked (its position committed, per the policy) and a dynamic member sends LeaveGroup. */
  stop(): Promise<void> {
    const member = this.member;
    if (member !== null) {
      this.member = null;
      this.leaving = this.leaving.then(() => member.leave());
    }
    return this.leaving;
  }

  /** Asks for a new assignment: the subscription changed. */
  rejoin(): void {
    this.member?.rejoin();
  }

  /** Rejoins if a subscribed topic appeared or gained partitions since the member joined (the metadata timer). */
  checkMetadata(): void {
    for (const [topic, count] of this.partitionCounts) {
      if (this.partitionCount(topic) !== count) {
        this.rejoin();
        return;
      }
    }
  }

  /**
   * `consumer.commitOffsets`: the given offsets, or without any, the position of every owned
   * partition that moved since its last commit. Fails REBALANCE_IN_PROGRESS while the member has
   * no generation, and with the coordinator's error when it refuses.
   */
  commitOffsets(offsets?: readonly OffsetCommitEntry[]): Promise<void> {
    const member = this.member;
    if (member === null) {
      return Promise.reject(new TributaryError('INVALID_REQUEST', `commitOffsets() needs the consumer to be in group ${JSON.stringify(this.settings.groupId)}: call it while run() or an iteration is going on`, {}));
    }
    return this.serialized(() => this.commitNow(member, offsets ?? this.moved(this.fetcher.assignment), member.generation));
  }

  /**
   * The auto-commit step after a message or batch of `run()` (KafkaJS's
   * commitOffsetsIfNecessary / autoCommitOffsets); also the iterators' timer. Never throws: an
   * uncommitted offset is only a duplicate later.
   */
  async autoCommit(after: 'message' | 'batch' | 'timer'): Promise<void> {
    const member = this.member;
    if (member === null || member.generation.generationId === NO_GENERATION) return;
    if (after === 'message' && !this.due()) return;
    await this.serialized(() => this.commitNow(member, this.moved(this.fetcher.assignment), member.generation)).catch(() => undefined);
  }

  // ---- the member's listener ----

  private joinTopics(): string[] {
    const topics = [...this.hooks.subscription().keys()];
    this.partitionCounts = new Map(topics.map((topic) => [topic, this.partitionCount(topic)]));
    return topics;
  }

  private async revoke(member: GroupMember, partitions: readonly TopicPartition[], lost: boolean, generation: Generation): Promise<void> {
    const gone = new Set(partitions.map((tp) => partitionKey(tp.topic, tp.partition)));
    const states: PartitionFetch[] = [];
    const kept: PartitionAssignment[] = [];
    for (const state of this.fetcher.assignment) {
      if (gone.has(state.key)) states.push(state);
      else kept.push({ topic: state.topic, partition: state.partition, resetPolicy: state.resetPolicy });
    }
    this.fetcher.assign(kept);
    await this.fetcher.whenReleased(states);
    if (!lost && this.policy.autoCommit) {
      await this.serialized(() => this.commitNow(member, this.moved(states), generation)).catch(() => undefined);
    }
    for (const key of gone) this.committedOffsets.delete(key);
    const { onPartitionsRevoked, onPartitionsLost } = this.settings;
    await this.callListener(lost ? (onPartitionsLost ?? onPartitionsRevoked) : onPartitionsRevoked, partitions);
  }

  private async assign(member: GroupMember, added: readonly TopicPartition[], assigned: readonly TopicPartition[]): Promise<void> {
    const starts = new Map<string, number>();
    if (added.length > 0) {
      for (const committed of await this.withRetries(() => member.committed(added))) starts.set(partitionKey(committed.topic, committed.partition), committed.offset);
    }
    const policies = this.hooks.subscription();
    const entries = assigned.map((tp): PartitionAssignment => {
      const start = starts.get(partitionKey(tp.topic, tp.partition));
      const resetPolicy = policies.get(tp.topic) ?? this.defaultResetPolicy;
      return start === undefined ? { topic: tp.topic, partition: tp.partition, resetPolicy } : { topic: tp.topic, partition: tp.partition, resetPolicy, start };
    });
    for (const [key, offset] of starts) this.committedOffsets.set(key, offset);
    this.fetcher.assign(entries);
    this.hooks.applyPauses();
    // Kafka: eager members are told the whole assignment, cooperative ones only what they gained.
    await this.callListener(this.settings.onPartitionsAssigned, member.protocol === 'cooperative' ? added : assigned);
  }

  private async callListener(listener: RebalanceListener | undefined, partitions: readonly TopicPartition[]): Promise<void> {
    if (listener === undefined) return;
    try {
      await listener(partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition })));
    } catch (error) {
      // Kafka hands a listener's exception to the application after the rebalance; here it ends the delivery.
      this.hooks.failed(error);
    }
  }

  // ---- commits ----

  /** Offsets of partitions whose position moved since their last commit. */
  private moved(states: Iterable<PartitionFetch>): () => OffsetCommitEntry[] {
    return () => {
      const offsets: OffsetCommitEntry[] = [];
      for (const state of states) {
        if (state.position === null || state.startAt !== null || this.committedOffsets.get(state.key) === state.position) continue;
        offsets.push({ topic: state.topic, partition: state.partition, offset: state.position });
      }
      return offsets;
    };
  }

  private async commitNow(member: GroupMember, offsets: readonly OffsetCommitEntry[] | (() => OffsetCommitEntry[]), generation: Generation): Promise<void> {
    const entries = typeof offsets === 'function' ? offsets() : offsets;
    if (entries.length === 0) return;
    await member.commit(entries, generation);
    this.lastCommitAt = Date.now();
    const byTopic = new Map<string, CommittedTopic>();
    for (const entry of entries) {
      this.committedOffsets.set(partitionKey(entry.topic, entry.partition), entry.offset);
      let topic = byTopic.get(entry.topic);
      if (topic === undefined) byTopic.set(entry.topic, (topic = { topic: entry.topic, partitions: [] }));
      topic.partitions.push({ partition: entry.partition, offset: String(entry.offset) });
    }
    this.hooks.committed(generation, [...byTopic.values()]);
  }

  /** Runs commits one at a time, in call order. */
  private serialized(commit: () => Promise<void>): Promise<void> {
    const next = this.commits.then(commit, commit);
    this.commits = next.catch(() => undefined);
    return next;
  }

  /** KafkaJS's commitOffsetsIfNecessary: the interval passed, or the threshold of uncommitted records is reached. */
  private due(): boolean {
    const { autoCommitInterval, autoCommitThreshold } = this.policy;
    if (autoCommitInterval !== null && Date.now() >= this.lastCommitAt + autoCommitInterval) return true;
    if (autoCommitThreshold === null) return false;
    let uncommitted = 0;
    for (const state of this.fetcher.assignment) {
      const committed = this.committedOffsets.get(state.key);
      if (state.position !== null && committed !== undefined) uncommitted += state.position - committed;
    }
    return uncommitted >= autoCommitThreshold;
  }

  private partitionCount(topic: string): number | undefined {
    try {
      return this.client.topic(topic).partitions;
    } catch (error) {
      if (TributaryError.is(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return undefined;
      throw error;
    }
  }

  /** Retries retriable failures (the coordinator's thread restarting) per the consumer's retry options. */
  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        if (!TributaryError.is(error) || !error.retriable || retry > this.retry.retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs(retry, this.retry)));
      }
    }
  }
}
