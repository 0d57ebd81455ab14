/**
 * A partition log's configuration: Kafka's topic-level settings that the log layer owns, with
 * Kafka's defaults where Kafka has one, and a validator that names the bad field and value.
 */
import { TributaryError } from '../errors.js';
import { BATCH_HEADER_SIZE } from '../record/batch-header.js';

/**
 * When appended bytes reach the disk.
 *
 * - `always`: every `append` writes its batches to the segment file and fdatasyncs before it
 *   returns.
 * - `interval`: appends land in the appender's buffer; every `flushIntervalMs` the buffer is
 *   written and the file fdatasynced.
 * - `never`: like `interval`, but the timer only writes; the OS decides when pages reach the disk.
 *
 * See `Log` for exactly what an acknowledged append survives under each policy.
 */
export type FsyncPolicy = 'never' | 'interval' | 'always';

/** What `Log.cleanUp` does with old records: delete whole segments by age and size, or compact by key (Kafka `cleanup.policy`). */
export type CleanupPolicy = 'delete' | 'compact';

export interface LogConfig {
  /** Roll to a new segment before one would grow past this many bytes (Kafka `segment.bytes`). Default 1 GiB. */
  readonly segmentBytes: number;
  /**
   * Roll when a new batch's max timestamp is this much newer than the segment's first batch
   * (or, for batches without timestamps, when the segment is this old by the clock) (Kafka
   * `segment.ms`). Default 7 days.
   */
  readonly segmentMs: number;
  /** Log bytes between two offset-index entries (Kafka `index.interval.bytes`). Default 4096. */
  readonly indexIntervalBytes: number;
  /** Largest offset or time index of one segment; a full index rolls the segment (Kafka `segment.index.bytes`). Default 10 MiB. */
  readonly maxIndexBytes: number;
  /** Delete closed segments whose newest record is older than this; -1 keeps them forever (Kafka `retention.ms`). Default 7 days. */
  readonly retentionMs: number;
  /** Delete the oldest closed segments while the log stays at least this big without them; -1 for no limit (Kafka `retention.bytes`). Default -1. */
  readonly retentionBytes: number;
  /**
   * When appends reach the disk. Default `interval`: Kafka leaves flushing to the OS (`never`)
   * because a replica on another machine holds every acknowledged batch; an embedded log has no
   * replica, so without a periodic fsync a power loss could take minutes of acknowledged data
   * (the kernel's dirty-page expiry). One fdatasync per interval costs nothing measurable.
   */
  readonly fsync: FsyncPolicy;
  /**
   * How often buffered appends are written (and, under `interval`, fsynced). Default 100 ms: each
   * fdatasync then has a tenth of a second's writes to flush, which on ext4 stalls concurrent
   * writers for a few milliseconds; a second's worth (1000 ms) stalled them for tens of
   * milliseconds, 3-5x the produce latency's p99 at half the maximum rate (bench/produce-consume.ts).
   * Kafka's `flush.ms` defaults to never, as it relies on replicas; a single process has none.
   */
  readonly flushIntervalMs: number;
  /**
   * Size of the appender's preallocated buffer; batches are copied into it and written with one
   * large `writeSync` when it fills. 0 writes every append straight to the file. Default 1 MiB.
   */
  readonly appendBufferBytes: number;
  /** Largest batch one append accepts; bigger ones fail with RECORD_TOO_LARGE (Kafka `message.max.bytes`). Default 1048588. */
  readonly maxBatchBytes: number;
  /** `delete` applies retention; `compact` keeps each key's latest record and ignores retention (Kafka `cleanup.policy`). Default `delete`. */
  readonly cleanupPolicy: CleanupPolicy;
  /** How long a compacted log keeps tombstones readable (Kafka `delete.retention.ms`). Default 1 day. */
  readonly deleteRetentionMs: number;
  /**
   * Compact once the bytes written to closed segments since the last compaction reach this share
   * of all closed bytes (Kafka `min.cleanable.dirty.ratio`, a number in [0, 1]). Default 0.5.
   */
  readonly minCleanableDirtyRatio: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const INT32_MAX = 0x7fff_ffff;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  indexIntervalBytes: 4096,
  maxIndexBytes: 10 * 1024 * 1024,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  fsync: 'interval',
  flushIntervalMs: 100,
  appendBufferBytes: 1024 * 1024,
  maxBatchBytes: 1024 * 1024 + 12,
  cleanupPolicy: 'delete',
  deleteRetentionMs: DAY_MS,
  minCleanableDirtyRatio: 0.5,
});

const ENUMS = { fsync: ['never', 'interval', 'always'], cleanupPolicy: ['delete', 'compact'] } as const satisfies Partial<Record<keyof LogConfig, readonly string[]>>;

/** Inclusive integer bounds per numeric field. File positions in the indexes are int32, hence the caps. */
const INTEGER_RANGES: { readonly [K in Exclude<keyof LogConfig, keyof typeof ENUMS | 'minCleanableDirtyRatio'>]: readonly [number, number] } = {
  segmentBytes: [BATCH_HEADER_SIZE, INT32_MAX],
  segmentMs: [1, Number.MAX_SAFE_INTEGER],
  indexIntervalBytes: [0, INT32_MAX],
  // Room for two time-index entries: Kafka keeps the last slot for the entry written at roll.
  maxIndexBytes: [24, INT32_MAX],
  retentionMs: [-1, Number.MAX_SAFE_INTEGER],
  retentionBytes: [-1, Number.MAX_SAFE_INTEGER],
  flushIntervalMs: [1, INT32_MAX],
  appendBufferBytes: [0, 1024 * 1024 * 1024],
  maxBatchBytes: [BATCH_HEADER_SIZE, INT32_MAX],
  deleteRetentionMs: [0, Number.MAX_SAFE_INTEGER],
};

function invalid(field: string, value: unknown, expected: string): TributaryError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new TributaryError('INVALID_CONFIG', `log config ${field} must be ${expected}, got ${shown}`, { field, value });
}

/** Merges `overrides` over the defaults, rejecting unknown keys and out-of-range values. */
export function resolveLogConfig(overrides: Partial<LogConfig> = {}): Readonly<LogConfig> {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new TributaryError('INVALID_CONFIG', `log config must be an object, got ${overrides === null ? 'null' : typeof overrides}`, { value: overrides });
  }
  const unknown = Object.keys(overrides).filter((key) => !Object.hasOwn(DEFAULT_LOG_CONFIG, key));
  if (unknown.length > 0) {
    throw new TributaryError('INVALID_CONFIG', `unknown log config key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known keys are ${Object.keys(DEFAULT_LOG_CONFIG).join(', ')}`, { fields: unknown });
  }
  const config = { ...DEFAULT_LOG_CONFIG };
  for (const [field, value] of Object.entries(overrides) as [keyof LogConfig, unknown][]) {
    if (value === undefined) continue;
    if (field === 'fsync' || field === 'cleanupPolicy') {
      const values: readonly string[] = ENUMS[field];
      if (!values.includes(value as string)) throw invalid(field, value, `one of ${values.join(', ')}`);
    } else if (field === 'minCleanableDirtyRatio') {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalid(field, value, 'a number between 0 and 1');
    } else {
      const [min, max] = INTEGER_RANGES[field];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw invalid(field, value, `an integer between ${min} and ${max}`);
      }
    }
    (config as Record<string, unknown>)[field] = value;
  }
  return Object.freeze(config);
}
