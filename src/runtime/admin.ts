/**
 * Topic management. Two dialects, so that code written for KafkaJS moves over unchanged:
 *
 * - ours: `createTopic('clicks', { partitions: 8, retentionMs: 86_400_000 })`, camelCase
 *   settings with units in the names, and errors for everything unexpected (creating a topic that
 *   exists throws TOPIC_ALREADY_EXISTS);
 * - KafkaJS's: `createTopics({ topics: [{ topic, numPartitions, configEntries }] })`,
 *   `deleteTopics({ topics })`, `createPartitions({ topicPartitions })`, `fetchTopicOffsets`,
 *   `fetchTopicOffsetsByTimestamp`, `deleteRecords`, with Kafka's config names, offsets as strings
 *   and KafkaJS's results (`createTopics` answers false when a topic already existed).
 *
 * Names starting with `__` are reserved for tributary's own topics (committed offsets,
 * transaction state), created with `createInternalTopic`, and cannot be deleted here.
 *
 * Every bad argument fails with a TributaryError naming the field: INVALID_TOPIC for a name,
 * INVALID_CONFIG for a setting, INVALID_PARTITIONS for a partition count, INVALID_REQUEST for a
 * malformed request, UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that does not exist.
 */
import { TributaryError } from '../errors.js';
import { describeValue } from './options.js';
import { checkDistinct, checkKeys, invalidRequest, optionalBoolean, requireArray, requireEmpty, requireObject, requireString } from './request-checks.js';
import type { Runtime } from './runtime.js';
import {
  MAX_PARTITIONS,
  parseTopicConfig,
  splitTopicConfig,
  topicConfigFromKafka,
  type KafkaConfigEntry,
  type TopicConfig,
  type TopicConfigInput,
} from './topic-config.js';
import { topicCollisionKey, validateTopicName } from './topic-name.js';
import type { StoredTopic } from './topic-store.js';

/** What `alterTopicConfig` changes: any topic setting but the partition count. */
export type TopicConfigChanges = Omit<TopicConfigInput, 'partitions'>;

/** One topic in our dialect of `createTopics`. */
export type TopicSpec = { readonly name: string } & TopicConfigInput;

/** KafkaJS's `createTopics` argument. `waitForLeaders` and `timeout` are accepted and have nothing to do: partitions are open when the call returns. */
export interface KafkaCreateTopicsRequest {
  readonly topics: ReadonlyArray<{
    readonly topic: string;
    /** -1 or absent: the default, 1. */
    readonly numPartitions?: number;
    /** -1, 1 or absent: tributary keeps one copy of each partition. */
    readonly replicationFactor?: number;
    readonly replicaAssignment?: readonly unknown[];
    readonly configEntries?: readonly KafkaConfigEntry[];
  }>;
  /** Check everything, create nothing. */
  readonly validateOnly?: boolean;
  readonly waitForLeaders?: boolean;
  readonly timeout?: number;
}

export interface KafkaCreatePartitionsRequest {
  /** `count` is the new total number of partitions. */
  readonly topicPartitions: ReadonlyArray<{ readonly topic: string; readonly count: number; readonly assignments?: readonly unknown[] }>;
  readonly validateOnly?: boolean;
  readonly timeout?: number;
}

export interface KafkaDeleteRecordsRequest {
  readonly topic: string;
  /** Deletes records before `offset`; `'-1'` means the high watermark (everything). */
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string }>;
}

export interface PartitionDescription {
  readonly partition: number;
  /** The thread slot hosting the partition. */
  readonly thread: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly sizeBytes: number;
  readonly segments: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly config: TopicConfig;
  readonly partitions: readonly PartitionDescription[];
}

/** KafkaJS's `fetchTopicOffsets` entry: `offset` is the high watermark. */
export interface TopicPartitionOffsets {
  readonly partition: number;
  readonly offset: string;
  readonly high: string;
  readonly low: string;
}

export interface PartitionOffset {
  readonly partition: number;
  readonly offset: string;
}

const INTERNAL_PREFIX = '__';

export class Admin {
  constructor(private readonly runtime: Runtime) {}

  /** Creates a topic; TOPIC_ALREADY_EXISTS if it, or a name colliding with it ('a.b' and 'a_b'), exists. */
  async createTopic(name: string, config?: TopicConfigInput): Promise<void> {
    const topic = prepareTopic(name, config, false);
    await this.runtime.exclusive(async () => {
      this.checkNew([topic], false);
      await this.runtime.addTopics([topic]);
    });
  }

