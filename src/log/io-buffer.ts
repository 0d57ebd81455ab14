/**
 * Allocation of large I/O buffers.
 *
 * glibc serves large allocations with mmap and returns a pointer 16 bytes past a page boundary.
 * On the reference VM, `readSync` into such a buffer ran at 2.6 GB/s against 13 GB/s for one 64
 * bytes past the boundary (see DESIGN.md's per-record budget), so large buffers are allocated
 * 48 bytes longer and viewed from byte 48. The appender's buffer gets the same placement, since
 * `writeSync` copies out of it the same way.
 *
 * Every buffer, small ones too, has an ArrayBuffer of its own (never a slice of Node's pool), so
 * that a read's bytes can be transferred to another thread whole (see LogReader.read).
 */
const LARGE = 64 * 1024;
const SKEW = 48;

export function allocIoBuffer(size: number): Buffer {
  if (size < LARGE) return Buffer.allocUnsafeSlow(size);
  return Buffer.allocUnsafeSlow(size + SKEW).subarray(SKEW);
}
