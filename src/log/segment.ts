/**
 * One segment: a `.log` file of concatenated batches starting at `baseOffset`, and its offset and
 * time indexes.
 *
 * The active (last) segment keeps its indexes in memory and writes them to disk, exactly sized,
 * when it is rolled or the log is closed; until then its index files may be stale, which is safe
 * because recovery after a crash always rescans the active segment (as Kafka's does). Indexes of
 * older segments are loaded on first use.
 */
import { TributaryError } from '../errors.js';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from './offset-index.js';
import { segmentPaths, type SegmentPaths } from './segment-files.js';
import { closeFile, openFile, readAt, removeFile, replaceFile } from './sync-fs.js';
import { NO_TIMESTAMP, TIME_INDEX_ENTRY_SIZE, TimeIndex } from './time-index.js';

/** What the active segment's bytes beyond its file come from: the appender's buffer. */
export interface PendingBytes {
  readonly pending: number;
  /** Copies `length` buffered bytes starting `from` bytes past the file's end into `target`. */
  copyPending(from: number, target: Uint8Array, targetOffset: number, length: number): void;
}

export class Segment {
  readonly paths: SegmentPaths;
  /** Bytes in the `.log` file. The active segment has `tail.pending` more in the appender. */
  fileBytes: number;
  /** Offset after the segment's last batch. */
  nextOffset: number;
  /** Set while this is the active segment. */
  tail: PendingBytes | null = null;
  /**
   * Where a rebuild of a closed segment's indexes found it unsound, or null. The indexes then
   * cover the sound batches before it, which stay readable; reads that reach it fail.
   */
  damage: { readonly position: number; readonly problem: string } | null = null;
  /** Clock time this object was created; the roll deadline for segments whose batches carry no timestamp (as Kafka). */
  readonly createdAt: number;

