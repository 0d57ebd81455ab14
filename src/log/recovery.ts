/**
 * Opening a partition directory: Kafka's LogLoader. A compaction interrupted by a crash is
 * finished or discarded first (`finishInterruptedSwaps`, cleaner.ts); cleaned segments keep their
 * offset ranges contiguous, so nothing below treats them differently.
 *
 * After a clean shutdown (the marker `close()` writes last) nothing is rescanned: closed segments
 * keep their index files, and the log end offset comes from walking the batch headers after the
 * active segment's last index entry. After a crash, every segment from the one holding the
 * recovery point onward is validated batch by batch (length, magic, CRC32C, contiguous offsets)
 * and its indexes rebuilt.
 *
 * Bad bytes are handled by where they are:
 * - at the end of the last segment with no sound batch after them: a torn tail (a crash cut the
 *   last write short); the file is truncated there and the cut is reported in `RecoveryReport`;
 * - anywhere else (in a closed segment, or followed by a sound batch): corruption, which no crash
 *   of ours can produce since a segment is fsynced before the next one is created. Open fails
 *   with CORRUPT_LOG naming the segment file and byte position. Kafka would truncate the log at
 *   that point and delete every later segment, silently dropping good batches; an embedded log
 *   has no replica to refetch them from, so it stops and lets the operator decide.
 *
 * Index files of segments that are not rescanned are checked when first used (ensureIndexes);
 * missing ones, or ones whose size is not a whole number of entries, are rebuilt here.
 */
import path from 'node:path';
import { baseOffsetAt, lastOffsetAt } from '../record/batch-header.js';
import { BatchScanner } from './batch-scanner.js';
import { finishInterruptedSwaps } from './cleaner.js';
import { readCheckpoint } from './checkpoint.js';
import type { LogConfig } from './config.js';
import { corruptSegment, loadIndexFiles, rebuildIndexes } from './index-loader.js';
import { OFFSET_INDEX_ENTRY_SIZE } from './offset-index.js';
import { scanSegment, soundBatchFollows } from './segment-scan.js';
import {
  CLEAN_SHUTDOWN_MARKER,
  LOG_START_CHECKPOINT,
  RECOVERY_POINT_CHECKPOINT,
  parseSegmentFileName,
  segmentPaths,
} from './segment-files.js';
import { Segment } from './segment.js';
import { TEMP_SUFFIX, listDir, makeDir, removeFile, sizeOrMissing, syncData, syncDir, truncateFile } from './sync-fs.js';
import { TIME_INDEX_ENTRY_SIZE } from './time-index.js';

/** What opening the log found and did. */
export interface RecoveryReport {
  /** The previous `close()` completed, so no batch was rescanned. */
  readonly cleanShutdown: boolean;
  /** Segments whose every batch was validated on open. */
  readonly scannedSegments: number;
  /** Closed segments whose index files were missing or malformed and were rebuilt on open. */
  readonly rebuiltIndexes: number;
  /** The torn tail cut from the last segment, if there was one. */
  readonly truncated: { readonly segment: string; readonly position: number; readonly bytes: number; readonly problem: string } | null;
}

export interface LoadedLog {
  /** In offset order; the last is the active segment, with its indexes loaded. Never empty. */
  readonly segments: Segment[];
  readonly logStartOffset: number;
  readonly report: RecoveryReport;
}

const TAIL_WINDOW_BYTES = 64 * 1024;

export function loadLog(dir: string, config: LogConfig, now: number): LoadedLog {
  makeDir(dir);
  // A crash in the middle of a compaction left staged files: finish or discard that swap first (cleaner.ts).
  finishInterruptedSwaps(dir);
  const names = listDir(dir);
  const segments = findSegments(dir, names, now);
  try {
    return recover(dir, names.includes(CLEAN_SHUTDOWN_MARKER), segments, config, now);
  } catch (error) {
    for (const segment of segments) segment.close();
    throw error;
  }
}

