/**
 * A topic's settings: what `createTopic` accepts, what the runtime stores, and how each setting
 * maps to the `LogConfig` every partition of the topic is opened with. Names follow our
 * convention (unit in the name, camelCase); `topicConfigFromKafka` translates Kafka's dotted names
 * (`retention.ms`...) for callers speaking KafkaJS's admin API.
 */
import { TributaryError } from '../errors.js';
import type { LogConfig } from '../log/index.js';
import { DEFAULT_LOG_CONFIG } from '../log/index.js';
import { BATCH_HEADER_SIZE } from '../record/index.js';
import { defineOptions, describeValue, type Options, type OptionsInput } from './options.js';

const INT32_MAX = 0x7fff_ffff;

/**
 * Partitions of one topic. Kafka sets no limit, but each partition here is a directory with open
 * files on a single machine; a count far beyond this is almost certainly a typo.
 */
export const MAX_PARTITIONS = 10_000;

export const parseTopicConfig = defineOptions('topic', {
  /** Number of partitions. Default 1 (Kafka `num.partitions`). */
  partitions: { type: 'integer', min: 1, max: MAX_PARTITIONS, default: 1 },
  /**
   * Codec of stored batches (Kafka `compression.type`). Default `producer`: batches are stored as
   * each producer compressed them. Any other value asks producers to use that codec.
   */
  compression: { type: 'enum', values: ['producer', 'none', 'gzip', 'snappy', 'lz4', 'zstd'], default: 'producer' },
  /** Delete closed segments whose newest record is older than this; -1 keeps them forever (Kafka `retention.ms`). Default 7 days. */
  retentionMs: { type: 'integer', min: -1, default: DEFAULT_LOG_CONFIG.retentionMs },
  /** Delete the oldest closed segments while the partition stays at least this big without them; -1 for no limit (Kafka `retention.bytes`). Default -1. */
  retentionBytes: { type: 'integer', min: -1, default: DEFAULT_LOG_CONFIG.retentionBytes },
  /** Roll to a new segment file at this size (Kafka `segment.bytes`). Default 1 GiB. */
  segmentBytes: { type: 'integer', min: BATCH_HEADER_SIZE, max: INT32_MAX, default: DEFAULT_LOG_CONFIG.segmentBytes },
  /**
   * When appended bytes are fsynced: `always` before each append is acknowledged, `interval`
   * every `flushIntervalMs`, `never` when the OS decides. Default `interval`, the log's own
   * default: an embedded runtime has no replica on another machine to cover for a power loss, so
   * leaving it to the OS (Kafka's choice) could lose tens of seconds of acknowledged data, and one
   * fsync per second per partition costs nothing measurable. Whatever the policy, an acknowledged
   * append is in the file before it is answered (the partition host's group commit), so it
   * survives a crash of its thread or of the process; the policy decides what a power loss takes.
   */
  flush: { type: 'enum', values: ['never', 'interval', 'always'], default: DEFAULT_LOG_CONFIG.fsync },
  /** The fsync period under `flush: 'interval'` (Kafka `flush.ms`). Default 100 ms (see LogConfig). */
  flushIntervalMs: { type: 'integer', min: 1, max: INT32_MAX, default: DEFAULT_LOG_CONFIG.flushIntervalMs },
  /**
   * Kafka `cleanup.policy`. Default `delete`: segments past `retentionMs`/`retentionBytes` are
   * deleted. `compact`: each cleanup pass (every `retentionCheckIntervalMs` of the runtime)
   * compacts a partition whose closed segments are dirty enough (`minCleanableDirtyRatio`),
   * keeping each key's latest record; as in Kafka, `compact` alone never deletes by time or size.
   */
  cleanupPolicy: { type: 'enum', values: ['delete', 'compact'], default: DEFAULT_LOG_CONFIG.cleanupPolicy },
  /** How long a compacted topic keeps tombstones readable, so consumers see deletions (Kafka `delete.retention.ms`). Default 1 day. */
  deleteRetentionMs: { type: 'integer', min: 0, default: DEFAULT_LOG_CONFIG.deleteRetentionMs },
  /** Compact once this share of the closed bytes was written since the last compaction (Kafka `min.cleanable.dirty.ratio`). Default 0.5. */
  minCleanableDirtyRatio: { type: 'number', min: 0, max: 1, default: DEFAULT_LOG_CONFIG.minCleanableDirtyRatio },
  /** `create` keeps producers' timestamps; `log-append` stamps each batch on append (Kafka `message.timestamp.type`). Default `create`. */
  timestampType: { type: 'enum', values: ['create', 'log-append'], default: 'create' },
  /** Largest batch one append accepts, after compression (Kafka `max.message.bytes`). Default 1048588. */
  maxMessageBytes: { type: 'integer', min: BATCH_HEADER_SIZE, max: INT32_MAX, default: DEFAULT_LOG_CONFIG.maxBatchBytes },
});

