/**
 * The consumer's options: KafkaJS's names and defaults where KafkaJS has the option, so a
 * ported configuration means the same thing, validated by `defineOptions` (unknown or bad fields
 * are INVALID_CONFIG naming them).
 */
import { TributaryError } from '../errors.js';
import { assignorByName, type Assignor, type TopicPartition } from '../group/assignors/index.js';
import type { GroupMemberSettings } from '../group/group-member.js';
import { defineOptions, describeValue, type OptionsInput } from '../runtime/options.js';
import { parseRetryOptions, type RetryOptions } from './retry.js';
import { resolveSerde, type Serde, type SerdeName } from './serde.js';
import type { Serdes } from './consumer-records.js';
import type { EachBatchHandler, EachMessageHandler, RunSettings } from './consumer-runner.js';

/** Where a partition without a usable position starts: Kafka's `auto.offset.reset`. */
export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';

/** KafkaJS's retry options (see retry.ts), for retriable fetch failures and failing handlers. */
export type ConsumerRetryOptions = OptionsInput<(typeof parseRetryOptions)['schema']>;

export interface ConsumerSerdeOptions<K, V> {
  readonly key?: SerdeName | Serde<K>;
  readonly value?: SerdeName | Serde<V>;
}

export interface ConsumerOptions<K = Buffer | null, V = Buffer | null> {
  /** Bytes one fetch round may hold across all partitions (fetched but undelivered, or being fetched). Default 10485760. */
  readonly maxBytes?: number;
  /** Bytes one partition may hold (fetched but undelivered, or being fetched). Default 1048576. */
  readonly maxBytesPerPartition?: number;
  /** A fetch answers as soon as this many bytes are available (Kafka `fetch.min.bytes`). Default 1. */
  readonly minBytes?: number;
  /** How long a fetch at the log end waits for new records before answering empty (long-poll). Default 5000. */
  readonly maxWaitTimeInMs?: number;
  /** Where to start without a position, or when the position left the log. Default 'latest', as Kafka. */
  readonly autoOffsetReset?: OffsetResetPolicy;
  /** How often a subscription looks for partitions added to its topics, ms. Default 300000, as KafkaJS. */
  readonly metadataMaxAge?: number;
  /** Backoff for retriable fetch failures and failing handlers; once `retries` run out, the consumer crashes. */
  readonly retry?: ConsumerRetryOptions;
  /** Deserialises keys and values on first access; without one they stay Buffers. */
  readonly serde?: ConsumerSerdeOptions<K, V>;
  /**
   * Joins this consumer group: `subscribe`d topics are shared among the group's members, positions
   * start from the group's committed offsets, and offsets are committed (see `run`'s autoCommit).
   * Without it the consumer reads every partition of its topics on its own and commits nothing.
   */
  readonly groupId?: string;
  /** Static membership (Kafka `group.instance.id`, KIP-345): a restart within `sessionTimeout` keeps the assignment without a rebalance. */
  readonly groupInstanceId?: string;
  /** Prefix of the member id the coordinator gives this consumer (Kafka `client.id`). Default 'tributary'. */
  readonly clientId?: string;
  /** A member not heard from for this long is removed from the group, ms. Default 30000, as KafkaJS. */
  readonly sessionTimeout?: number;
  /** How long the group waits for its members to rejoin during a rebalance, ms. Default 60000, as KafkaJS. */
  readonly rebalanceTimeout?: number;
  /** How often the member heartbeats (and so how soon it learns of a rebalance), ms; below `sessionTimeout`. Default 3000, as KafkaJS. */
  readonly heartbeatInterval?: number;
  /**
   * Assignors in order of preference, by name ('range', 'roundrobin', 'cooperative-sticky') or as
   * `Assignor` objects. The group uses the cooperative protocol (KIP-429) when every one of them is
   * cooperative, else eager. Default ['roundrobin'], as KafkaJS.
   */
  readonly partitionAssigners?: readonly (string | Assignor)[];
  /** Called with the partitions a rebalance gave this member (cooperative: only the new ones), before they are delivered. */
  readonly onPartitionsAssigned?: RebalanceListener;
  /** Called with the partitions a rebalance took away, after their last delivery and commit. */
  readonly onPartitionsRevoked?: RebalanceListener;
  /** Called with partitions lost without a commit (the member fell out of the group); default: `onPartitionsRevoked`, as Kafka. */
  readonly onPartitionsLost?: RebalanceListener;
}

