/**
 * A segment's sparse offset index, byte for byte Kafka's `.index` file: 8-byte big-endian entries
 * of (int32 offset relative to the segment's base offset, int32 file position of a batch start).
 *
 * Kafka's rule for which offset goes into an entry (LogSegment.append and LogSegment.recover): when
 * more than `indexIntervalBytes` of log bytes have been appended since the last entry, the next
 * batch gets an entry mapping the batch's LAST offset to the batch's start position. A lookup for
 * offset X takes the greatest entry whose offset is <= X; the batch holding X starts at or after
 * that entry's position, because the entry's batch ends at or before X. The rule is applied per
 * batch, as Kafka's recover() does; Kafka's append applies it per produce request, which is the
 * same thing for v2 producers (one batch per partition per request), so an index built while
 * appending is identical to one rebuilt by recovery.
 *
 * The entries live in a Buffer laid out like the file (see IndexEntries).
 */
import { IndexEntries } from './index-entries.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class OffsetIndex extends IndexEntries {
  constructor(baseOffset: number, bytes?: Buffer) {
    super(baseOffset, OFFSET_INDEX_ENTRY_SIZE, bytes);
  }

  /** Offset of the last entry, or the base offset when empty (as Kafka reports it). */
  get lastOffset(): number {
    return this.count === 0 ? this.baseOffset : this.offsetAt(this.count - 1);
  }

  /** File position of the last entry, or 0 when empty. */
  get lastPosition(): number {
    return this.count === 0 ? 0 : this.positionAt(this.count - 1);
  }

  append(offset: number, position: number): void {
    const at = this.nextEntryPosition();
    this.buf.writeInt32BE(offset - this.baseOffset, at);
    this.buf.writeInt32BE(position, at + 4);
    this.count++;
  }

  /** File position from which to scan for `offset`: that of the greatest entry <= offset, else 0. */
  lookup(offset: number): number {
    const slot = this.slotFor(offset);
    return slot < 0 ? 0 : this.positionAt(slot);
  }

  /** The slot of the greatest entry whose offset is <= `offset`, or -1 if there is none. */
  slotFor(offset: number): number {
    return this.greatestSlotAtOrBelow(offset - this.baseOffset, (slot) => this.buf.readInt32BE(slot * OFFSET_INDEX_ENTRY_SIZE));
  }

  offsetAt(slot: number): number {
    return this.baseOffset + this.buf.readInt32BE(slot * OFFSET_INDEX_ENTRY_SIZE);
  }

  positionAt(slot: number): number {
    return this.buf.readInt32BE(slot * OFFSET_INDEX_ENTRY_SIZE + 4);
  }
}

/**
 * Why `bytes` cannot be the offset index of a segment whose log file holds `logSize` bytes, or
 * null. Stricter than Kafka's sanity check (size and last offset only): every entry must advance
 * both offset and position and point inside the log, since a wrong entry would send reads to the
 * middle of a batch.
 */
export function offsetIndexProblem(bytes: Buffer, logSize: number): string | null {
  if (bytes.length % OFFSET_INDEX_ENTRY_SIZE !== 0) return `size ${bytes.length} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`;
  let previousOffset = -1;
  let previousPosition = -1;
  for (let at = 0; at < bytes.length; at += OFFSET_INDEX_ENTRY_SIZE) {
    const relative = bytes.readInt32BE(at);
    const position = bytes.readInt32BE(at + 4);
    if (relative <= previousOffset) return `entry ${at / OFFSET_INDEX_ENTRY_SIZE} has relative offset ${relative}, not above ${previousOffset}`;
    if (position <= previousPosition || position >= logSize) {
      return `entry ${at / OFFSET_INDEX_ENTRY_SIZE} has position ${position}, outside (${previousPosition}, ${logSize})`;
    }
    previousOffset = relative;
    previousPosition = position;
  }
  return null;
}
