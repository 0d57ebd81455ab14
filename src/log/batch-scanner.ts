/**
 * Walks the batches of one segment in file order with large sequential reads, for recovery,
 * index rebuilds, offset lookups and timestamp searches. One read brings in many batches; a batch
 * larger than the read window gets a window of its own.
 */
import { BATCH_HEADER_SIZE, batchSizeAt } from '../record/batch-header.js';
import { allocIoBuffer } from './io-buffer.js';
import type { Segment } from './segment.js';

/** Where a scan reads its bytes: a segment, or any file of batches read the same way (the CLI's dump-log reads files no log owns). */
export type SegmentBytes = Pick<Segment, 'read'>;

/** Why the bytes at the scanner's position cannot be framed as a batch. */
export type FramingProblem = 'TRUNCATED_HEADER' | 'INVALID_LENGTH' | 'TRUNCATED_BATCH';

export class BatchScanner {
  /** Buffer holding the current batch from `at`: its whole bytes, or with `headersOnly` at least its header. */
  buf: Buffer;
  at = 0;
  /** File position of the current batch. */
  position = -1;
  /** Size of the current batch, header included. */
  size = 0;

  private windowStart = 0;
  private windowLength = 0;
  private nextPosition: number;

  /**
   * Scans `segment` from byte `from` (a batch boundary) to byte `end`. With `headersOnly`, batch
   * bodies that extend past the window are skipped rather than read.
   */
  constructor(
    private readonly segment: SegmentBytes,
    from: number,
    private readonly end: number,
    private readonly windowBytes: number,
    private readonly headersOnly = false,
  ) {
    this.buf = allocIoBuffer(Math.min(windowBytes, Math.max(end - from, BATCH_HEADER_SIZE)));
    this.nextPosition = from;
  }

  /**
   * Moves to the next batch: 'END' when the scan reached `end`, a framing problem when the bytes
   * at the position cannot hold a batch (the position stays on them), else null. Magic and CRC
   * are left to the caller.
   */
  next(): 'END' | FramingProblem | null {
    const position = this.nextPosition;
    this.position = position;
    const remaining = this.end - position;
    if (remaining <= 0) return 'END';
    if (remaining < BATCH_HEADER_SIZE) return 'TRUNCATED_HEADER';
    this.load(position, BATCH_HEADER_SIZE);
    const size = batchSizeAt(this.buf, this.at);
    if (size < BATCH_HEADER_SIZE) return 'INVALID_LENGTH';
    if (size > remaining) return 'TRUNCATED_BATCH';
    if (!this.headersOnly) this.load(position, size);
    this.size = size;
    this.nextPosition = position + size;
    return null;
  }

  /** Makes bytes [position, position + length) available in `buf` from `at`. */
  private load(position: number, length: number): void {
    if (position >= this.windowStart && position + length <= this.windowStart + this.windowLength) {
      this.at = position - this.windowStart;
      return;
    }
    if (length > this.buf.length) this.buf = allocIoBuffer(length);
    const count = Math.min(this.end - position, Math.max(length, Math.min(this.windowBytes, this.buf.length)));
    this.segment.read(this.buf, 0, position, count);
    this.windowStart = position;
    this.windowLength = count;
    this.at = 0;
  }
}