/** Kafka's ConsumerRebalanceListener callbacks; the rebalance waits for the returned promise. */
export type RebalanceListener = (partitions: TopicPartition[]) => void | Promise<void>;

const parseSerdeOptions = defineOptions('consumer serde', {
  key: { type: 'custom', expected: "'json', 'string', 'bytes' or a Serde", is: isSerdeLike, default: undefined },
  value: { type: 'custom', expected: "'json', 'string', 'bytes' or a Serde", is: isSerdeLike, default: undefined },
});

const parseConsumerOptions = defineOptions('consumer', {
  maxBytes: { type: 'integer', min: 1, default: 10_485_760 },
  maxBytesPerPartition: { type: 'integer', min: 1, default: 1_048_576 },
  minBytes: { type: 'integer', min: 0, default: 1 },
  maxWaitTimeInMs: { type: 'integer', min: 0, default: 5_000 },
  autoOffsetReset: { type: 'enum', values: ['earliest', 'latest', 'none'], default: 'latest' },
  metadataMaxAge: { type: 'integer', min: 1, default: 300_000 },
  retry: { type: 'custom', expected: 'an object of retry options', is: isPlainObject, default: undefined },
  serde: { type: 'custom', expected: 'an object { key?, value? } of serdes', is: isPlainObject, default: undefined },
  groupId: { type: 'custom', expected: 'a non-empty string', is: isNonEmptyString, default: undefined },
  groupInstanceId: { type: 'custom', expected: 'a non-empty string', is: isNonEmptyString, default: undefined },
  clientId: { type: 'custom', expected: 'a non-empty string', is: isNonEmptyString, default: 'tributary' },
  sessionTimeout: { type: 'integer', min: 1, max: 2_147_483_647, default: 30_000 },
  rebalanceTimeout: { type: 'integer', min: 1, max: 2_147_483_647, default: 60_000 },
  heartbeatInterval: { type: 'integer', min: 1, max: 2_147_483_647, default: 3_000 },
  partitionAssigners: {
    type: 'custom',
    expected: "a non-empty array of assignor names ('range', 'roundrobin', 'cooperative-sticky') or Assignor objects",
    is: (value): value is readonly (string | Assignor)[] => Array.isArray(value) && value.length > 0,
    default: ['roundrobin'],
  },
  onPartitionsAssigned: { type: 'custom', expected: 'a function', is: isFunction, default: undefined },
  onPartitionsRevoked: { type: 'custom', expected: 'a function', is: isFunction, default: undefined },
  onPartitionsLost: { type: 'custom', expected: 'a function', is: isFunction, default: undefined },
});

/** Options that only mean something to a consumer group. */
const GROUP_OPTIONS = [
  'groupInstanceId',
  'sessionTimeout',
  'rebalanceTimeout',
  'heartbeatInterval',
  'partitionAssigners',
  'onPartitionsAssigned',
  'onPartitionsRevoked',
  'onPartitionsLost',
] as const;

/** The member's settings (the consumer adds its retry backoff), plus the rebalance listeners. */
export interface ConsumerGroupSettings extends Omit<GroupMemberSettings, 'retryBackoffMs'> {
  readonly onPartitionsAssigned: RebalanceListener | undefined;
  readonly onPartitionsRevoked: RebalanceListener | undefined;
  readonly onPartitionsLost: RebalanceListener | undefined;
}

