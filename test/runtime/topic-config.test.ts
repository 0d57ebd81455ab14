import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { DEFAULT_LOG_CONFIG, resolveLogConfig } from '../../src/log/index.js';
import { logConfigFor, parseTopicConfig, splitTopicConfig, topicConfigFromKafka, topicConfigToKafka } from '../../src/runtime/topic-config.js';

function configError(run: () => unknown): TributaryError {
  try {
    run();
  } catch (error) {
    if (TributaryError.is(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('topic config', () => {
  it('fills Kafka-like defaults that agree with the log layer', () => {
    const { partitions, config } = splitTopicConfig(parseTopicConfig());
    expect(partitions).toBe(1);
    expect(config).toEqual({
      compression: 'producer',
      retentionMs: DEFAULT_LOG_CONFIG.retentionMs,
      retentionBytes: -1,
      segmentBytes: DEFAULT_LOG_CONFIG.segmentBytes,
      flush: 'interval',
      flushIntervalMs: 100,
      cleanupPolicy: 'delete',
      deleteRetentionMs: DEFAULT_LOG_CONFIG.deleteRetentionMs,
      minCleanableDirtyRatio: 0.5,
      timestampType: 'create',
      maxMessageBytes: DEFAULT_LOG_CONFIG.maxBatchBytes,
    });
  });

  it.each([
    [{ partitions: 0 }, 'partitions'],
    [{ partitions: 1.5 }, 'partitions'],
    [{ compression: 'brotli' }, 'compression'],
    [{ retentionMs: -2 }, 'retentionMs'],
    [{ retentionBytes: '1' }, 'retentionBytes'],
    [{ segmentBytes: 10 }, 'segmentBytes'],
    [{ flush: 'sometimes' }, 'flush'],
    [{ flushIntervalMs: 0 }, 'flushIntervalMs'],
    [{ cleanupPolicy: 'compact,delete' }, 'cleanupPolicy'],
    [{ timestampType: 'LogAppendTime' }, 'timestampType'],
    [{ maxMessageBytes: 2 ** 31 }, 'maxMessageBytes'],
    [{ retentionMS: 5 }, 'retentionMS'],
  ])('rejects %j naming the field', (input, field) => {
    const error = configError(() => parseTopicConfig(input as never));
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('suggests the field a typo meant', () => {
    expect(configError(() => parseTopicConfig({ retentionMS: 5 } as never)).message).toContain("did you mean 'retentionMs'");
  });

  it('maps to a log config the log layer accepts', () => {
    const { config } = splitTopicConfig(parseTopicConfig({ segmentBytes: 4096, retentionMs: 1000, retentionBytes: 10_000, flush: 'always', maxMessageBytes: 500 }));
    const log = resolveLogConfig(logConfigFor(config));
    expect(log).toMatchObject({ segmentBytes: 4096, retentionMs: 1000, retentionBytes: 10_000, fsync: 'always', maxBatchBytes: 500 });
  });

  it('hands a compacted topic\'s cleaner settings to its logs', () => {
    const { config } = splitTopicConfig(parseTopicConfig({ cleanupPolicy: 'compact', deleteRetentionMs: 1000, minCleanableDirtyRatio: 0.1 }));
    expect(logConfigFor(config)).toMatchObject({ cleanupPolicy: 'compact', deleteRetentionMs: 1000, minCleanableDirtyRatio: 0.1 });
  });

  it('reads the cleaner settings in Kafka\'s names, a ratio as a decimal', () => {
    expect(topicConfigFromKafka([{ name: 'min.cleanable.dirty.ratio', value: '0.25' }, { name: 'delete.retention.ms', value: '60000' }])).toEqual({
      minCleanableDirtyRatio: 0.25,
      deleteRetentionMs: 60000,
    });
    expect(() => topicConfigFromKafka([{ name: 'min.cleanable.dirty.ratio', value: '1.5' }])).toThrow(/min.cleanable.dirty.ratio/);
    expect(() => topicConfigFromKafka([{ name: 'min.cleanable.dirty.ratio', value: 'half' }])).toThrow(/decimal/);
  });
});

describe('Kafka topic configs', () => {
  it('translates names and values', () => {
    expect(
      topicConfigFromKafka([
        { name: 'retention.ms', value: '86400000' },
        { name: 'retention.bytes', value: '-1' },
        { name: 'segment.bytes', value: '1048576' },
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'compression.type', value: 'uncompressed' },
        { name: 'message.timestamp.type', value: 'LogAppendTime' },
        { name: 'max.message.bytes', value: '2000000' },
        { name: 'flush.ms', value: '500' },
      ]),
    ).toEqual({
      retentionMs: 86_400_000,
      retentionBytes: -1,
      segmentBytes: 1_048_576,
      cleanupPolicy: 'compact',
      compression: 'none',
      timestampType: 'log-append',
      maxMessageBytes: 2_000_000,
      flushIntervalMs: 500,
    });
    expect(topicConfigFromKafka(undefined)).toEqual({});
  });

  it.each([
    [[{ name: 'min.insync.replicas', value: '2' }], 'min.insync.replicas', 'Unknown or unsupported'],
    [[{ name: 'toString', value: '2' }], 'toString', 'Unknown or unsupported'],
    [[{ name: 'retention.ms', value: 'soon' }], 'retention.ms', 'expected an integer'],
    [[{ name: 'retention.ms', value: '1e3' }], 'retention.ms', 'expected an integer'],
    [[{ name: 'retention.ms', value: '-5' }], 'retention.ms', '>= -1'],
    [[{ name: 'retention.ms', value: 5 }], 'retention.ms', 'a string'],
    [[{ name: 'segment.bytes', value: '12' }], 'segment.bytes', 'segmentBytes'],
    [[{ name: 'compression.type', value: 'none' }], 'compression.type', 'uncompressed'],
    [[{ name: 'cleanup.policy', value: 'compact,delete' }], 'cleanup.policy', 'one of delete, compact'],
    [[{ name: 'message.timestamp.type', value: 'create' }], 'message.timestamp.type', 'CreateTime'],
    [[{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }], 'retention.ms', 'twice'],
  ])('rejects %j naming the Kafka config', (entries, name, text) => {
    const error = configError(() => topicConfigFromKafka(entries));
    expect(error.details.config).toBe(name);
    expect(error.message).toContain(name);
    expect(error.message).toContain(text);
  });

  it('rejects entries that are not { name, value } objects', () => {
    expect(configError(() => topicConfigFromKafka('retention.ms=5')).details.field).toBe('configEntries');
    expect(configError(() => topicConfigFromKafka([null])).details.field).toBe('configEntries');
  });

  it('spells settings in Kafka names that read back to the same settings (all but flush, which Kafka has no name for)', () => {
    const config = fc.record({
      compression: fc.constantFrom('producer', 'none', 'gzip', 'snappy', 'lz4', 'zstd'),
      retentionMs: fc.integer({ min: -1, max: 2 ** 40 }),
      retentionBytes: fc.integer({ min: -1, max: 2 ** 40 }),
      segmentBytes: fc.integer({ min: 61, max: 0x7fff_ffff }),
      flush: fc.constantFrom('never', 'interval', 'always'),
      flushIntervalMs: fc.integer({ min: 1, max: 0x7fff_ffff }),
      cleanupPolicy: fc.constantFrom('delete', 'compact'),
      timestampType: fc.constantFrom('create', 'log-append'),
      maxMessageBytes: fc.integer({ min: 61, max: 0x7fff_ffff }),
    });
    fc.assert(
      fc.property(config, (input) => {
        const stored = splitTopicConfig(parseTopicConfig(input)).config;
        const entries = topicConfigToKafka(stored);
        expect(entries.map((entry) => entry.name)).not.toContain('flush');
        const { flush, ...withKafkaNames } = stored;
        expect(flush).toBe(input.flush);
        expect(topicConfigFromKafka(entries)).toEqual(withKafkaNames);
      }),
      { seed: 6, numRuns: 200 },
    );
    expect(topicConfigToKafka(splitTopicConfig(parseTopicConfig({ compression: 'none', timestampType: 'log-append' })).config)).toContainEqual({
      name: 'compression.type',
      value: 'uncompressed',
    });
  });
});
