/**
 * The read path: find the batch holding an offset (index lookup, then a short forward scan of
 * batch headers), then read whole batches into one fresh buffer with one `readSync` per segment
 * touched, and verify each batch before handing it out.
 *
 * A sequential reader asks next for the offset where its previous read ended; that position is
 * remembered, so such reads skip the lookup and cost one read syscall each.
 */
import { TributaryError } from '../errors.js';
import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  baseOffsetAt,
  batchSizeAt,
  checkBatch,
  lastOffsetAt,
} from '../record/batch-header.js';
import { BatchScanner } from './batch-scanner.js';
import { corruptSegment, ensureIndexes, rebuildIndexes } from './index-loader.js';
import { allocIoBuffer } from './io-buffer.js';
import type { Segment } from './segment.js';

/** Where the batch holding an offset starts. */
export interface BatchLocation {
  /** Index of the segment in the log's list. */
  readonly index: number;
  readonly position: number;
  /** The batch's base offset, as the chain of batches leading to it says it must be. */
  readonly baseOffset: number;
}

export interface BatchRead {
  /**
   * Whole, CRC-verified batches: the only view of a fresh ArrayBuffer, which the caller owns and
   * may transfer to another thread whole. The ArrayBuffer may hold a few bytes before the view
   * (see io-buffer.ts) and, after it, up to an eighth of its length (the start of a cut batch).
   */
  readonly bytes: Buffer;
  /** Offset after the last returned batch. */
  readonly nextOffset: number;
}