  /**
   * Our dialect: creates all the topics or none (TOPIC_ALREADY_EXISTS if any exists).
   * KafkaJS's: creates every topic that does not exist and answers false if any already did.
   */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  createTopics(request: KafkaCreateTopicsRequest): Promise<boolean>;
  async createTopics(input: readonly TopicSpec[] | KafkaCreateTopicsRequest): Promise<void | boolean> {
    if (Array.isArray(input)) {
      const topics = (input as unknown[]).map((spec, i) => {
        const { name, ...config } = requireObject(spec, `topics[${i}]`) as { name?: unknown };
        return prepareTopic(name, config as TopicConfigInput, false);
      });
      checkDistinct(topics.map((topic) => topic.name));
      await this.runtime.exclusive(async () => {
        this.checkNew(topics, false);
        await this.runtime.addTopics(topics);
      });
      return;
    }
    const request = requireObject(input, 'createTopics request');
    checkKeys(request, ['topics', 'validateOnly', 'waitForLeaders', 'timeout'], 'createTopics request');
    const topics = requireArray(request.topics, 'topics').map((entry, i) => kafkaTopic(entry, `topics[${i}]`));
    const validateOnly = optionalBoolean(request.validateOnly, 'validateOnly');
    checkDistinct(topics.map((topic) => topic.name));
    return this.runtime.exclusive(async () => {
      const fresh = this.checkNew(topics, true);
      if (!validateOnly && fresh.length > 0) await this.runtime.addTopics(fresh);
      return fresh.length === topics.length;
    });
  }

  /**
   * Creates one of tributary's own topics (its name starts with `__`) unless it exists; answers
   * whether it was created. For the layers that keep their state in topics (consumer groups,
   * transactions), which call it on every start.
   */
  async createInternalTopic(name: string, config?: TopicConfigInput): Promise<boolean> {
    const topic = prepareTopic(name, config, true);
    return this.runtime.exclusive(async () => {
      const fresh = this.checkNew([topic], true);
      if (fresh.length > 0) await this.runtime.addTopics(fresh);
      return fresh.length > 0;
    });
  }

  /** Deletes a topic and all its records; UNKNOWN_TOPIC_OR_PARTITION if it does not exist. */
  async deleteTopic(name: string): Promise<void> {
    await this.deleteTopics({ topics: [name] });
  }

  /** KafkaJS's `deleteTopics`: every named topic must exist, or nothing is deleted. */
  async deleteTopics(request: { readonly topics: readonly string[]; readonly timeout?: number }): Promise<void> {
    checkKeys(requireObject(request, 'deleteTopics request'), ['topics', 'timeout'], 'deleteTopics request');
    const names = requireArray(request.topics, 'topics').map((name, i) => requireString(name, `topics[${i}]`));
    for (const name of names) {
      if (name.startsWith(INTERNAL_PREFIX)) {
        throw new TributaryError('INVALID_TOPIC', `Topic ${JSON.stringify(name)} is internal to tributary and cannot be deleted`, { topic: name });
      }
    }
    await this.runtime.exclusive(async () => {
      for (const name of names) this.existing(name);
      await this.runtime.removeTopics([...new Set(names)]);
    });
  }

  /** Topic names in creation order, internal ones included (as KafkaJS lists them). */
  async listTopics(): Promise<string[]> {
    return this.runtime.storedTopics().map((topic) => topic.name);
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const topic = this.existing(requireString(name, 'topic'));
    const partitions = await Promise.all(
      range(topic.partitions).map(async (partition) => {
        const state = await this.runtime.request('describePartition', { topic: topic.name, partition });
        return {
          partition,
          thread: this.runtime.slotOf(topic.name, partition) ?? -1,
          logStartOffset: state.logStartOffset,
          logEndOffset: state.logEndOffset,
          sizeBytes: state.sizeBytes,
          segments: state.segments,
        };
      }),
    );
    return { name: topic.name, config: topic.config, partitions };
  }

  /** KafkaJS's `createPartitions`: raises each topic's partition count to `count`; resolves true. */
  async createPartitions(request: KafkaCreatePartitionsRequest): Promise<boolean> {
    checkKeys(requireObject(request, 'createPartitions request'), ['topicPartitions', 'validateOnly', 'timeout'], 'createPartitions request');
    const changes = requireArray(request.topicPartitions, 'topicPartitions').map((entry, i) => {
      const field = `topicPartitions[${i}]`;
      const change = requireObject(entry, field);
      checkKeys(change, ['topic', 'count', 'assignments'], field);
      requireEmpty(change.assignments, `${field}.assignments`, 'partitions are placed on threads by the runtime');
      return { topic: requireString(change.topic, `${field}.topic`), count: change.count };
    });
    const validateOnly = optionalBoolean(request.validateOnly, 'validateOnly');
    checkDistinct(changes.map((change) => change.topic));
    return this.runtime.exclusive(async () => {
      const counts = new Map<string, number>();
      for (const { topic, count } of changes) {
        const current = this.existing(topic).partitions;
        if (!Number.isSafeInteger(count) || (count as number) <= current || (count as number) > MAX_PARTITIONS) {
          throw new TributaryError(
            'INVALID_PARTITIONS',
            `createPartitions count for topic ${JSON.stringify(topic)} must be an integer above its current ${current} partitions ` +
              `and at most ${MAX_PARTITIONS}, got ${describeValue(count)}`,
            { topic, field: 'count', current, value: typeof count === 'number' ? count : describeValue(count) },
          );
        }
        counts.set(topic, count as number);
      }
      if (!validateOnly) await this.runtime.addPartitions(counts);
      return true;
    });
  }

