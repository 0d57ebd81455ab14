/**
 * The memory a producer frames its batches into before they cross to a partition's thread:
 * chunks of shared memory (SharedArrayBuffer), reused from one batch to the next.
 *
 * ## Why shared memory
 *
 * A framed batch used to be a fresh ArrayBuffer, transferred to the partition's thread. Each one
 * counts as external memory in the isolate that receives it, and V8 answers external memory
 * growth with full mark-compact collections: a worker taking 60 MB/s of batches collected its
 * whole heap ~10 times a second, pausing 1-6 ms each time, and a send waits for the slowest of
 * its partitions, so those pauses made most of the produce latency's p99. A SharedArrayBuffer
 * posted to another thread is shared, not copied or moved, and V8 does not count shared memory
 * against an isolate's external limit; reused, the chunks are allocated once.
 *
 * ## When a chunk may be reused
 *
 * Only after the partition's thread has answered the request that carried it: it has copied the
 * batch into its log by then. A request that fails — timed out, or its thread died — may still be
 * sitting in a message queue and be read later, so its chunk is never reused (the garbage
 * collector frees it when nothing refers to it any more). Failures are rare; the pool only needs
 * the common case.
 *
 * Chunks come in powers of two from `MIN_CHUNK_BYTES`, so a frame wastes less than half its
 * chunk; frames larger than `MAX_CHUNK_BYTES` (rare: batches are `batchBytes`, 64 KiB by default)
 * get an ArrayBuffer of their own, which is transferred as before.
 */

const MIN_CHUNK_SHIFT = 12;
const MAX_CHUNK_SHIFT = 20;
/** 4 KiB: the smallest chunk. */
export const MIN_CHUNK_BYTES = 1 << MIN_CHUNK_SHIFT;
/** 1 MiB: larger frames are not pooled. */
export const MAX_CHUNK_BYTES = 1 << MAX_CHUNK_SHIFT;
/** Free chunks kept for reuse, all sizes together: what 8 partitions with 5 batches in flight each hold at 64 KiB, and then some. */
const FREE_BYTES = 4 * 1024 * 1024;

export class SharedFramePool {
  /** Free chunks by size class (index: log2 of the chunk size minus MIN_CHUNK_SHIFT). */
  private readonly free: SharedArrayBuffer[][] = [];
  private freeBytes = 0;

  constructor() {
    for (let shift = MIN_CHUNK_SHIFT; shift <= MAX_CHUNK_SHIFT; shift++) this.free.push([]);
  }

  /** Bytes of free chunks waiting for reuse. */
  get idleBytes(): number {
    return this.freeBytes;
  }

  /** A Buffer of exactly `size` bytes (contents undefined): shared memory up to MAX_CHUNK_BYTES, a buffer of its own above. */
  take(size: number): Buffer {
    if (size > MAX_CHUNK_BYTES) return Buffer.allocUnsafeSlow(size);
    const shift = Math.max(MIN_CHUNK_SHIFT, 32 - Math.clz32(size - 1));
    const chunk = this.free[shift - MIN_CHUNK_SHIFT].pop();
    if (chunk === undefined) return Buffer.from(new SharedArrayBuffer(1 << shift), 0, size);
    this.freeBytes -= chunk.byteLength;
    return Buffer.from(chunk, 0, size);
  }

  /** Takes back the chunk under `frame` once nothing will read it again; frames not from `take` are ignored. */
  give(frame: Uint8Array): void {
    const chunk = frame.buffer;
    if (!(chunk instanceof SharedArrayBuffer)) return;
    const size = chunk.byteLength;
    if ((size & (size - 1)) !== 0 || size < MIN_CHUNK_BYTES || size > MAX_CHUNK_BYTES) return;
    if (this.freeBytes + size > FREE_BYTES) return;
    this.free[31 - Math.clz32(size) - MIN_CHUNK_SHIFT].push(chunk);
    this.freeBytes += size;
  }
}
