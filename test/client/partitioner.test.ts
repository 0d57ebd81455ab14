import { createRequire } from 'node:module';
import kafkajs, { type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createDefaultPartitioner, murmur2, toPositive, type Partitioner } from '../../src/client/partitioner.js';
import { TributaryError } from '../../src/errors.js';
import { SeededRandom } from '../../src/workload/random.js';

// KafkaJS exports only the partitioner; its raw murmur2 lets the comparison cover all 32 bits, sign included.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

/** Random bytes or a random UTF-8 string, with lengths 0-3 often enough to cover every murmur2 tail case. */
function randomKey(rng: SeededRandom): { bytes: Buffer; asGiven: Buffer | string } {
  const length = rng.next() < 0.3 ? rng.int(4) : 4 + rng.int(200);
  if (rng.next() < 0.5) {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
    return { bytes, asGiven: bytes };
  }
  // Code points from ASCII up to astral planes, so UTF-8 encodings of 1 to 4 bytes (and lone surrogates) appear.
  const ranges = [0x80, 0x800, 0x10000, 0x110000];
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCodePoint(rng.int(rng.pick(ranges)));
  return { bytes: Buffer.from(text, 'utf8'), asGiven: text };
}

describe('murmur2', () => {
  // Kafka's UtilsTest.testMurmur2 (apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('matches Java for %j', (key, expected) => {
    expect(murmur2(Buffer.from(key, 'latin1'))).toBe(expected);
  });

  it('hashes views into a larger buffer by their own bytes', () => {
    const backing = Buffer.from('xxfoobaryy', 'latin1');
    expect(murmur2(backing.subarray(2, 8))).toBe(-790332482);
  });

  it('agrees with KafkaJS on 10,000 seeded random keys, hash and partition', () => {
    const rng = new SeededRandom(0x5eed);
    const ours = createDefaultPartitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    const metadataByCount = new Map<number, PartitionMetadata[]>();
    const tails = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const { bytes, asGiven } = randomKey(rng);
      tails.add(bytes.length < 4 ? bytes.length : 4 + (bytes.length & 3));
      expect(murmur2(bytes)).toBe(kafkajsMurmur2(asGiven));

      const partitionCount = 1 + rng.int(1000);
      let partitionMetadata = metadataByCount.get(partitionCount);
      if (partitionMetadata === undefined) {
        partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
          partitionErrorCode: 0,
          partitionId,
          leader: 0,
          replicas: [0],
          isr: [0],
        }));
        metadataByCount.set(partitionCount, partitionMetadata);
      }
      const expected = theirs({ topic: 't', partitionMetadata, message: { key: asGiven, value: null } });
      expect(ours.partition({ topic: 't', partitionCount, key: bytes })).toBe(expected);
    }
    // Lengths 0-3 and every remainder mod 4 above them were exercised.
    expect([...tails].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('toPositive', () => {
  it('clears the sign bit as Kafka does, rather than negating', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-0x80000000)).toBe(0);
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
    expect(toPositive(12345)).toBe(12345);
  });
});

describe('default partitioner', () => {
  const seeded = (seed: number) => {
    const rng = new SeededRandom(seed);
    return createDefaultPartitioner({ random: () => rng.next() });
  };

  it('places a key on toPositive(murmur2(key)) % partitionCount, and an empty key is a key', () => {
    const partitioner = seeded(1);
    const key = Buffer.from('foobar');
    expect(partitioner.partition({ topic: 't', partitionCount: 7, key })).toBe(toPositive(-790332482) % 7);
    expect(partitioner.partition({ topic: 't', partitionCount: 7, key: Buffer.alloc(0) })).toBe(
      toPositive(murmur2(Buffer.alloc(0))) % 7,
    );
  });

  it('sticks to one partition for null keys until that partition completes a batch', () => {
    const partitioner = seeded(2);
    const first = partitioner.partition({ topic: 't', partitionCount: 8, key: null });
    for (let i = 0; i < 100; i++) expect(partitioner.partition({ topic: 't', partitionCount: 8, key: null })).toBe(first);

    // A batch completing on some other partition (a keyed record's) does not move the sticky choice.
    partitioner.onNewBatch?.('t', (first + 1) % 8, 8);
    expect(partitioner.partition({ topic: 't', partitionCount: 8, key: null })).toBe(first);

    partitioner.onNewBatch?.('t', first, 8);
    const second = partitioner.partition({ topic: 't', partitionCount: 8, key: null });
    expect(second).not.toBe(first);
    expect(partitioner.partition({ topic: 't', partitionCount: 8, key: null })).toBe(second);
  });

  it('keeps a separate sticky partition per topic', () => {
    const partitioner = seeded(3);
    const a = partitioner.partition({ topic: 'a', partitionCount: 16, key: null });
    const b = partitioner.partition({ topic: 'b', partitionCount: 16, key: null });
    partitioner.onNewBatch?.('b', b, 16);
    expect(partitioner.partition({ topic: 'a', partitionCount: 16, key: null })).toBe(a);
    expect(partitioner.partition({ topic: 'b', partitionCount: 16, key: null })).not.toBe(b);
  });

  it('is deterministic under the same seed and spreads batches evenly over all partitions', () => {
    const run = (seed: number) => {
      const partitioner = seeded(seed);
      const choices: number[] = [];
      for (let i = 0; i < 8000; i++) {
        const partition = partitioner.partition({ topic: 't', partitionCount: 8, key: null });
        choices.push(partition);
        partitioner.onNewBatch?.('t', partition, 8);
      }
      return choices;
    };
    const choices = run(4);
    expect(run(4)).toEqual(choices);
    expect(run(5)).not.toEqual(choices);
    for (let i = 1; i < choices.length; i++) expect(choices[i]).not.toBe(choices[i - 1]);
    const counts = new Array<number>(8).fill(0);
    for (const partition of choices) counts[partition]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    for (const count of counts) expect(count).toBeLessThan(1200);
  });

  it('handles a single partition and a partition count that shrank below the sticky choice', () => {
    const partitioner = seeded(6);
    expect(partitioner.partition({ topic: 'one', partitionCount: 1, key: null })).toBe(0);
    partitioner.onNewBatch?.('one', 0, 1);
    expect(partitioner.partition({ topic: 'one', partitionCount: 1, key: null })).toBe(0);

    let sticky = partitioner.partition({ topic: 't', partitionCount: 100, key: null });
    while (sticky < 10) {
      partitioner.onNewBatch?.('t', sticky, 100);
      sticky = partitioner.partition({ topic: 't', partitionCount: 100, key: null });
    }
    expect(partitioner.partition({ topic: 't', partitionCount: 10, key: null })).toBeLessThan(10);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a partition count of %s with INVALID_PARTITIONS', (partitionCount) => {
    const partitioner = seeded(7);
    for (const key of [null, Buffer.from('k')]) {
      const error = (() => {
        try {
          partitioner.partition({ topic: 'orders', partitionCount, key });
        } catch (caught) {
          return caught;
        }
      })();
      expect(TributaryError.is(error, 'INVALID_PARTITIONS')).toBe(true);
      expect((error as TributaryError).message).toContain("'orders'");
      expect((error as TributaryError).details).toEqual({ topic: 'orders', partitionCount });
    }
  });

  it('accepts a custom partitioner as a plain object', () => {
    let next = 0;
    const partitioner: Partitioner = { partition: ({ partitionCount }) => next++ % partitionCount };
    expect([0, 1, 2, 3].map(() => partitioner.partition({ topic: 't', partitionCount: 3, key: null }))).toEqual([0, 1, 2, 0]);
  });
});