  /**
   * Changes some of a topic's settings and keeps the others, as Kafka's incremental alter of topic
   * configs does; resolves with all of them. Each partition is reopened under the new settings at
   * once, so a request reaching it in that moment fails with the retriable PARTITION_UNAVAILABLE
   * (clients retry it). The partition count is raised with `createPartitions` instead; tributary's
   * own topics (`__...`) keep their settings.
   */
  async alterTopicConfig(name: string, changes: TopicConfigChanges): Promise<TopicConfig> {
    requireString(name, 'topic');
    if (name.startsWith(INTERNAL_PREFIX)) {
      throw new TributaryError('INVALID_TOPIC', `Topic ${JSON.stringify(name)} is internal to tributary and its settings cannot be altered`, { topic: name });
    }
    const given = requireObject(changes, 'alterTopicConfig changes');
    if (Object.hasOwn(given, 'partitions')) {
      throw new TributaryError('INVALID_CONFIG', `alterTopicConfig cannot change partitions; raise the count with createPartitions`, { field: 'partitions' });
    }
    parseTopicConfig(given as TopicConfigInput);
    return this.runtime.exclusive(async () => {
      const topic = this.existing(name);
      const { config } = splitTopicConfig(parseTopicConfig({ ...topic.config, ...given, partitions: topic.partitions }));
      if (JSON.stringify(config) !== JSON.stringify(topic.config)) await this.runtime.reconfigureTopic(name, config);
      return config;
    });
  }

  /** KafkaJS's `fetchTopicOffsets`: per partition, the high watermark (`offset` and `high`) and the log start (`low`). */
  async fetchTopicOffsets(topic: string): Promise<TopicPartitionOffsets[]> {
    const stored = this.existing(requireString(topic, 'topic'));
    return Promise.all(
      range(stored.partitions).map(async (partition) => {
        const state = await this.runtime.request('describePartition', { topic: stored.name, partition });
        const high = String(state.logEndOffset);
        return { partition, offset: high, high, low: String(state.logStartOffset) };
      }),
    );
  }

