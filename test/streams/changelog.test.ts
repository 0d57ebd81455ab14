/**
 * Store changelogs against a model: seeded random changes to a store are logged, a commit point
 * is taken, more changes follow (the ones a crash would leave uncommitted); a store restored from
 * the changelog to the commit point must equal the model at that point, and the changelog read to
 * its end (latest record per key, as compaction keeps) must then say the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../src/client/consumer.js';
import type { Tributary } from '../../src/index.js';
import { StoreChangelog } from '../../src/streams/changelog.js';
import { RuntimeBinding } from '../../src/streams/runtime-binding.js';
import { SinkWriter } from '../../src/streams/sink-writer.js';
import { InMemoryKeyValueStore, InMemorySessionStore, InMemoryWindowStore, type StateStore } from '../../src/streams/index.js';
import { integrationFixture } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();

const PARTITION = 1;

function bindingOf(rt: Tributary): RuntimeBinding {
  return new RuntimeBinding('test', rt.runtime, { consumer: (options) => rt.consumer(options), producer: (options) => rt.producer(options) });
}

/** A changelog of `store` in `topic`, and its writer, which a task would flush at commit. */
function changelogOf(rt: Tributary, store: StateStore<any>, topic: string): { log: StoreChangelog; writer: SinkWriter } {
  const writer = new SinkWriter(bindingOf(rt), topic, undefined, 1 << 30, (error) => {
    throw error;
  });
  return { log: new StoreChangelog(store as never, topic, PARTITION, writer), writer };
}

/** The latest record per key of the changelog partition, as JSON text, deletions left out: what compaction would keep. */
async function compacted(rt: Tributary, topic: string): Promise<Map<string, string>> {
  const consumer = new Consumer(rt.runtime, { autoOffsetReset: 'earliest', maxWaitTimeInMs: 50 });
  const { offset: end } = await rt.runtime.request('listOffsets', { topic, partition: PARTITION, spec: 'latest' });
  const latest = new Map<string, string | null>();
  consumer.assign([{ topic, partition: PARTITION, offset: 0 }]);
  if (end > 0) {
    for await (const record of consumer) {
      latest.set(record.key!.toString(), record.value === null ? null : record.value.toString());
      if (record.offset + 1 >= end) break;
    }
  }
  await consumer.disconnect();
  return new Map([...latest].filter((entry): entry is [string, string] => entry[1] !== null));
}

/** A store's contents as comparable entries, in a fixed order (a key-value store lists entries in insertion order, which a replay need not keep). */
const contents = (store: StateStore<any>): string[] => store.snapshot().map((change) => JSON.stringify(change)).sort();

type Op = { key: number; time: number; value: number | null };
const ops = fc.array(
  fc.record({ key: fc.integer({ min: 0, max: 5 }), time: fc.integer({ min: 0, max: 4 }), value: fc.option(fc.integer({ min: 0, max: 99 }), { nil: null }) }),
  { minLength: 0, maxLength: 25 },
);

const kinds = {
  'key-value': {
    make: () => new InMemoryKeyValueStore<Buffer, number>('kv'),
    apply: (store: InMemoryKeyValueStore<Buffer, number>, op: Op) => store.put(Buffer.from(`k${op.key}`), op.value),
  },
  window: {
    make: () => new InMemoryWindowStore<Buffer, number>('windows'),
    apply: (store: InMemoryWindowStore<Buffer, number>, op: Op) => store.put(Buffer.from(`k${op.key}`), op.time * 60_000, op.value),
  },
  session: {
    make: () => new InMemorySessionStore<string, { n: number }>('sessions'),
    apply: (store: InMemorySessionStore<string, { n: number }>, op: Op) => store.put(`k${op.key}`, op.time, op.time + 10, op.value === null ? null : { n: op.value }),
  },
} as const;

describe('store changelogs', () => {
  for (const [kind, { make, apply }] of Object.entries(kinds)) {
    it(`${kind} store: restored to the commit point, with later changes overwritten in the changelog`, async () => {
      const rt = await openRuntime({ dir: newDir(), threads: 2 });
      let round = 0;
      await fc.assert(
        fc.asyncProperty(ops, ops, ops, async (committed, uncommitted, afterRestore) => {
          const topic = `changelog-${kind}-${round++}`;
          await rt.admin.createTopic(topic, { partitions: 2, cleanupPolicy: 'compact' });
          // The first incarnation: changes, a commit point, more changes, then it dies.
          const first = make();
          const firstLog = changelogOf(rt, first, topic);
          await firstLog.log.restore(rt.runtime, 0);
          for (const op of committed) apply(first as never, op);
          const position = firstLog.log.position();
          const model = contents(first);
          for (const op of uncommitted) apply(first as never, op);
          await firstLog.writer.flush();
          const committedEnd = await position();

          // The next incarnation restores to the commit point.
          const second = make();
          const secondLog = changelogOf(rt, second, topic);
          await secondLog.log.restore(rt.runtime, committedEnd);
          expect(contents(second)).toEqual(model);
          // What compaction would keep now says the same, so the next restore from a later commit is consistent.
          expect((await compacted(rt, topic)).size).toBe(second.size);

          // It carries on; a third incarnation restored from its commit equals it.
          for (const op of afterRestore) apply(second as never, op);
          const secondPosition = secondLog.log.position();
          await secondLog.writer.flush();
          const third = make();
          await changelogOf(rt, third, topic).log.restore(rt.runtime, await secondPosition());
          expect(contents(third)).toEqual(contents(second));
        }),
        { seed: 0x5eed, numRuns: 12 },
      );
    });
  }

  it('keeps Buffer keys and values as Buffers', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 1 });
    await rt.admin.createTopic('bytes', { partitions: 2 });
    const store = new InMemoryKeyValueStore<Buffer, { raw: Buffer }>('bytes');
    const { log, writer } = changelogOf(rt, store, 'bytes');
    await log.restore(rt.runtime, 0);
    store.put(Buffer.from([0, 255, 7]), { raw: Buffer.from('x') });
    const position = log.position();
    await writer.flush();
    const restored = new InMemoryKeyValueStore<Buffer, { raw: Buffer }>('bytes');
    await changelogOf(rt, restored, 'bytes').log.restore(rt.runtime, await position());
    const value = restored.get(Buffer.from([0, 255, 7]));
    expect(Buffer.isBuffer(value?.raw)).toBe(true);
    expect(value!.raw.toString()).toBe('x');
  });
});