export interface ConsumerSettings {
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
  readonly minBytes: number;
  readonly maxWaitTimeInMs: number;
  readonly autoOffsetReset: OffsetResetPolicy;
  readonly metadataMaxAge: number;
  readonly retry: RetryOptions;
  /** null when neither side has a serde, so the plain record shapes are used. */
  readonly serdes: Serdes | null;
  /** null without a groupId. */
  readonly group: ConsumerGroupSettings | null;
}

export function parseConsumerSettings(input: ConsumerOptions<unknown, unknown> | undefined): ConsumerSettings {
  const options = parseConsumerOptions(input as Parameters<typeof parseConsumerOptions>[0]);
  const serde = parseSerdeOptions(options.serde as Parameters<typeof parseSerdeOptions>[0]);
  const key = serde.key === undefined ? undefined : resolveSerde(serde.key as SerdeName | Serde<unknown>, 'consumer option serde.key');
  const value = serde.value === undefined ? undefined : resolveSerde(serde.value as SerdeName | Serde<unknown>, 'consumer option serde.value');
  return {
    maxBytes: options.maxBytes,
    maxBytesPerPartition: options.maxBytesPerPartition,
    minBytes: options.minBytes,
    maxWaitTimeInMs: options.maxWaitTimeInMs,
    autoOffsetReset: options.autoOffsetReset,
    metadataMaxAge: options.metadataMaxAge,
    retry: parseRetryOptions(options.retry as Parameters<typeof parseRetryOptions>[0]),
    serdes: key === undefined && value === undefined ? null : { key, value },
    group: parseGroupSettings(options, input as Record<string, unknown> | undefined),
  };
}

