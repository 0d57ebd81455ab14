/**
 * A segment's sparse time index, byte for byte Kafka's `.timeindex` file: 12-byte big-endian
 * entries of (int64 timestamp, int32 offset relative to the segment's base offset).
 *
 * Kafka's rule (LogSegment.append / recover, TimeIndex.maybeAppend): each time an offset-index
 * entry is written, the segment's largest timestamp so far is offered together with the last
 * offset of the first batch that reached it; it is appended only if it is greater than the last
 * entry's timestamp. When the segment is rolled or closed the same pair is offered once more, so
 * a closed segment's last entry holds its largest timestamp (which time-based retention reads).
 * An entry (T, O) promises that no record at an offset <= O has a timestamp above T.
 */
import { readInt64, writeInt64 } from '../record/int64.js';
import { IndexEntries } from './index-entries.js';

export const TIME_INDEX_ENTRY_SIZE = 12;
/** Kafka's RecordBatch.NO_TIMESTAMP: what an empty index reports as its last timestamp. */
export const NO_TIMESTAMP = -1;

export class TimeIndex extends IndexEntries {
  constructor(baseOffset: number, bytes?: Buffer) {
    super(baseOffset, TIME_INDEX_ENTRY_SIZE, bytes);
  }

  /** Timestamp of the last entry, or NO_TIMESTAMP when empty. */
  get lastTimestamp(): number {
    return this.count === 0 ? NO_TIMESTAMP : readInt64(this.buf, (this.count - 1) * TIME_INDEX_ENTRY_SIZE);
  }

  /** Offset of the last entry, or the base offset when empty. */
  get lastOffset(): number {
    return this.count === 0 ? this.baseOffset : this.baseOffset + this.buf.readInt32BE((this.count - 1) * TIME_INDEX_ENTRY_SIZE + 8);
  }

  timestampAt(slot: number): number {
    return readInt64(this.buf, slot * TIME_INDEX_ENTRY_SIZE);
  }

  offsetAt(slot: number): number {
    return this.baseOffset + this.buf.readInt32BE(slot * TIME_INDEX_ENTRY_SIZE + 8);
  }

  /** Appends (timestamp, offset) if timestamp is above the last entry's, as Kafka's maybeAppend does. */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp <= this.lastTimestamp) return;
    const at = this.nextEntryPosition();
    writeInt64(this.buf, timestamp, at);
    this.buf.writeInt32BE(offset - this.baseOffset, at + 8);
    this.count++;
  }

  /**
   * Offset from which to search for the first record with a timestamp >= `timestamp`: that of the
   * greatest entry whose timestamp is <= `timestamp`, else the base offset.
   */
  lookup(timestamp: number): number {
    const found = this.greatestSlotAtOrBelow(timestamp, (slot) => readInt64(this.buf, slot * TIME_INDEX_ENTRY_SIZE));
    return found < 0 ? this.baseOffset : this.baseOffset + this.buf.readInt32BE(found * TIME_INDEX_ENTRY_SIZE + 8);
  }
}

/**
 * Why `bytes` cannot be the time index of a segment whose offsets are below `nextOffset`, or null.
 * Kafka checks the size and the first/last entries; this checks every entry, since a wrong
 * timestamp would make time-based retention delete a segment early.
 */
export function timeIndexProblem(bytes: Buffer, baseOffset: number, nextOffset: number): string | null {
  if (bytes.length % TIME_INDEX_ENTRY_SIZE !== 0) return `size ${bytes.length} is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`;
  let previousTimestamp = NO_TIMESTAMP;
  let previousOffset = 0;
  const maxRelative = nextOffset - 1 - baseOffset;
  for (let at = 0; at < bytes.length; at += TIME_INDEX_ENTRY_SIZE) {
    const timestamp = readInt64(bytes, at);
    const relative = bytes.readInt32BE(at + 8);
    const entry = at / TIME_INDEX_ENTRY_SIZE;
    if (timestamp <= previousTimestamp) return `entry ${entry} has timestamp ${timestamp}, not above ${previousTimestamp}`;
    if (relative < previousOffset || relative > maxRelative) return `entry ${entry} has relative offset ${relative}, outside [${previousOffset}, ${maxRelative}]`;
    previousTimestamp = timestamp;
    previousOffset = relative;
  }
  return null;
}
