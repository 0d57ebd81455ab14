/**
 * Full validation of a segment's batches, rebuilding its indexes on the way (Kafka's
 * LogSegment.recover), and the search that tells a torn tail from corruption in the middle.
 */
import {
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  baseOffsetAt,
  checkBatch,
  lastOffsetAt,
  maxTimestampAt,
} from '../record/batch-header.js';
import { BatchScanner } from './batch-scanner.js';
import { allocIoBuffer } from './io-buffer.js';
import type { Segment } from './segment.js';

const INT32_MAX = 0x7fff_ffff;
/** The high 32 bits of every int64 below 2^53. */
const MAX_SAFE_OFFSET_HIGH = 0x1f_ffff;
/** Recovery reads segments in windows this large. */
const RECOVERY_WINDOW_BYTES = 4 * 1024 * 1024;

/** What a full scan found: batches up to `validBytes` are sound; `problem` says why the scan stopped early. */
export interface ScanOutcome {
  readonly validBytes: number;
  /** Offset after the last sound batch. */
  readonly nextOffset: number;
  /** null when every byte of the file belongs to a sound batch. */
  readonly problem: string | null;
}

/**
 * Why the framed, checksummed batch at `at` cannot follow offset `expected - 1` in `segment`, or
 * null. The CRC does not cover baseOffset, so offsets are checked here: each batch must start
 * where the previous ended (appends assign offsets contiguously) and end within int32 of the
 * segment's base offset (the indexes store relative offsets).
 */
function offsetProblem(buf: Buffer, at: number, expected: number, segmentBase: number): string | null {
  if (baseOffsetAt(buf, at) !== expected) return 'UNEXPECTED_OFFSET';
  if (buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) < 0) return 'NEGATIVE_LAST_OFFSET_DELTA';
  if (lastOffsetAt(buf, at) - segmentBase > INT32_MAX) return 'OFFSET_OVERFLOW';
  return null;
}

/**
 * Validates every batch of `segment` (length, magic, CRC32C, offsets) starting at offset
 * `expectedOffset`, and rebuilds its indexes from the sound prefix.
 */
export function scanSegment(segment: Segment, expectedOffset: number, indexIntervalBytes: number): ScanOutcome {
  segment.startIndexes();
  segment.nextOffset = expectedOffset;
  if (segment.baseOffset !== expectedOffset) return { validBytes: 0, nextOffset: expectedOffset, problem: 'UNEXPECTED_OFFSET' };
  const scanner = new BatchScanner(segment, 0, segment.fileBytes, RECOVERY_WINDOW_BYTES);
  let expected = expectedOffset;
  for (;;) {
    const framing = scanner.next();
    if (framing === 'END') return { validBytes: segment.fileBytes, nextOffset: expected, problem: null };
    const { buf, at, size, position } = scanner;
    const problem = framing ?? checkBatch(buf, at, at + size) ?? offsetProblem(buf, at, expected, segment.baseOffset);
    if (problem !== null) return { validBytes: position, nextOffset: expected, problem };
    const lastOffset = lastOffsetAt(buf, at);
    segment.indexBatch(position, size, lastOffset, maxTimestampAt(buf, at), indexIntervalBytes);
    expected = lastOffset + 1;
  }
}

/**
 * Whether a sound batch starts anywhere in `segment` after byte `from`, with a base offset at or
 * above `expectedOffset`. If so, the bad bytes at `from` are not a torn tail (a crash cuts the end
 * of the file; it never leaves good batches behind bad ones) but corruption in the middle.
 *
 * Every position is a candidate, filtered cheaply (magic byte, length, offset) before the CRC.
 */
export function soundBatchFollows(segment: Segment, from: number, expectedOffset: number): boolean {
  return nextSoundBatch(segment, from, expectedOffset) >= 0;
}

/** The file position of the first sound batch after byte `from` whose base offset is at or above `expectedOffset`, or -1 (see soundBatchFollows). */
export function nextSoundBatch(segment: Pick<Segment, 'read' | 'fileBytes' | 'baseOffset'>, from: number, expectedOffset: number): number {
  const end = segment.fileBytes;
  const window = allocIoBuffer(Math.min(RECOVERY_WINDOW_BYTES, Math.max(end - from, BATCH_HEADER_SIZE)));
  let batch: Buffer | null = null;
  // Windows overlap by a header, so every header lies wholly inside some window.
  for (let start = from + 1; start + BATCH_HEADER_SIZE <= end; start += window.length - BATCH_HEADER_SIZE) {
    const length = Math.min(window.length, end - start);
    segment.read(window, 0, start, length);
    for (let p = 0; p + BATCH_HEADER_SIZE <= length; p++) {
      if (window[p + MAGIC_OFFSET] !== CURRENT_MAGIC) continue;
      const size = window.readInt32BE(p + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || start + p + size > end) continue;
      // Garbage may hold any int64 here; one that is negative or beyond 2^53 (which reading would throw on) is no batch of a log.
      const baseOffsetHigh = window.readInt32BE(p);
      if (baseOffsetHigh < 0 || baseOffsetHigh > MAX_SAFE_OFFSET_HIGH) continue;
      const baseOffset = baseOffsetAt(window, p);
      if (baseOffset < expectedOffset || baseOffset - segment.baseOffset > INT32_MAX) continue;
      if (p + size <= length) {
        if (checkBatch(window, p, p + size) === null) return start + p;
      } else {
        if (batch === null || batch.length < size) batch = allocIoBuffer(size);
        segment.read(batch, 0, start + p, size);
        if (checkBatch(batch, 0, size) === null) return start + p;
      }
    }
    if (start + length >= end) break;
  }
  return -1;
}
