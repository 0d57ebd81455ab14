/**
 * Which of the oldest segments retention deletes, by Kafka's rules (UnifiedLog.deleteOldSegments),
 * applied in Kafka's order, each continuing from where the previous stopped and each stopping at
 * the first segment it keeps:
 *
 * 1. segments wholly below the log start offset (the next segment starts at or below it);
 * 2. size: while the log without the oldest remaining segment is still >= `retentionBytes`;
 * 3. time: while the oldest remaining segment's largest timestamp is more than `retentionMs` ago.
 *
 * The active segment is never deleted. Kafka rolls an active segment that breaches retention and
 * then deletes it, emptying an idle topic; here the newest batches stay until appends roll them
 * into a closed segment, so the log end offset always has its segment and a reader that polls an
 * idle log keeps the last batches it may not have seen yet.
 */
import type { LogConfig } from './config.js';

export interface RetentionSegment {
  readonly baseOffset: number;
  readonly size: number;
}

/** How many segments, oldest first, to delete from `segments` (the last one is the active segment). */
export function retentionCount<S extends RetentionSegment>(
  segments: readonly S[],
  config: Pick<LogConfig, 'retentionBytes' | 'retentionMs'>,
  now: number,
  logStartOffset: number,
  largestTimestamp: (segment: S) => number,
): number {
  const closed = segments.length - 1;
  let count = 0;
  while (count < closed && segments[count + 1].baseOffset <= logStartOffset) count++;

  if (config.retentionBytes >= 0) {
    let excess = -config.retentionBytes;
    for (let i = count; i < segments.length; i++) excess += segments[i].size;
    while (count < closed && excess - segments[count].size >= 0) {
      excess -= segments[count].size;
      count++;
    }
  }

  if (config.retentionMs >= 0) {
    while (count < closed && now - largestTimestamp(segments[count]) > config.retentionMs) count++;
  }
  return count;
}
