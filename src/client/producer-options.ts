/**
 * The producer's options: KafkaJS's names where KafkaJS has the option (`idempotent`,
 * `transactionalId`, `maxInFlightRequests`, `retry`, per-send `acks`/`timeout`/`compression`),
 * units in the name otherwise (`lingerMs`, `batchBytes`). Unknown options are rejected, with a
 * suggestion for a typo, because a silently ignored `lingerMS` is a performance bug nobody finds.
 */
import { TributaryError } from '../errors.js';
import { COMPRESSION_NAMES, type CompressionName } from '../record/index.js';
import type { Acks } from '../runtime/messages.js';
import { defineOptions, type OptionsInput } from '../runtime/options.js';
import type { Partitioner } from './partitioner.js';
import { parseRetryOptions, type RetryOptions } from './retry.js';
import { resolveSerde, type Serde, type SerdeName } from './serde.js';

/** Kafka's idempotent producer keeps at most 5 batches per partition in flight (the broker caches 5 per producer for dedup). */
export const MAX_IDEMPOTENT_IN_FLIGHT = 5;

export interface ProducerSerdes<K, V> {
  readonly key?: Serde<K> | SerdeName;
  readonly value?: Serde<V> | SerdeName;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isPartitioner = (value: unknown): value is Partitioner =>
  isPlainObject(value) && typeof value.partition === 'function' && (value.onNewBatch === undefined || typeof value.onNewBatch === 'function');

export const parseProducerOptions = defineOptions('producer', {
  /**
   * Kafka's idempotent producer: a producer id and per-partition sequence numbers let the
   * partition drop a retried batch it already holds, so retries never duplicate or reorder.
   * Default true: the cost is one id per producer and 12 header bytes per batch.
   */
  idempotent: { type: 'boolean', default: true },
  /** Reserved for transactions, which come later; any value is rejected. */
  transactionalId: { type: 'string', default: undefined },
  /** Append requests per partition awaiting an answer; at most 5 when idempotent. */
  maxInFlightRequests: { type: 'integer', min: 1, max: 1_000, default: MAX_IDEMPOTENT_IN_FLIGHT },
  /** Default acks of every send; -1 is required by idempotence. */
  acks: { type: 'enum', values: [-1, 0, 1], default: -1 },
  /** How long a batch may wait for more records after its first, in milliseconds. */
  lingerMs: { type: 'integer', min: 0, max: 2_147_483_647, default: 5 },
  /**
   * Largest batch (uncompressed record bytes plus the 61-byte header); a single bigger record
   * gets a batch of its own. 64 KiB amortizes the per-batch costs (one thread message of ~4 µs,
   * one CRC call, one log append) over ~600 records of 100 bytes, is a buffer large enough to be
   * transferred rather than copied between threads, and stays far below the log's 1 MiB
   * `maxBatchBytes`. Kafka's 16 KiB default suits a network round trip; here a batch costs less
   * to send, so fewer, fuller batches win.
   */
  batchBytes: { type: 'integer', min: 1, max: 2_147_483_647, default: 65_536 },
  /** Record bytes buffered but not yet acknowledged; past it, `send` waits for room. */
  bufferMemory: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER, default: 32 * 1024 * 1024 },
  /** Default codec; unset means the topic's codec, or none for a topic with `compression: 'producer'`. */
  compression: { type: 'enum', values: COMPRESSION_NAMES, default: undefined },
  /** How long an append may go unanswered before it is retried (KafkaJS's per-send `timeout`), in milliseconds. */
  timeout: { type: 'integer', min: 1, max: 2_147_483_647, default: 30_000 },
  retry: { type: 'custom', expected: 'an object of retry options', is: isPlainObject, default: undefined },
  /** Default: Kafka's murmur2 partitioner with sticky partitioning for null keys. */
  partitioner: {
    type: 'custom',
    expected: 'a Partitioner (an object with a partition method)',
    is: isPartitioner,
    default: undefined,
  },
  serde: { type: 'custom', expected: "an object { key?, value? } of serdes or serde names ('json', 'string', 'bytes')", is: isPlainObject, default: undefined },
});

type Schema = typeof parseProducerOptions.schema;

/** What `new Producer(client, options)` accepts. */
export type ProducerOptions<K = unknown, V = unknown> = Omit<OptionsInput<Schema>, 'retry' | 'partitioner' | 'serde'> & {
  readonly retry?: Partial<RetryOptions>;
  readonly partitioner?: Partitioner;
  readonly serde?: ProducerSerdes<K, V>;
};

export interface ResolvedProducerOptions {
  readonly idempotent: boolean;
  readonly maxInFlightRequests: number;
  readonly acks: Acks;
  readonly lingerMs: number;
  readonly batchBytes: number;
  readonly bufferMemory: number;
  readonly compression: CompressionName | undefined;
  readonly timeout: number;
  readonly retry: RetryOptions;
  readonly partitioner: Partitioner | undefined;
  readonly keySerde: Serde<unknown> | undefined;
  readonly valueSerde: Serde<unknown> | undefined;
}

/** Parses and cross-checks producer options; INVALID_CONFIG names the offending option. */
export function resolveProducerOptions(input?: ProducerOptions<unknown, unknown>): ResolvedProducerOptions {
  const options = parseProducerOptions(input as OptionsInput<Schema>);
  if (options.transactionalId !== undefined) {
    throw configError('transactionalId', options.transactionalId, 'transactions are not supported yet (they come in a later release); leave transactionalId unset');
  }
  if (options.idempotent && options.acks !== -1) {
    throw configError('acks', options.acks, 'an idempotent producer requires acks -1 (set idempotent: false to use acks 0 or 1)');
  }
  if (options.idempotent && options.maxInFlightRequests > MAX_IDEMPOTENT_IN_FLIGHT) {
    throw configError(
      'maxInFlightRequests',
      options.maxInFlightRequests,
      `an idempotent producer allows at most ${MAX_IDEMPOTENT_IN_FLIGHT} (partitions remember the last ${MAX_IDEMPOTENT_IN_FLIGHT} batches of each producer for dedup)`,
    );
  }
  const serde = options.serde as ProducerSerdes<unknown, unknown> | undefined;
  if (serde !== undefined) {
    for (const key of Object.keys(serde)) {
      if (key !== 'key' && key !== 'value') throw configError(`serde.${key}`, undefined, "serde takes only 'key' and 'value'");
    }
  }
  return {
    idempotent: options.idempotent,
    maxInFlightRequests: options.maxInFlightRequests,
    acks: options.acks,
    lingerMs: options.lingerMs,
    batchBytes: options.batchBytes,
    bufferMemory: options.bufferMemory,
    compression: options.compression,
    timeout: options.timeout,
    retry: parseRetryOptions(options.retry as OptionsInput<typeof parseRetryOptions.schema> | undefined),
    partitioner: options.partitioner,
    keySerde: serde?.key === undefined ? undefined : resolveSerde(serde.key, 'producer option serde.key'),
    valueSerde: serde?.value === undefined ? undefined : resolveSerde(serde.value, 'producer option serde.value'),
  };
}

function configError(field: string, value: unknown, reason: string): TributaryError {
  const shown = value === undefined ? '' : ` ${JSON.stringify(value)}`;
  return new TributaryError('INVALID_CONFIG', `Invalid producer option ${field}${shown}: ${reason}`, {
    options: 'producer',
    field,
    value: typeof value === 'object' ? null : value,
  });
}
