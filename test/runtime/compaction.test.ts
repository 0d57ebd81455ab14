/**
 * The runtime's cleanup pass compacts `cleanupPolicy: 'compact'` topics on their threads: a
 * consumer reading from the beginning afterwards sees each key's latest value, at its original
 * offset, and fewer records than were written.
 */
import { describe, expect, it } from 'vitest';
import { integrationFixture, readTopic, sleep } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();

const ROUNDS = 40;
const USERS = 10;

describe('compaction scheduled by the runtime', () => {
  it('keeps only the latest record per key of a compacted topic, at its offset', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2, retentionCheckIntervalMs: 50 });
    await rt.admin.createTopic('profiles', { partitions: 2, cleanupPolicy: 'compact', segmentBytes: 4096, minCleanableDirtyRatio: 0.1 });
    const producer = rt.producer({ lingerMs: 0 });
    const value = (round: number, user: number) => `round ${round} of user-${user}: ${'x'.repeat(40)}`;
    for (let round = 0; round < ROUNDS - 1; round++) {
      await producer.send({ topic: 'profiles', messages: Array.from({ length: USERS }, (_, user) => ({ key: `user-${user}`, value: value(round, user) })) });
    }
    // The last round one record at a time, to know where each key's latest value landed.
    const latest = new Map<string, { partition: number; offset: number; value: string }>();
    for (let user = 0; user < USERS; user++) {
      const [{ partition, baseOffset }] = await producer.send({ topic: 'profiles', messages: [{ key: `user-${user}`, value: value(ROUNDS - 1, user) }] });
      latest.set(`user-${user}`, { partition, offset: Number(baseOffset), value: value(ROUNDS - 1, user) });
    }
    await producer.disconnect();

    // The pass runs every 50 ms, also while producing; the test times out if it never compacts.
    let records = (await readTopic(rt, 'profiles')).flat();
    while (records.length === ROUNDS * USERS) {
      await sleep(50);
      records = (await readTopic(rt, 'profiles')).flat();
    }
    const seen = new Map(records.map((record) => [record.key!.toString(), record]));
    expect([...seen.keys()].sort()).toEqual([...latest.keys()].sort());
    for (const [key, record] of seen) {
      expect({ partition: record.partition, offset: record.offset, value: record.value!.toString() }).toEqual(latest.get(key));
    }
  });
});
