/**
 * The log layer: one partition's segmented log in Kafka's on-disk format.
 */
export {
  Log,
  type AppendOptions,
  type AppendResult,
  type FlushOptions,
  type LogOptions,
  type ReadResult,
  type RetentionResult,
  type SegmentInfo,
  type TimestampOffset,
} from './log.js';
export { DEFAULT_LOG_CONFIG, resolveLogConfig, type FsyncPolicy, type LogConfig } from './config.js';
export type { RecoveryReport } from './recovery.js';
export type { CompactOptions, CompactResult } from './cleaner.js';