function recover(dir: string, cleanShutdown: boolean, segments: Segment[], config: LogConfig, now: number): LoadedLog {
  let logStartOffset = readCheckpoint(dir, LOG_START_CHECKPOINT) ?? 0;
  let scannedSegments = 0;
  let rebuiltIndexes = 0;
  let truncated: RecoveryReport['truncated'] = null;

  if (segments.length > 0) {
    const last = segments[segments.length - 1];
    let scanFrom = segments.length;
    if (cleanShutdown) {
      const next = loadIndexFiles(last, Infinity) ? walkTail(last) : null;
      if (next === null) scanFrom = segments.length - 1;
      else last.nextOffset = next;
    } else {
      const recoveryPoint = readCheckpoint(dir, RECOVERY_POINT_CHECKPOINT) ?? 0;
      scanFrom = Math.max(0, segments.findLastIndex((segment) => segment.baseOffset <= recoveryPoint));
    }

    for (let i = 0; i < Math.min(scanFrom, segments.length - 1); i++) {
      if (indexFilesMalformed(segments[i])) {
        const damage = rebuildIndexes(segments[i], config.indexIntervalBytes);
        if (damage !== null) throw corruptSegment(segments[i], damage.position, damage.problem);
        rebuiltIndexes++;
      }
    }

    let expected = scanFrom < segments.length ? segments[scanFrom].baseOffset : 0;
    for (let i = scanFrom; i < segments.length; i++) {
      const segment = segments[i];
      const isLast = i === segments.length - 1;
      const outcome = scanSegment(segment, expected, config.indexIntervalBytes);
      scannedSegments++;
      if (outcome.problem !== null) {
        const position = outcome.validBytes;
        if (!isLast || segment.baseOffset !== expected || soundBatchFollows(segment, position, outcome.nextOffset)) {
          throw corruptSegment(segment, position, outcome.problem, { expectedOffset: outcome.nextOffset });
        }
        const fd = segment.handle(true);
        truncateFile(fd, segment.paths.log, position);
        syncData(fd, segment.paths.log);
        truncated = { segment: segment.paths.log, position, bytes: segment.fileBytes - position, problem: outcome.problem };
        segment.fileBytes = position;
      }
      segment.writeIndexes();
      expected = outcome.nextOffset;
    }
    if (scannedSegments > 0) syncDir(dir);
  }

  // A log start offset past the end means segments vanished behind the log's back (or a torn
  // tail took the offsets deleteRecordsBefore had reached): start over there, as Kafka does.
  if (segments.length > 0 && logStartOffset > segments[segments.length - 1].nextOffset) {
    for (const segment of segments.splice(0)) segment.delete();
  }
  if (segments.length === 0) {
    segments.push(Segment.create(dir, logStartOffset, now));
    syncDir(dir);
  }
  logStartOffset = Math.max(logStartOffset, segments[0].baseOffset);

  if (cleanShutdown) {
    // Until the next clean close, a crash must not be mistaken for one.
    removeFile(path.join(dir, CLEAN_SHUTDOWN_MARKER));
    syncDir(dir);
  }
  return { segments, logStartOffset, report: { cleanShutdown, scannedSegments, rebuiltIndexes, truncated } };
}

/** The segments in `dir`, after removing temporary files of interrupted writes and index files without a log. */
function findSegments(dir: string, names: readonly string[], now: number): Segment[] {
  const bases: number[] = [];
  const indexes: { baseOffset: number; name: string }[] = [];
  for (const name of names) {
    if (name.endsWith(TEMP_SUFFIX)) {
      removeFile(path.join(dir, name));
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (parsed === null) continue;
    if (parsed.kind === 'log') bases.push(parsed.baseOffset);
    else indexes.push({ baseOffset: parsed.baseOffset, name });
  }
  bases.sort((a, b) => a - b);
  const logs = new Set(bases);
  for (const { baseOffset, name } of indexes) if (!logs.has(baseOffset)) removeFile(path.join(dir, name));
  return bases.map(
    (baseOffset, i) => new Segment(dir, baseOffset, sizeOrMissing(segmentPaths(dir, baseOffset).log), i + 1 < bases.length ? bases[i + 1] : NaN, now),
  );
}

/** Whether a closed segment's index files are missing or not a whole number of entries (checked without reading them). */
function indexFilesMalformed(segment: Segment): boolean {
  const offsetSize = sizeOrMissing(segment.paths.index);
  const timeSize = sizeOrMissing(segment.paths.timeIndex);
  return offsetSize < 0 || timeSize < 0 || offsetSize % OFFSET_INDEX_ENTRY_SIZE !== 0 || timeSize % TIME_INDEX_ENTRY_SIZE !== 0;
}

/**
 * The offset after the last batch of a cleanly closed segment, from its batch headers after the
 * last offset-index entry; null when they do not frame the file's tail exactly or disagree with
 * the indexes, in which case the segment is rescanned.
 */
function walkTail(segment: Segment): number | null {
  const index = segment.offsetIndex;
  const scanner = new BatchScanner(segment, index.lastPosition, segment.fileBytes, TAIL_WINDOW_BYTES, true);
  let expected = index.entries === 0 ? segment.baseOffset : -1;
  for (;;) {
    const framing = scanner.next();
    if (framing === 'END') break;
    if (framing !== null) return null;
    const baseOffset = baseOffsetAt(scanner.buf, scanner.at);
    const lastOffset = lastOffsetAt(scanner.buf, scanner.at);
    if (expected < 0 ? lastOffset !== index.lastOffset : baseOffset !== expected) return null;
    if (lastOffset < baseOffset) return null;
    expected = lastOffset + 1;
  }
  if (expected < 0) return null;
  const time = segment.timeIndex;
  if (time.entries > 0 && time.lastOffset >= expected) return null;
  return expected;
}
