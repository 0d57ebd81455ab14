import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { DEFAULT_LOG_CONFIG, Log, resolveLogConfig, type LogConfig } from '../../src/log/index.js';
import { tempDirs } from './helpers.js';

const newDir = tempDirs();

function configError(overrides: unknown): TributaryError {
  try {
    resolveLogConfig(overrides as Partial<LogConfig>);
  } catch (error) {
    if (TributaryError.is(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
}

describe('log config', () => {
  it('has Kafka’s defaults where Kafka has one', () => {
    expect(DEFAULT_LOG_CONFIG).toEqual({
      segmentBytes: 1073741824,
      segmentMs: 604800000,
      indexIntervalBytes: 4096,
      maxIndexBytes: 10485760,
      retentionMs: 604800000,
      retentionBytes: -1,
      fsync: 'interval',
      flushIntervalMs: 100,
      appendBufferBytes: 1048576,
      maxBatchBytes: 1048588,
      cleanupPolicy: 'delete',
      deleteRetentionMs: 86400000,
      minCleanableDirtyRatio: 0.5,
    });
    expect(resolveLogConfig({ retentionMs: -1, fsync: 'always' })).toEqual({ ...DEFAULT_LOG_CONFIG, retentionMs: -1, fsync: 'always' });
  });

  it.each([
    ['segmentBytes', 0],
    ['segmentBytes', 2 ** 31],
    ['segmentBytes', 1.5],
    ['segmentBytes', '1024'],
    ['segmentMs', 0],
    ['indexIntervalBytes', -1],
    ['maxIndexBytes', 12],
    ['retentionMs', -2],
    ['retentionBytes', Number.NaN],
    ['flushIntervalMs', 0],
    ['appendBufferBytes', -1],
    ['maxBatchBytes', 10],
    ['fsync', 'sometimes'],
    ['fsync', true],
  ])('rejects %s = %s, naming the field and the value', (field, value) => {
    const error = configError({ [field]: value });
    expect(error.message).toContain(field);
    expect(error.message).toContain(typeof value === 'string' ? JSON.stringify(value) : String(value));
    expect(error.details).toMatchObject({ field });
  });

  it('rejects unknown keys, naming them', () => {
    const error = configError({ segmentBytes: 4096, retention_ms: 5, flushMs: 1 });
    expect(error.message).toContain('retention_ms');
    expect(error.message).toContain('flushMs');
    expect(error.details).toEqual({ fields: ['retention_ms', 'flushMs'] });
  });

  it('rejects a config that is not an object', () => {
    expect(configError(null).message).toContain('null');
    expect(configError(42).message).toContain('number');
  });

  it('is validated by Log.open before the directory is touched', () => {
    const dir = `${newDir()}/never-created`;
    expect(() => Log.open(dir, { segmentBytes: -5 })).toThrow(/segmentBytes/);
    expect(() => Log.open(dir, { fsync: 'sometimes' as 'never' })).toThrow(/INVALID_CONFIG/);
  });
});