function parseGroupSettings(options: ReturnType<typeof parseConsumerOptions>, given: Record<string, unknown> | undefined): ConsumerGroupSettings | null {
  if (options.groupId === undefined) {
    const field = GROUP_OPTIONS.find((name) => given?.[name] !== undefined);
    if (field !== undefined) {
      throw new TributaryError('INVALID_CONFIG', `consumer option ${field} needs a groupId: it configures the consumer's group membership`, {
        options: 'consumer',
        field,
        value: describeValue(given![field]),
      });
    }
    return null;
  }
  if (options.heartbeatInterval >= options.sessionTimeout) {
    throw new TributaryError(
      'INVALID_CONFIG',
      `consumer option heartbeatInterval (${options.heartbeatInterval}) must be below sessionTimeout (${options.sessionTimeout}), or the member expires between heartbeats`,
      { options: 'consumer', field: 'heartbeatInterval', value: options.heartbeatInterval },
    );
  }
  const assignors = options.partitionAssigners.map((assigner, index) => {
    if (typeof assigner === 'string') return assignorByName(assigner);
    if (isPlainObject(assigner) && typeof assigner.name === 'string' && typeof assigner.assign === 'function' && (assigner.protocol === 'eager' || assigner.protocol === 'cooperative')) {
      return assigner;
    }
    throw new TributaryError('INVALID_CONFIG', `consumer option partitionAssigners[${index}]: expected an assignor name or an Assignor { name, protocol, assign }, got ${describeValue(assigner)}`, {
      options: 'consumer',
      field: 'partitionAssigners',
      value: describeValue(assigner),
    });
  });
  const names = assignors.map((assignor) => assignor.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) {
    throw new TributaryError('INVALID_CONFIG', `consumer option partitionAssigners names assignor '${repeated}' twice`, { options: 'consumer', field: 'partitionAssigners', value: repeated });
  }
  return {
    groupId: options.groupId,
    groupInstanceId: options.groupInstanceId ?? null,
    clientId: options.clientId,
    sessionTimeout: options.sessionTimeout,
    rebalanceTimeout: options.rebalanceTimeout,
    heartbeatInterval: options.heartbeatInterval,
    assignors,
    onPartitionsAssigned: options.onPartitionsAssigned as RebalanceListener | undefined,
    onPartitionsRevoked: options.onPartitionsRevoked as RebalanceListener | undefined,
    onPartitionsLost: options.onPartitionsLost as RebalanceListener | undefined,
  };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isPlainObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isSerdeLike(value: unknown): value is SerdeName | Serde<unknown> {
  return typeof value === 'string' || isPlainObject(value);
}

/** `run()`'s configuration, KafkaJS's `ConsumerRunConfig`. */
export interface RunConfig<K, V> {
  readonly eachMessage?: EachMessageHandler<K, V>;
  readonly eachBatch?: EachBatchHandler<K, V>;
  /** Resolve a batch's last offset when `eachBatch` returns. Default true. */
  readonly eachBatchAutoResolve?: boolean;
  /** Partitions whose handlers may run at the same time. Default 1. */
  readonly partitionsConsumedConcurrently?: number;
  /**
   * In a group: commit the positions of processed records, after each batch (fetch response of a
   * partition) and, with an interval or threshold, after each message once it is reached, as
   * KafkaJS does; and before partitions are revoked and on stop. Default true. Without a group
   * only `false` is accepted: there is nothing to commit to.
   */
  readonly autoCommit?: boolean;
  /** Also commit after a message once this many ms passed since the last commit. Default null (not by time). */
  readonly autoCommitInterval?: number | null;
  /** Also commit after a message once this many processed records are uncommitted. Default null (not by count). */
  readonly autoCommitThreshold?: number | null;
}

const NO_GROUP = 'offset commits need a groupId';

const parseRunOptions = defineOptions('consumer run', {
  eachMessage: { type: 'custom', expected: 'an async function', is: isFunction, default: undefined },
  eachBatch: { type: 'custom', expected: 'an async function', is: isFunction, default: undefined },
  eachBatchAutoResolve: { type: 'boolean', default: true },
  partitionsConsumedConcurrently: { type: 'integer', min: 1, default: 1 },
  autoCommit: { type: 'boolean', default: undefined },
  autoCommitInterval: { type: 'custom', expected: 'null or an integer >= 1 (ms)', is: (value): value is number | null => value === null || isPositiveInteger(value), default: null },
  autoCommitThreshold: { type: 'custom', expected: 'null or an integer >= 1', is: (value): value is number | null => value === null || isPositiveInteger(value), default: null },
});

export function parseRunSettings<K, V>(config: RunConfig<K, V> | undefined, grouped: boolean): RunSettings<K, V> {
  const options = parseRunOptions(config as Parameters<typeof parseRunOptions>[0]);
  if (!grouped) {
    const field = options.autoCommit === true ? 'autoCommit' : options.autoCommitInterval !== null ? 'autoCommitInterval' : options.autoCommitThreshold !== null ? 'autoCommitThreshold' : undefined;
    if (field !== undefined) {
      throw new TributaryError('INVALID_CONFIG', `Invalid consumer run option ${field}: ${NO_GROUP}; without one, only autoCommit: false is accepted`, {
        options: 'consumer run',
        field,
        value: describeValue(options[field]),
      });
    }
  }
  if ((options.eachMessage === undefined) === (options.eachBatch === undefined)) {
    throw new TributaryError('INVALID_CONFIG', 'consumer run needs exactly one of eachMessage and eachBatch', {
      options: 'consumer run',
      field: 'eachMessage',
      value: options.eachMessage === undefined ? 'neither given' : 'both given',
    });
  }
  return {
    eachMessage: options.eachMessage as EachMessageHandler<K, V> | undefined,
    eachBatch: options.eachBatch as EachBatchHandler<K, V> | undefined,
    eachBatchAutoResolve: options.eachBatchAutoResolve,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
    autoCommit: grouped && options.autoCommit !== false,
    autoCommitInterval: options.autoCommitInterval as number | null,
    autoCommitThreshold: options.autoCommitThreshold as number | null,
  };
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}
