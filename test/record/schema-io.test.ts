/**
 * Kafka's schema primitives at their boundaries: unsigned varints across byte widths (Kafka's
 * ByteUtils layout), classic and compact lengths, and the errors malformed bytes raise. The
 * schemas built on them are tested in test/group/.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { SchemaReader, SchemaWriter } from '../../src/record/schema-io.js';

const SEED = 0x5c4e;
const reader = (bytes: Buffer, flexible = false): SchemaReader => Object.assign(new SchemaReader(bytes, 'Test', 'INVALID_RECORD'), { flexible });

describe('unsigned varints', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16_383, 'ff7f'],
    [16_384, '808001'],
    [0xffff_ffff, 'ffffffff0f'],
  ])('%i is %s', (value, hex) => {
    expect(new SchemaWriter('Test').unsignedVarint(value).finish().toString('hex')).toBe(hex);
    expect(reader(Buffer.from(hex, 'hex')).unsignedVarint('v')).toBe(value);
  });

  it('round-trips every 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (value) => {
        expect(reader(new SchemaWriter('Test').unsignedVarint(value).finish()).unsignedVarint('v')).toBe(value);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('rejects values beyond 32 bits and varints longer than 5 bytes', () => {
    expect(() => reader(Buffer.from('ffffffff1f', 'hex')).unsignedVarint('v')).toThrow(/beyond 32 bits/);
    expect(() => reader(Buffer.from('ffffffffff01', 'hex')).unsignedVarint('v')).toThrow(/longer than 5 bytes/);
  });
});

describe('strings and bytes', () => {
  it('writes compact lengths as unsigned varints of length + 1, multi-byte ones included', () => {
    const writer = new SchemaWriter('Test');
    writer.flexible = true;
    const text = 'x'.repeat(200);
    const bytes = writer.string(text, 's').nullableString(null, 'n').bytes(Buffer.alloc(130, 7), 'b').nullableBytes(null, 'nb').finish();
    expect(bytes.subarray(0, 2).toString('hex')).toBe('c901'); // 201
    const read = reader(bytes, true);
    expect(read.string('s')).toBe(text);
    expect(read.nullableString('n')).toBeNull();
    expect(read.bytes('b')).toEqual(Buffer.alloc(130, 7));
    expect(read.nullableBytes('nb')).toBeNull();
    expect(read.remaining).toBe(0);
  });

  it('writes classic null strings as int16 -1 and null bytes as int32 -1', () => {
    expect(new SchemaWriter('Test').nullableString(null, 's').nullableBytes(null, 'b').finish().toString('hex')).toBe('ffff' + 'ffffffff');
  });

  it('names the structure, field and position in errors', () => {
    const error = (() => {
      try {
        reader(Buffer.from('0005616263', 'hex')).string('group');
      } catch (caught) {
        return caught as TributaryError;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(TributaryError);
    expect(error.code).toBe('INVALID_RECORD');
    expect(error.message).toBe('Test: group is truncated: needs 5 bytes, 3 remain (at byte 2 of 5) [INVALID_RECORD]');
    expect(error.details).toEqual({ structure: 'Test', field: 'group', position: 2, length: 5 });
  });

  it('rejects int64 values beyond 2^53 rather than rounding them', () => {
    expect(() => reader(Buffer.from('0020000000000001', 'hex')).int64('offset')).toThrow(/offset is an int64 beyond 2\^53/);
    expect(reader(Buffer.from('001fffffffffffff', 'hex')).int64('offset')).toBe(Number.MAX_SAFE_INTEGER);
  });
});