/** Index of the segment whose range holds `offset`: the last one whose base offset is <= it. */
export function segmentIndexFor(segments: readonly Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (segments[mid].baseOffset <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class LogReader {
  private cachedOffset = -1;
  private cachedSegment: Segment | null = null;
  private cachedPosition = 0;

  /** `segments` is the log's live list; the reader sees its changes (a remembered position in a deleted segment no longer matches). */
  constructor(
    private readonly segments: readonly Segment[],
    private readonly indexIntervalBytes: number,
  ) {}

  /**
   * Whole batches from the one holding `offset` (which must be in [logStartOffset, logEndOffset)):
   * the first batch even if it is larger than `maxBytes`, then more while the total stays within
   * `maxBytes`, across segment boundaries and into the appender's buffer.
   */
  read(offset: number, maxBytes: number): BatchRead {
    const { index: first, position: start, baseOffset } = this.locate(offset);
    const wanted = Math.max(maxBytes, BATCH_HEADER_SIZE);
    const inFirst = this.segments[first].size - start;
    let available = inFirst;
    for (let i = first + 1; i < this.segments.length && available < wanted; i++) available += this.segments[i].size;

    let length = Math.min(available, wanted);
    let out = allocIoBuffer(length);
    let pieces = this.fill(out, first, start, length);
    if (length >= LOG_OVERHEAD) {
      const firstSize = batchSizeAt(out, 0);
      if (firstSize > length && firstSize <= inFirst) {
        length = firstSize;
        out = allocIoBuffer(length);
        pieces = this.fill(out, first, start, length);
      }
    }

    let p = 0;
    let piece = 0;
    let expected = -1;
    while (p === 0 || length - p >= LOG_OVERHEAD) {
      while (p >= pieces[piece].end && piece < pieces.length - 1) piece++;
      const { segment, outStart, position, end } = pieces[piece];
      const size = length - p >= LOG_OVERHEAD ? batchSizeAt(out, p) : 0;
      const whole = size >= BATCH_HEADER_SIZE && p + size <= length;
      if (!whole && size >= BATCH_HEADER_SIZE && p > 0) break;
      let problem: string | null = !whole || p + size > end ? 'INVALID_LENGTH' : checkBatch(out, p, p + size);
      if (problem === null) {
        if (baseOffsetAt(out, p) !== (p === 0 ? baseOffset : expected)) problem = 'UNEXPECTED_OFFSET';
      }
      if (problem !== null) {
        if (p > 0) break;
        throw new TributaryError('CORRUPT_BATCH', `batch at byte ${position + p - outStart} of segment ${segment.paths.log} is invalid: ${problem}`, {
          segment: segment.paths.log,
          position: position + p - outStart,
          offset,
          problem,
        });
      }
      expected = lastOffsetAt(out, p) + 1;
      p += size;
    }

    while (piece < pieces.length - 1 && p >= pieces[piece].end) piece++;
    const last = pieces[piece];
    this.cachedOffset = expected;
    this.cachedSegment = last.segment;
    this.cachedPosition = last.position + p - last.outStart;
    if (length - p <= p >> 3) return { bytes: out.subarray(0, p), nextOffset: expected };
    // The bytes after the last whole batch (one cut by maxBytes) would stay in the ArrayBuffer the
    // caller holds; when they are more than an eighth of the batches, the batches move into a
    // buffer of their own size, so that what a reader holds is, to within an eighth, what it counts.
    const bytes = allocIoBuffer(p);
    out.copy(bytes, 0, 0, p);
    return { bytes, nextOffset: expected };
  }

  /**
   * Where the batch holding `offset` starts. When the walk from the index does not reach it, the
   * index of a closed segment is rebuilt once from the log file; if the offset still cannot be
   * reached, the segment is corrupt there (CORRUPT_LOG naming the damage the rebuild found).
   */
  locate(offset: number): BatchLocation {
    const index = segmentIndexFor(this.segments, offset);
    const segment = this.segments[index];
    if (this.cachedSegment === segment && this.cachedOffset === offset) return { index, position: this.cachedPosition, baseOffset: offset };
    ensureIndexes(segment, this.indexIntervalBytes);
    let found = this.scanFor(segment, offset);
    if (found.position < 0 && segment.tail === null && segment.damage === null) {
      segment.damage = rebuildIndexes(segment, this.indexIntervalBytes);
      found = this.scanFor(segment, offset);
    }
    if (found.position < 0) {
      const { position, problem } = segment.damage ?? { position: found.stoppedAt, problem: 'OFFSET_NOT_FOUND' };
      throw corruptSegment(segment, position, problem, { offset });
    }
    return { index, position: found.position, baseOffset: found.baseOffset };
  }

  /**
   * Walks batch headers from the index entry for `offset` to the batch holding it, checking that
   * they chain: the first one ends at the entry's offset (or, from the segment's start, begins at
   * its base offset) and each begins where the previous ended. The CRC does not cover baseOffset,
   * so this chain is what vouches for it. Position -1 if the walk breaks or overshoots.
   */
  private scanFor(segment: Segment, offset: number): { position: number; baseOffset: number; stoppedAt: number } {
    const index = segment.offsetIndex;
    const slot = index.slotFor(offset);
    const window = Math.min(1024 * 1024, Math.max(4096, 2 * this.indexIntervalBytes + BATCH_HEADER_SIZE));
    const scanner = new BatchScanner(segment, slot < 0 ? 0 : index.positionAt(slot), segment.size, window, true);
    let expected = slot < 0 ? segment.baseOffset : -1;
    while (scanner.next() === null) {
      const baseOffset = baseOffsetAt(scanner.buf, scanner.at);
      const lastOffset = lastOffsetAt(scanner.buf, scanner.at);
      const chained = expected < 0 ? lastOffset === index.offsetAt(slot) : baseOffset === expected;
      if (!chained || lastOffset < baseOffset || baseOffset > offset) break;
      if (lastOffset >= offset) return { position: scanner.position, baseOffset, stoppedAt: scanner.position };
      expected = lastOffset + 1;
    }
    return { position: -1, baseOffset: -1, stoppedAt: scanner.position };
  }

  /** Reads `length` log bytes from segment `first` at `position` onward into `out`; returns which bytes came from where. */
  private fill(out: Buffer, first: number, position: number, length: number): Piece[] {
    const pieces: Piece[] = [];
    let filled = 0;
    for (let i = first; filled < length; i++) {
      const segment = this.segments[i];
      const from = i === first ? position : 0;
      const count = Math.min(length - filled, segment.size - from);
      segment.read(out, filled, from, count);
      pieces.push({ segment, outStart: filled, position: from, end: filled + count });
      filled += count;
    }
    return pieces;
  }
}

/** Bytes out[outStart, end) are segment bytes from `position`. */
interface Piece {
  readonly segment: Segment;
  readonly outStart: number;
  readonly position: number;
  readonly end: number;
}
