/**
 * `repartition()` outside `rt.run` (re-keyed in place, nothing written) and the checks of its
 * options and of the topics a run plans for it. Repartitioning across tasks is in
 * test/integration/streams-repartition.test.ts.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Tributary } from '../../src/index.js';
import { repartition, source } from '../../src/streams/index.js';
import { readTopic } from '../integration/helpers.js';
import { runFixtures } from './run-fixtures.js';

const { fixture, clicksRuntime } = runFixtures();

/** The two-thread runtime of run-fixtures.ts with two clicks in `clicks`. */
async function runtime(): Promise<Tributary> {
  const rt = await clicksRuntime();
  const producer = rt.producer();
  await producer.send({
    topic: 'clicks',
    messages: [
      { key: 'u1', value: JSON.stringify({ page: '/a' }), timestamp: 1_000, partition: 0, headers: { h: 'x' } },
      { key: 'u2', value: JSON.stringify({ page: '/b' }), timestamp: 2_000, partition: 1 },
    ],
  });
  await producer.disconnect();
  return rt;
}

describe('repartition() outside rt.run', () => {
  it('re-keys records in place: value, timestamp, headers and position stay, and the value is parsed only when read', async () => {
    const rt = await runtime();
    let parsed = 0;
    const serde = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer | null) => (parsed++, JSON.parse(b!.toString()) as { page: string }) };
    const keyed = await lastValueFrom(source<{ page: string }>('clicks', { serde, to: 'end' }).pipe(repartition({ key: (record) => record.timestamp / 1_000 }), toArray()));
    expect(parsed).toBe(0);
    const sorted = [...keyed].sort((a, b) => a.timestamp - b.timestamp);
    expect(sorted.map((r) => [r.key, r.value.page, r.timestamp, r.topic, r.partition, r.offset])).toEqual([
      [1, '/a', 1_000, 'clicks', 0, 0],
      [2, '/b', 2_000, 'clicks', 1, 0],
    ]);
    expect(sorted[0].headers.map((h) => [h.key, h.value?.toString()])).toEqual([['h', 'x']]);
    expect(JSON.parse(JSON.stringify(sorted[0]))).toMatchObject({ key: 1, value: { page: '/a' }, timestamp: 1_000 });
    // Nothing went through a topic.
    expect(await rt.admin.listTopics()).not.toContainEqual(expect.stringMatching(/repartition/));
  });

  it('makes other elements the value of a record with the new key', async () => {
    const records = await lastValueFrom(from([{ page: '/a', n: 1 }]).pipe(repartition({ key: (e) => e.page }), toArray()));
    expect(records).toMatchObject([{ key: '/a', value: { page: '/a', n: 1 }, headers: [], partition: -1, offset: -1 }]);
    expect(typeof records[0].timestamp).toBe('number');
  });

  it('rejects bad options, naming them', () => {
    expect(() => repartition({ name: 'a/b' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/1 to 100 of a-z/) }));
    expect(() => repartition({ partitions: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', details: expect.objectContaining({ field: 'partitions' }) }));
    expect(() => repartition({ key: 'page' as never })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', details: expect.objectContaining({ field: 'key' }) }));
    expect(() => repartition({ producer: { lingerMs: -1 } })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => repartition({ partiton: 2 } as never)).toThrow(/did you mean 'partitions'/);
  });
});

describe('repartition() planned by rt.run', () => {
  it('refuses two repartitions of one name', async () => {
    const rt = await runtime();
    await expect(rt.run(fixture('repartition-names.ts'), { name: 'names' })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/two repartitions with topic 'names-twice-repartition'/) });
  });

  it('creates each topic with the given or the upstream partitions, and an existing one keeps its own', async () => {
    const rt = await runtime();
    await (await rt.run(fixture('repartition-chain.ts'), { name: 'chain' })).done;
    expect(rt.runtime.storedTopic('chain-repartition-0-repartition')?.partitions).toBe(5);
    expect(rt.runtime.storedTopic('chain-back-repartition')?.partitions).toBe(5);
    // Both records came through both repartitions, keyed by page at the end, their values intact.
    const written = (await readTopic(rt, 'click-counts')).flat().map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()).page]);
    expect(written.sort()).toEqual([
      ['/a', '/a'],
      ['/b', '/b'],
    ]);
    await rt.admin.deleteTopic('chain-back-repartition');
    await rt.admin.createTopic('chain-back-repartition', { partitions: 2 });
    await (await rt.run(fixture('repartition-chain.ts'), { name: 'chain' })).done;
    expect(rt.runtime.storedTopic('chain-back-repartition')?.partitions).toBe(2);
    // The first repartition names its count: a topic with another one is refused.
    await rt.admin.deleteTopic('chain-repartition-0-repartition');
    await rt.admin.createTopic('chain-repartition-0-repartition', { partitions: 3 });
    await expect(rt.run(fixture('repartition-chain.ts'), { name: 'chain' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      details: { field: 'partitions' },
      message: expect.stringMatching(/has 3 partitions, but the pipeline asks for 5/),
    });
  });
});
