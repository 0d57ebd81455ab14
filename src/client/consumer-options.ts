/**
 * The consumer's options: KafkaJS's names and defaults where KafkaJS has the option, so a
 * ported configuration means the same thing, validated by `defineOptions` (unknown or bad fields
 * are INVALID_CONFIG naming them).
 */
import { TributaryError } from '../errors.js';
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
}

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
});

/** KafkaJS options that only mean something to a consumer group. */
const GROUP_OPTIONS = ['groupId', 'partitionAssigners', 'sessionTimeout', 'rebalanceTimeout', 'heartbeatInterval'];

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
}

export function parseConsumerSettings(input: ConsumerOptions<unknown, unknown> | undefined): ConsumerSettings {
  if (input !== null && typeof input === 'object') {
    for (const field of GROUP_OPTIONS) {
      const value = (input as Record<string, unknown>)[field];
      if (value === undefined) continue;
      throw new TributaryError(
        'INVALID_CONFIG',
        `consumer option ${field} (${describeValue(value)}): consumer groups are not available yet, they come in a later release; ` +
          'without a group, subscribe() reads every partition of its topics and assign() reads the partitions it names',
        { options: 'consumer', field, value: typeof value === 'string' || typeof value === 'number' ? value : describeValue(value) },
      );
    }
  }
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
  };
}

function isPlainObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isSerdeLike(value: unknown): value is SerdeName | Serde<unknown> {
  return typeof value === 'string' || isPlainObject(value);
}

/** `run()`'s configuration, KafkaJS's `ConsumerRunConfig` without group commits. */
export interface RunConfig<K, V> {
  readonly eachMessage?: EachMessageHandler<K, V>;
  readonly eachBatch?: EachBatchHandler<K, V>;
  /** Resolve a batch's last offset when `eachBatch` returns. Default true. */
  readonly eachBatchAutoResolve?: boolean;
  /** Partitions whose handlers may run at the same time. Default 1. */
  readonly partitionsConsumedConcurrently?: number;
  /** Only `false` is accepted: offset commits come with consumer groups. */
  readonly autoCommit?: false;
}

const NO_COMMITS = 'offset commits come with consumer groups, which are not available yet';

const parseRunOptions = defineOptions('consumer run', {
  eachMessage: { type: 'custom', expected: 'an async function', is: isFunction, default: undefined },
  eachBatch: { type: 'custom', expected: 'an async function', is: isFunction, default: undefined },
  eachBatchAutoResolve: { type: 'boolean', default: true },
  partitionsConsumedConcurrently: { type: 'integer', min: 1, default: 1 },
  autoCommit: { type: 'custom', expected: `false (${NO_COMMITS})`, is: (value): value is false => value === false, default: undefined },
  autoCommitInterval: { type: 'custom', expected: `null (${NO_COMMITS})`, is: (value): value is null => value === null, default: undefined },
  autoCommitThreshold: { type: 'custom', expected: `null (${NO_COMMITS})`, is: (value): value is null => value === null, default: undefined },
});

export function parseRunSettings<K, V>(config: RunConfig<K, V> | undefined): RunSettings<K, V> {
  const options = parseRunOptions(config as Parameters<typeof parseRunOptions>[0]);
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
  };
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}