  private fd = -1;
  private writable = false;
  private offsetIdx: OffsetIndex | null = null;
  private timeIdx: TimeIndex | null = null;
  /** The largest batch max-timestamp seen and the last offset of the first batch that had it (Kafka's maxTimestampAndOffsetSoFar). */
  private maxTs = NO_TIMESTAMP;
  private offsetOfMaxTs: number;
  private bytesSinceIndexEntry = 0;
  /** Max timestamp of the first batch (Kafka's rollingBasedTimestamp); undefined until read. */
  firstBatchTimestamp: number | undefined;

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    fileBytes: number,
    nextOffset: number,
    createdAt: number,
  ) {
    this.paths = segmentPaths(dir, baseOffset);
    this.fileBytes = fileBytes;
    this.nextOffset = nextOffset;
    this.createdAt = createdAt;
    this.offsetOfMaxTs = baseOffset;
  }

  /** Creates an empty segment's three files; the caller fsyncs the directory. */
  static create(dir: string, baseOffset: number, now: number): Segment {
    const segment = new Segment(dir, baseOffset, 0, baseOffset, now);
    for (const file of [segment.paths.log, segment.paths.index, segment.paths.timeIndex]) closeFile(openFile(file, 'wx'), file);
    segment.startIndexes();
    return segment;
  }

  get size(): number {
    return this.tail === null ? this.fileBytes : this.fileBytes + this.tail.pending;
  }

  get indexesLoaded(): boolean {
    return this.offsetIdx !== null;
  }

  /** The offset index; callers make sure it is loaded (`ensureIndexes`). */
  get offsetIndex(): OffsetIndex {
    return this.offsetIdx!;
  }

  /** The time index; callers make sure it is loaded (`ensureIndexes`). */
  get timeIndex(): TimeIndex {
    return this.timeIdx!;
  }

  /** Largest batch max-timestamp in the segment, or NO_TIMESTAMP; requires loaded indexes. */
  get maxTimestamp(): number {
    return this.maxTs;
  }

  /** Starts empty indexes, for a new segment or before rebuilding them from the log file. */
  startIndexes(): void {
    this.offsetIdx = new OffsetIndex(this.baseOffset);
    this.timeIdx = new TimeIndex(this.baseOffset);
    this.maxTs = NO_TIMESTAMP;
    this.offsetOfMaxTs = this.baseOffset;
    this.bytesSinceIndexEntry = 0;
    this.firstBatchTimestamp = undefined;
  }

  /**
   * Installs indexes loaded from disk. A closed segment's last time-index entry holds its largest
   * timestamp, and the interval counter resumes from the last offset entry, so appends after a
   * reopen index exactly as a rebuild would.
   */
  loadIndexes(offsetIndex: OffsetIndex, timeIndex: TimeIndex): void {
    this.offsetIdx = offsetIndex;
    this.timeIdx = timeIndex;
    this.maxTs = timeIndex.lastTimestamp;
    this.offsetOfMaxTs = timeIndex.lastOffset;
    this.bytesSinceIndexEntry = this.size - offsetIndex.lastPosition;
  }

  /**
   * Records a batch appended at `position` in the indexes, by Kafka's rule: the max timestamp is
   * updated first; then, if more than `indexIntervalBytes` were appended since the last entry,
   * this batch's last offset and start position go into the offset index and the max timestamp
   * into the time index.
   */
  indexBatch(position: number, size: number, lastOffset: number, maxTimestamp: number, indexIntervalBytes: number): void {
    if (position === 0) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTs) {
      this.maxTs = maxTimestamp;
      this.offsetOfMaxTs = lastOffset;
    }
    if (this.bytesSinceIndexEntry > indexIntervalBytes) {
      this.offsetIdx!.append(lastOffset, position);
      this.timeIdx!.maybeAppend(this.maxTs, this.offsetOfMaxTs);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
    this.nextOffset = lastOffset + 1;
  }

  /** Whether the indexes are as full as Kafka lets them get (`maxIndexBytes`); the time index keeps a slot for the roll entry. */
  indexesFull(maxIndexBytes: number): boolean {
    return (
      this.offsetIdx!.entries >= Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_SIZE) ||
      this.timeIdx!.entries >= Math.floor(maxIndexBytes / TIME_INDEX_ENTRY_SIZE) - 1
    );
  }

  /** Writes both index files exactly sized, after offering the final max-timestamp entry (Kafka's onBecomeInactiveSegment). */
  writeIndexes(): void {
    this.timeIdx!.maybeAppend(this.maxTs, this.offsetOfMaxTs);
    replaceFile(this.paths.index, this.offsetIdx!.bytes());
    replaceFile(this.paths.timeIndex, this.timeIdx!.bytes());
  }

  /** The file descriptor, opened on first use (read-only unless `forWrite`). */
  handle(forWrite = false): number {
    if (this.fd >= 0 && (this.writable || !forWrite)) return this.fd;
    if (this.fd >= 0) this.close();
    this.fd = openFile(this.paths.log, forWrite ? 'r+' : 'r');
    this.writable = forWrite;
    return this.fd;
  }

  /**
   * Copies `length` segment bytes from `position` into `target`, from the file and then the
   * appender's buffer. Throws CORRUPT_LOG if the file holds fewer bytes than the log accounted for
   * (it was truncated behind the log's back).
   */
  read(target: Uint8Array, targetOffset: number, position: number, length: number): void {
    let done = 0;
    if (position < this.fileBytes) {
      const fromFile = Math.min(length, this.fileBytes - position);
      done = readAt(this.handle(), this.paths.log, target, targetOffset, fromFile, position);
      if (done < fromFile) {
        throw new TributaryError('CORRUPT_LOG', `segment ${this.paths.log} ends at byte ${position + done}, before its known size ${this.fileBytes}`, {
          segment: this.paths.log,
          position: position + done,
          problem: 'FILE_SHRANK',
        });
      }
    }
    if (done < length) this.tail!.copyPending(position + done - this.fileBytes, target, targetOffset + done, length - done);
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeFile(fd, this.paths.log);
  }

  /** Closes and deletes the segment's files, the log file first so a crash midway leaves only orphan indexes (removed on open). */
  delete(): void {
    this.close();
    removeFile(this.paths.log);
    removeFile(this.paths.index);
    removeFile(this.paths.timeIndex);
  }
}