  /**
   * KafkaJS's `fetchTopicOffsetsByTimestamp`: per partition, the offset of the first record
   * stamped at or after `timestamp`, or the high watermark if there is none.
   */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    const stored = this.existing(requireString(topic, 'topic'));
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw invalidRequest('timestamp', timestamp, 'epoch milliseconds (an integer >= 0)');
    }
    return Promise.all(
      range(stored.partitions).map(async (partition) => {
        const ref = { topic: stored.name, partition };
        let { offset } = await this.runtime.request('listOffsets', { ...ref, spec: { timestamp } });
        if (offset === -1) ({ offset } = await this.runtime.request('listOffsets', { ...ref, spec: 'latest' }));
        return { partition, offset: String(offset) };
      }),
    );
  }

  /**
   * KafkaJS's `deleteRecords`: makes each partition start at `offset` (`'-1'`: the high
   * watermark), deleting the records before it. All partitions are attempted; the first failure
   * is thrown after.
   */
  async deleteRecords(request: KafkaDeleteRecordsRequest): Promise<void> {
    checkKeys(requireObject(request, 'deleteRecords request'), ['topic', 'partitions'], 'deleteRecords request');
    const stored = this.existing(requireString(request.topic, 'topic'));
    const entries = requireArray(request.partitions, 'partitions');
    if (entries.length === 0) throw invalidRequest('partitions', entries, 'at least one { partition, offset }');
    const targets = entries.map((entry, i) => {
      const field = `partitions[${i}]`;
      const target = requireObject(entry, field);
      checkKeys(target, ['partition', 'offset'], field);
      const { partition, offset } = target;
      if (!Number.isSafeInteger(partition) || (partition as number) < 0 || (partition as number) >= stored.partitions) {
        throw new TributaryError(
          'UNKNOWN_TOPIC_OR_PARTITION',
          `deleteRecords ${field}.partition: topic ${JSON.stringify(stored.name)} has no partition ${describeValue(partition)}`,
          { topic: stored.name, field: `${field}.partition` },
        );
      }
      const parsed = typeof offset === 'string' && /^-?\d+$/.test(offset) ? Number(offset) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < -1) throw invalidRequest(`${field}.offset`, offset, "an offset string >= 0, or '-1' for the high watermark");
      return { partition: partition as number, offset: parsed };
    });
    checkDistinct(targets.map((target) => String(target.partition)), 'partition');
    const outcomes = await Promise.allSettled(
      targets.map(async ({ partition, offset }) => {
        const ref = { topic: stored.name, partition };
        const beforeOffset = offset === -1 ? (await this.runtime.request('listOffsets', { ...ref, spec: 'latest' })).offset : offset;
        await this.runtime.request('deleteRecords', { ...ref, beforeOffset });
      }),
    );
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }

  private existing(name: string): StoredTopic {
    const topic = this.runtime.storedTopic(name);
    if (topic === undefined) {
      throw new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `Topic ${JSON.stringify(name)} does not exist`, { topic: name });
    }
    return topic;
  }

  /**
   * The topics that do not exist yet. One that exists is skipped (`skipExisting`) or fails with
   * TOPIC_ALREADY_EXISTS; one whose name collides with an existing topic's always fails.
   */
  private checkNew(topics: readonly StoredTopic[], skipExisting: boolean): StoredTopic[] {
    const byCollisionKey = new Map(this.runtime.storedTopics().map((topic) => [topicCollisionKey(topic.name), topic.name]));
    return topics.filter((topic) => {
      const holder = byCollisionKey.get(topicCollisionKey(topic.name));
      if (holder === topic.name) {
        if (skipExisting) return false;
        throw new TributaryError('TOPIC_ALREADY_EXISTS', `Topic ${JSON.stringify(topic.name)} already exists`, { topic: topic.name });
      }
      if (holder !== undefined) {
        throw new TributaryError(
          'TOPIC_ALREADY_EXISTS',
          `Topic ${JSON.stringify(topic.name)} collides with existing topic ${JSON.stringify(holder)}: Kafka treats '.' and '_' alike in topic names`,
          { topic: topic.name, collidesWith: holder },
        );
      }
      return true;
    });
  }
}

/** Validates a new topic's name and settings. */
function prepareTopic(name: unknown, config: TopicConfigInput | undefined, internal: boolean): StoredTopic {
  validateTopicName(name);
  const topic = name as string;
  if (topic.startsWith(INTERNAL_PREFIX) !== internal) {
    throw new TributaryError(
      'INVALID_TOPIC',
      internal
        ? `Internal topic ${JSON.stringify(topic)} must start with '${INTERNAL_PREFIX}'`
        : `Topic name ${JSON.stringify(topic)} starts with '${INTERNAL_PREFIX}', which is reserved for tributary's internal topics`,
      { topic, rule: 'internal-prefix' },
    );
  }
  const partitions = (config as { partitions?: unknown } | undefined)?.partitions;
  if (partitions !== undefined && (!Number.isSafeInteger(partitions) || (partitions as number) < 1 || (partitions as number) > MAX_PARTITIONS)) {
    throw new TributaryError(
      'INVALID_PARTITIONS',
      `Topic ${JSON.stringify(topic)}: partitions must be an integer in [1, ${MAX_PARTITIONS}], got ${describeValue(partitions)}`,
      { topic, field: 'partitions', value: typeof partitions === 'number' ? partitions : describeValue(partitions) },
    );
  }
  const parsed = splitTopicConfig(parseTopicConfig(config));
  return { name: topic, partitions: parsed.partitions, config: parsed.config };
}

/** One entry of a KafkaJS `createTopics` request, as a validated topic. */
function kafkaTopic(entry: unknown, field: string): StoredTopic {
  const spec = requireObject(entry, field);
  checkKeys(spec, ['topic', 'numPartitions', 'replicationFactor', 'replicaAssignment', 'configEntries'], field);
  const { topic, numPartitions, replicationFactor } = spec;
  if (replicationFactor !== undefined && replicationFactor !== -1 && replicationFactor !== 1) {
    throw invalidRequest(`${field}.replicationFactor`, replicationFactor, '1 or -1: tributary keeps one copy of each partition');
  }
  requireEmpty(spec.replicaAssignment, `${field}.replicaAssignment`, 'partitions are placed on threads by the runtime');
  const config = topicConfigFromKafka(spec.configEntries);
  return prepareTopic(topic, { ...config, partitions: numPartitions === undefined || numPartitions === -1 ? undefined : (numPartitions as number) }, false);
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