/** What `createTopic` accepts: every field optional. */
export type TopicConfigInput = OptionsInput<typeof parseTopicConfig.schema>;

/** A topic's settings with every default filled in, including its partition count at creation. */
export type ResolvedTopicConfig = Options<typeof parseTopicConfig.schema>;

/** The settings stored with a topic; the partition count lives beside them because it can grow. */
export type TopicConfig = Omit<ResolvedTopicConfig, 'partitions'>;

/** Splits a parsed config into the partition count and the stored settings. */
export function splitTopicConfig(config: ResolvedTopicConfig): { partitions: number; config: TopicConfig } {
  const { partitions, ...rest } = config;
  return { partitions, config: Object.freeze(rest) };
}

/**
 * The log configuration every partition of a topic is opened with. `appendBufferBytes` keeps the
 * log's default: the partition host writes each turn's appends to the file before answering them
 * (group commit, see partition-actor.ts), so the buffer never holds an acknowledged batch.
 */
export function logConfigFor(config: TopicConfig): Partial<LogConfig> {
  return {
    segmentBytes: config.segmentBytes,
    retentionMs: config.retentionMs,
    retentionBytes: config.retentionBytes,
    fsync: config.flush,
    flushIntervalMs: config.flushIntervalMs,
    maxBatchBytes: config.maxMessageBytes,
    cleanupPolicy: config.cleanupPolicy,
    deleteRetentionMs: config.deleteRetentionMs,
    minCleanableDirtyRatio: config.minCleanableDirtyRatio,
  };
}

/** A Kafka topic config entry as KafkaJS passes it (`configEntries`). */
export interface KafkaConfigEntry {
  readonly name: string;
  readonly value: string;
}

interface KafkaMapping {
  readonly field: Exclude<keyof TopicConfig, 'flush'>;
  /** Kafka's spelling of each accepted value, where it differs from ours. */
  readonly values?: Readonly<Record<string, string>>;
}

/** Kafka topic configs we understand, and the field each sets. */
const KAFKA_CONFIGS: Readonly<Record<string, KafkaMapping>> = {
  'retention.ms': { field: 'retentionMs' },
  'retention.bytes': { field: 'retentionBytes' },
  'segment.bytes': { field: 'segmentBytes' },
  'flush.ms': { field: 'flushIntervalMs' },
  'cleanup.policy': { field: 'cleanupPolicy', values: { delete: 'delete', compact: 'compact' } },
  'compression.type': {
    field: 'compression',
    values: { producer: 'producer', uncompressed: 'none', gzip: 'gzip', snappy: 'snappy', lz4: 'lz4', zstd: 'zstd' },
  },
  'message.timestamp.type': { field: 'timestampType', values: { CreateTime: 'create', LogAppendTime: 'log-append' } },
  'max.message.bytes': { field: 'maxMessageBytes' },
  'delete.retention.ms': { field: 'deleteRetentionMs' },
  'min.cleanable.dirty.ratio': { field: 'minCleanableDirtyRatio' },
};

