/**
 * The "mmap-style" writer of the active segment: batches are copied into one preallocated buffer
 * and reach the file in large sequential positional writes, when the buffer fills or when the
 * owner flushes. A batch larger than the whole buffer is written straight from the caller's bytes.
 *
 * Bytes in the buffer are already part of the log (readers are served from it) but not yet in
 * the file: a process crash loses them. `Log` documents what each fsync policy promises.
 */
import fs from 'node:fs';
import { storageError } from '../errors.js';
import type { PendingBytes, Segment } from './segment.js';
import { syncData, writeAt } from './sync-fs.js';
import { allocIoBuffer } from './io-buffer.js';

export class Appender implements PendingBytes {
  private readonly buf: Buffer;
  private used = 0;
  private segment: Segment | null = null;
  /** Bytes reached the file since the last fdatasync. */
  private unsynced = false;

  constructor(capacity: number) {
    this.buf = allocIoBuffer(capacity);
  }

  get pending(): number {
    return this.used;
  }

  /** Whether `sync` has anything to make durable. */
  get dirty(): boolean {
    return this.used > 0 || this.unsynced;
  }

  /** Makes `segment` the target; the previous one must have been written out. */
  attach(segment: Segment): void {
    segment.handle(true);
    segment.tail = this;
    this.segment = segment;
  }

  /** Detaches from the current segment (after `writeOut`), which then serves reads from its file only. */
  detach(): void {
    if (this.segment !== null) this.segment.tail = null;
    this.segment = null;
  }

  append(source: Buffer, start: number, size: number): void {
    if (size > this.buf.length - this.used) {
      this.writeOut();
      if (size > this.buf.length) {
        this.write(source, start, size);
        return;
      }
    }
    source.copy(this.buf, this.used, start, start + size);
    this.used += size;
  }

  /** Writes the buffered bytes to the file (no fsync). */
  writeOut(): void {
    if (this.used === 0) return;
    this.write(this.buf, 0, this.used);
    this.used = 0;
  }

  /** Writes out the buffer and fdatasyncs the file, if anything changed since the last sync. */
  sync(): void {
    this.writeOut();
    if (!this.unsynced) return;
    const segment = this.segment!;
    syncData(segment.handle(true), segment.paths.log);
    this.unsynced = false;
  }

  /**
   * Writes out the buffer now and fdatasyncs the file on libuv's threadpool, so the owning thread
   * keeps serving appends and fetches instead of stalling for the disk (an fdatasync takes
   * milliseconds to tens of them; blocking on it showed up as the producer's p99 latency).
   * The sync goes through its own file descriptor: it flushes the same file, and a roll or close
   * of the segment meanwhile cannot pull the descriptor from under it. A segment deleted by
   * retention in the meantime needs no durability; any other failure goes to `onError`.
   */
  syncInBackground(onError: (error: Error) => void): void {
    this.writeOut();
    if (!this.unsynced) return;
    this.unsynced = false;
    const file = this.segment!.paths.log;
    fs.open(file, 'r', (openError, fd) => {
      if (openError !== null) {
        if (openError.code !== 'ENOENT') onError(storageError('open', file, openError));
        return;
      }
      fs.fdatasync(fd, (syncError) => {
        fs.close(fd, () => undefined);
        if (syncError !== null) onError(storageError('fdatasync', file, syncError));
      });
    });
  }

  copyPending(from: number, target: Uint8Array, targetOffset: number, length: number): void {
    target.set(this.buf.subarray(from, from + length), targetOffset);
  }

  private write(source: Uint8Array, start: number, size: number): void {
    const segment = this.segment!;
    writeAt(segment.handle(true), segment.paths.log, source, start, size, segment.fileBytes);
    segment.fileBytes += size;
    this.unsynced = true;
  }
}
