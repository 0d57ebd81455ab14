import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/record/crc32c.js';

/** Bit-at-a-time CRC32C (reflected Castagnoli polynomial 0x82F63B78): slow, but obviously the definition. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

describe('crc32c', () => {
  it.each([
    ['the check value of "123456789"', Buffer.from('123456789'), 0xe3069283],
    ['no bytes', Buffer.alloc(0), 0],
    // RFC 3720 (iSCSI) appendix B.4.
    ['32 zero bytes', Buffer.alloc(32, 0x00), 0x8a9136aa],
    ['32 0xFF bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['32 ascending bytes', ascending, 0x46dd794e],
    ['32 descending bytes', Buffer.from(ascending).reverse(), 0x113fdb5c],
    [
      'an iSCSI READ(10) command PDU',
      Buffer.from('01c000000000000000000000000000001400000000000400000000140000001828000000000000000200000000000000', 'hex'),
      0xd9963a56,
    ],
  ])('%s', (_name, bytes, expected) => {
    expect(crc32c(bytes)).toBe(expected);
    expect(referenceCrc32c(bytes)).toBe(expected);
  });

  it('returns an unsigned 32-bit number', () => {
    expect(crc32c(Buffer.alloc(32, 0x00))).toBeGreaterThan(0x7fffffff);
  });

  it('agrees with the bitwise definition on random bytes, including views into larger buffers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.nat(16), fc.nat(16), (bytes, before, after) => {
        const backing = Buffer.alloc(before + bytes.length + after, 0x5a);
        backing.set(bytes, before);
        const view = backing.subarray(before, before + bytes.length);
        expect(crc32c(view)).toBe(referenceCrc32c(bytes));
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
