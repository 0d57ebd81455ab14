/**
 * Loads a closed segment's index files, checking them first, and rebuilds them from the log file
 * when they are missing or fail the checks (Kafka rebuilds on CorruptIndexException the same way).
 */
import { TributaryError } from '../errors.js';
import { OffsetIndex, offsetIndexProblem } from './offset-index.js';
import { scanSegment } from './segment-scan.js';
import type { Segment } from './segment.js';
import { readWholeFile, syncDir } from './sync-fs.js';
import { TimeIndex, timeIndexProblem } from './time-index.js';

/**
 * Loads `segment`'s indexes unless already loaded, rebuilding them if their files fail the checks
 * (recording in `segment.damage` any unsound bytes the rebuild finds).
 */
export function ensureIndexes(segment: Segment, indexIntervalBytes: number): void {
  if (segment.indexesLoaded || loadIndexFiles(segment, segment.nextOffset)) return;
  segment.damage = rebuildIndexes(segment, indexIntervalBytes);
}

/**
 * Loads `segment`'s index files if both exist and pass the checks; returns whether it did.
 * `nextOffset` bounds the time index's offsets (Infinity when not known yet).
 */
export function loadIndexFiles(segment: Segment, nextOffset: number): boolean {
  const offsetBytes = readWholeFile(segment.paths.index);
  const timeBytes = readWholeFile(segment.paths.timeIndex);
  if (
    offsetBytes === null ||
    timeBytes === null ||
    offsetIndexProblem(offsetBytes, segment.fileBytes) !== null ||
    timeIndexProblem(timeBytes, segment.baseOffset, nextOffset) !== null
  ) {
    return false;
  }
  segment.loadIndexes(new OffsetIndex(segment.baseOffset, offsetBytes), new TimeIndex(segment.baseOffset, timeBytes));
  return true;
}

/**
 * Rebuilds a closed segment's indexes by validating every batch. A closed segment must be sound
 * to its end and reach the next segment's base offset; if it is, the index files are written and
 * null returned, else the damage (the indexes then cover the sound prefix).
 */
export function rebuildIndexes(segment: Segment, indexIntervalBytes: number): Segment['damage'] {
  const knownNext = segment.nextOffset;
  const outcome = scanSegment(segment, segment.baseOffset, indexIntervalBytes);
  if (outcome.problem !== null) return { position: outcome.validBytes, problem: outcome.problem };
  if (outcome.nextOffset !== knownNext) return { position: segment.fileBytes, problem: 'OFFSET_GAP' };
  segment.writeIndexes();
  syncDir(segment.dir);
  return null;
}

export function corruptSegment(segment: Segment, position: number, problem: string, details: Record<string, unknown> = {}): TributaryError {
  return new TributaryError('CORRUPT_LOG', `segment ${segment.paths.log} is corrupt at byte ${position}: ${problem}`, {
    segment: segment.paths.log,
    position,
    problem,
    ...details,
  });
}
