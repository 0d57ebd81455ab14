import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, SharedFramePool } from '../../src/client/frame-pool.js';

describe('SharedFramePool', () => {
  it('hands out exactly the size asked, in shared memory, in a power-of-two chunk', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_CHUNK_BYTES }), (size) => {
        const frame = new SharedFramePool().take(size);
        expect(frame.length).toBe(size);
        expect(frame.byteOffset).toBe(0);
        expect(frame.buffer).toBeInstanceOf(SharedArrayBuffer);
        const chunk = frame.buffer.byteLength;
        expect(chunk).toBeGreaterThanOrEqual(Math.max(size, MIN_CHUNK_BYTES));
        expect(chunk & (chunk - 1)).toBe(0);
        // Less than half wasted, the smallest chunk aside.
        if (chunk > MIN_CHUNK_BYTES) expect(size).toBeGreaterThan(chunk / 2);
      }),
    );
  });

  it('gives a frame larger than the biggest chunk a transferable buffer of its own', () => {
    const frame = new SharedFramePool().take(MAX_CHUNK_BYTES + 1);
    expect(frame.buffer).toBeInstanceOf(ArrayBuffer);
    expect(frame.byteOffset).toBe(0);
    expect(frame.buffer.byteLength).toBe(MAX_CHUNK_BYTES + 1);
  });

  it('reuses a chunk given back for the next frame of its size class', () => {
    const pool = new SharedFramePool();
    const first = pool.take(5000);
    first[0] = 42;
    pool.give(first);
    expect(pool.idleBytes).toBe(8192);
    const second = pool.take(8000);
    expect(second.buffer).toBe(first.buffer);
    expect(second[0]).toBe(42);
    expect(pool.idleBytes).toBe(0);
    // Another size class does not take it.
    pool.give(second);
    expect(pool.take(9000).buffer).not.toBe(first.buffer);
  });

  it('never hands one chunk to two frames at once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 70_000 })), { maxLength: 200 }), (steps) => {
        const pool = new SharedFramePool();
        const out: Buffer[] = [];
        for (const [give, size] of steps) {
          if (give && out.length > 0) pool.give(out.splice(size % out.length, 1)[0]);
          else {
            const frame = pool.take(size);
            expect(out.some((other) => other.buffer === frame.buffer)).toBe(false);
            out.push(frame);
          }
        }
      }),
    );
  });

  it('ignores what it did not hand out, and keeps at most 4 MiB of idle chunks', () => {
    const pool = new SharedFramePool();
    pool.give(Buffer.alloc(4096));
    pool.give(Buffer.from(new SharedArrayBuffer(5000)));
    expect(pool.idleBytes).toBe(0);
    const frames = Array.from({ length: 6 }, () => pool.take(MAX_CHUNK_BYTES));
    for (const frame of frames) pool.give(frame);
    expect(pool.idleBytes).toBe(4 * MAX_CHUNK_BYTES);
  });
});
