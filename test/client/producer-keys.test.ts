/**
 * String keys stay strings through the producer: the default partitioner hashes an ASCII key's
 * char codes as its bytes, and the batch writer encodes it in place. Both must give what hashing
 * and writing `Buffer.from(key)` gives, for every string, ASCII or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, murmur2Utf8, toPositive, type Partitioner } from '../../src/client/partitioner.js';
import { useHarness } from './fakes/producer-harness.js';

const harness = useHarness();

// ASCII (the shortcut), then strings with Latin-1, astral and lone-surrogate code units (the fallback).
const keys = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', 'a', 'ab', 'abc', 'é', 'naïve', '\ud800', '😀'),
);

describe('string keys', () => {
  it('hash with murmur2Utf8 exactly as murmur2 hashes their UTF-8 bytes', () => {
    fc.assert(
      fc.property(keys, (key) => {
        expect(murmur2Utf8(key, Buffer.byteLength(key, 'utf8'))).toBe(murmur2(Buffer.from(key, 'utf8')));
      }),
      { seed: 11, numRuns: 2_000 },
    );
  });

  it('land where their bytes land and arrive as their bytes, ASCII or not', async () => {
    const { fake, producer } = harness();
    fake.createTopic('keyed', { partitions: 5 });
    const p = producer();
    const sent = fc.sample(keys, { seed: 3, numRuns: 300 });
    await p.send({ topic: 'keyed', messages: sent.map((key, i) => ({ key, value: String(i) })) });
    for (let partition = 0; partition < 5; partition++) {
      const expected = sent.map((key, i) => ({ key, i })).filter(({ key }) => toPositive(murmur2(Buffer.from(key, 'utf8'))) % 5 === partition);
      const records = fake.batches('keyed', partition).flatMap((batch) => batch.records);
      expect(records.map((record) => record.value!.toString())).toEqual(expected.map(({ i }) => String(i)));
      expect(records.map((record) => record.key)).toEqual(expected.map(({ key }) => Buffer.from(key, 'utf8')));
    }
  });

  it('reach a custom partitioner as their UTF-8 bytes', async () => {
    const { fake, producer } = harness();
    fake.createTopic('custom', { partitions: 2 });
    const seen: (Buffer | null)[] = [];
    const partitioner: Partitioner = {
      partition: ({ key }) => {
        seen.push(key);
        return 1;
      },
    };
    await producer({ partitioner }).send({ topic: 'custom', messages: [{ key: 'ключ', value: 'a' }, { key: Buffer.from([1, 2]), value: 'b' }, { value: 'c' }] });
    expect(seen).toEqual([Buffer.from('ключ', 'utf8'), Buffer.from([1, 2]), null]);
    expect(fake.values('custom', 1)).toEqual(['a', 'b', 'c']);
  });
});
