/** The default serde of repartition topics: every Buffer, string and JSON value round-trips; bad bytes are typed errors. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { elementSerde } from '../../src/streams/element-serde.js';

describe('elementSerde', () => {
  it('round-trips Buffers, strings (lone surrogates aside) and JSON values, each to its own kind', () => {
    const element = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.jsonValue().filter((value) => value !== null),
    );
    fc.assert(
      fc.property(element, (value) => {
        const back = elementSerde.deserialize(elementSerde.serialize(value));
        if (Buffer.isBuffer(value)) expect(Buffer.isBuffer(back) && back.equals(value)).toBe(true);
        // JSON drops -0's sign, as any JSON serde does.
        else expect(back).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { seed: 5, numRuns: 500 },
    );
  });

  it('keeps a string and the JSON of that string apart', () => {
    expect(elementSerde.deserialize(elementSerde.serialize('{"a":1}'))).toBe('{"a":1}');
    expect(elementSerde.deserialize(elementSerde.serialize({ a: 1 }))).toEqual({ a: 1 });
    expect(elementSerde.deserialize(elementSerde.serialize(Buffer.from('x')))).toEqual(Buffer.from('x'));
  });

  it('writes null and undefined as no value, read back as null', () => {
    expect(elementSerde.serialize(null)).toBeNull();
    expect(elementSerde.serialize(undefined)).toBeNull();
    expect(elementSerde.deserialize(null)).toBeNull();
  });

  it('rejects what it cannot write or read with INVALID_RECORD', () => {
    expect(() => elementSerde.serialize(() => 1)).toThrow(expect.objectContaining({ code: 'INVALID_RECORD', message: expect.stringMatching(/function elements/) }));
    expect(() => elementSerde.deserialize(Buffer.from([7, 1, 2]))).toThrow(expect.objectContaining({ code: 'INVALID_RECORD', message: expect.stringMatching(/tag 7/) }));
    expect(() => elementSerde.deserialize(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'INVALID_RECORD', message: expect.stringMatching(/none \(empty\)/) }));
  });
});