/**
 * Translates Kafka topic configs (`[{ name: 'retention.ms', value: '86400000' }]`) into our
 * fields. Throws INVALID_CONFIG naming the Kafka config for an unknown name, a repeated one, or a
 * bad value; values are strings, as in Kafka's protocol.
 */
export function topicConfigFromKafka(entries: unknown): TopicConfigInput {
  if (entries === undefined) return {};
  if (!Array.isArray(entries)) {
    throw new TributaryError('INVALID_CONFIG', `configEntries must be an array of { name, value }, got ${describeValue(entries)}`, {
      field: 'configEntries',
    });
  }
  const result: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const entry of entries as unknown[]) {
    const { name, value } = (typeof entry === 'object' && entry !== null ? entry : {}) as { name?: unknown; value?: unknown };
    if (typeof name !== 'string') {
      throw new TributaryError('INVALID_CONFIG', `configEntries entries must be { name: string, value: string }, got ${describeValue(entry)}`, {
        field: 'configEntries',
      });
    }
    if (!Object.hasOwn(KAFKA_CONFIGS, name)) {
      throw new TributaryError(
        'INVALID_CONFIG',
        `Unknown or unsupported topic config '${name}'; supported: ${Object.keys(KAFKA_CONFIGS).join(', ')}`,
        { config: name },
      );
    }
    if (seen.has(name)) throw new TributaryError('INVALID_CONFIG', `Topic config '${name}' is given twice`, { config: name });
    seen.add(name);
    if (typeof value !== 'string') throw kafkaValueError(name, value, 'a string (Kafka config values are strings)');
    const mapping = KAFKA_CONFIGS[name];
    const mapped = kafkaValue(name, mapping, value);
    // Ranges are the topic schema's; its message names our field, so the Kafka name is put in front.
    try {
      parseTopicConfig({ [mapping.field]: mapped });
    } catch (error) {
      if (!TributaryError.is(error, 'INVALID_CONFIG')) throw error;
      throw new TributaryError('INVALID_CONFIG', `Invalid topic config ${name}=${JSON.stringify(value)}: ${error.message}`, {
        config: name,
        value,
      });
    }
    result[mapping.field] = mapped;
  }
  return result as TopicConfigInput;
}

/**
 * A topic's settings under Kafka's config names and value spellings, for every setting that has
 * one (`flush` has none: Kafka leaves fsync to the OS), in the order `topicConfigFromKafka` lists
 * them; what `kafka-topics --describe` shows and `topicConfigFromKafka` reads back.
 */
export function topicConfigToKafka(config: TopicConfig): KafkaConfigEntry[] {
  return Object.entries(KAFKA_CONFIGS).map(([name, mapping]) => {
    const value = config[mapping.field];
    const spelled = mapping.values === undefined ? undefined : Object.keys(mapping.values).find((kafka) => mapping.values![kafka] === value);
    return { name, value: spelled ?? String(value) };
  });
}

function kafkaValue(name: string, mapping: KafkaMapping, value: string): string | number {
  if (mapping.values !== undefined) {
    if (!Object.hasOwn(mapping.values, value)) {
      throw kafkaValueError(name, value, `one of ${Object.keys(mapping.values).join(', ')}`);
    }
    return mapping.values[value];
  }
  if (mapping.field === 'minCleanableDirtyRatio') {
    const ratio = /^\d*\.?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (Number.isNaN(ratio)) throw kafkaValueError(name, value, 'a decimal number');
    return ratio;
  }
  const number = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number)) throw kafkaValueError(name, value, 'an integer');
  return number;
}

function kafkaValueError(name: string, value: unknown, expected: string): TributaryError {
  return new TributaryError('INVALID_CONFIG', `Invalid topic config ${name}: expected ${expected}, got ${describeValue(value)}`, {
    config: name,
    value: typeof value === 'string' ? value : describeValue(value),
  });
}
