/**
 * Names of a partition directory's files, as Kafka lays them out: each segment is three files
 * named by its base offset in 20 zero-padded digits, plus the checkpoints and the shutdown marker.
 */
import path from 'node:path';

const LOG_SUFFIX = '.log';
const INDEX_SUFFIX = '.index';
const TIME_INDEX_SUFFIX = '.timeindex';

/** Up to which offset everything was fsynced (Kafka keeps this per log dir as `recovery-point-offset-checkpoint`). */
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
/** The log start offset set by deleteRecordsBefore (Kafka: `log-start-offset-checkpoint`). */
export const LOG_START_CHECKPOINT = 'log-start-offset-checkpoint';
/**
 * Present only after a complete `close()`, so its absence on open means a crash. Kafka keeps one
 * `.kafka_cleanshutdown` per log dir; a tributary log owns its directory, so the marker lives there.
 */
export const CLEAN_SHUTDOWN_MARKER = 'clean-shutdown';

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

export interface SegmentPaths {
  readonly log: string;
  readonly index: string;
  readonly timeIndex: string;
}

export function segmentPaths(dir: string, baseOffset: number): SegmentPaths {
  const stem = path.join(dir, String(baseOffset).padStart(20, '0'));
  return { log: stem + LOG_SUFFIX, index: stem + INDEX_SUFFIX, timeIndex: stem + TIME_INDEX_SUFFIX };
}

/** The base offset and kind of a segment file name, or null for any other file. */
export function parseSegmentFileName(name: string): { baseOffset: number; kind: 'log' | 'index' | 'timeindex' } | null {
  const match = SEGMENT_FILE.exec(name);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, kind: match[2] as 'log' | 'index' | 'timeindex' };
}
