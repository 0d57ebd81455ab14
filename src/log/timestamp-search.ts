/**
 * Kafka's ListOffsets by timestamp (UnifiedLog.fetchOffsetByTimestamp, LogSegment.findOffsetByTimestamp):
 * the first record, in offset order and at or after the log start offset, whose timestamp is >=
 * the target.
 *
 * The first segment whose largest timestamp reaches the target is searched from its time-index
 * entry for the target (no earlier record can qualify, see TimeIndex), mapped to a file position
 * through the offset index; batches whose max timestamp is below the target are skipped by header,
 * and the first one that reaches it is decoded for the record-level answer.
 */
import { TributaryError } from '../errors.js';
import { checkBatch, lastOffsetAt, maxTimestampAt } from '../record/batch-header.js';
import { decodeRecordBatch } from '../record/batch-decoder.js';
import { BatchScanner } from './batch-scanner.js';
import { corruptSegment, ensureIndexes } from './index-loader.js';
import { segmentIndexFor } from './reader.js';
import type { Segment } from './segment.js';

export interface TimestampOffset {
  readonly offset: number;
  readonly timestamp: number;
}

const SEARCH_WINDOW_BYTES = 1024 * 1024;

export function findOffsetForTimestamp(
  segments: readonly Segment[],
  timestamp: number,
  logStartOffset: number,
  indexIntervalBytes: number,
): TimestampOffset | null {
  for (let i = segmentIndexFor(segments, logStartOffset); i < segments.length; i++) {
    const segment = segments[i];
    ensureIndexes(segment, indexIntervalBytes);
    if (segment.maxTimestamp < timestamp) continue;
    const found = searchSegment(segment, timestamp, logStartOffset);
    if (found !== null) return found;
  }
  return null;
}

function searchSegment(segment: Segment, timestamp: number, logStartOffset: number): TimestampOffset | null {
  const from = segment.offsetIndex.lookup(Math.max(segment.timeIndex.lookup(timestamp), logStartOffset));
  const scanner = new BatchScanner(segment, from, segment.size, SEARCH_WINDOW_BYTES, true);
  for (let framing = scanner.next(); framing !== 'END'; framing = scanner.next()) {
    if (framing !== null) throw corruptSegment(segment, scanner.position, framing);
    const { buf, at, size, position } = scanner;
    if (lastOffsetAt(buf, at) < logStartOffset || maxTimestampAt(buf, at) < timestamp) continue;
    const batch = Buffer.allocUnsafe(size);
    segment.read(batch, 0, position, size);
    const problem = checkBatch(batch, 0, size);
    if (problem !== null) {
      throw new TributaryError('CORRUPT_BATCH', `batch at byte ${position} of segment ${segment.paths.log} is invalid: ${problem}`, {
        segment: segment.paths.log,
        position,
        problem,
      });
    }
    for (const record of decodeRecordBatch(batch, { verifyCrc: false }).records) {
      if (record.offset >= logStartOffset && record.timestamp >= timestamp) return { offset: record.offset, timestamp: record.timestamp };
    }
  }
  return null;
}
