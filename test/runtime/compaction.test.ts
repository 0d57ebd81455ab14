/**
 * The runtime's cleanup pass compacts `cleanupPolicy: 'compact'` topics on their threads: a
 * consumer reading from the beginning afterwards sees each key's latest value, at its original
 * offset, and fewer records than were written.
 */
import { describe, expect, it } from 'vitest';
import { integrationFixture, readTopic, sleep } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();

describe('compaction scheduled by the runtime', () => {
  it('keeps only the latest record per key of a compacted topic, at its offset', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2, retentionCheckIntervalMs: 50 });
    await rt.admin.createTopic('profiles', { partitions: 2, cleanupPolicy: 'compact', segmentBytes: 4096, minCleanableDirtyRatio: 0.1 });
    const producer = rt.producer({ lingerMs: 0 });
    const latest = new Map<string, { value: string; offset: number; partition: number }>();
    for (let round = 0; round < 40; round++) {
      const messages = Array.from({ length: 10 }, (_, user) => ({ key: `user-${user}`, value: `round ${round} of user-${user}: ${'x'.repeat(40)}` }));
      await producer.send({ topic: 'profiles', messages });
    }
    await producer.disconnect();
    const before = (await readTopic(rt, 'profiles')).flat();
    for (const record of before) latest.set(record.key!.toString(), { value: record.value!.toString(), offset: record.offset, partition: record.partition });

    const sizes = async () => (await rt.admin.describeTopic('profiles')).partitions.reduce((sum, p) => sum + p.sizeBytes, 0);
    const sizeBefore = await sizes();
    // The pass runs every 50 ms; the test times out if it never shrinks the topic.
    let sizeAfter = sizeBefore;
    while (sizeAfter > sizeBefore / 2) {
      await sleep(50);
      sizeAfter = await sizes();
    }
    const after = (await readTopic(rt, 'profiles')).flat();
    expect(after.length).toBeLessThan(before.length);
    const seen = new Map(after.map((record) => [record.key!.toString(), record]));
    expect([...seen.keys()].sort()).toEqual([...latest.keys()].sort());
    for (const [key, record] of seen) {
      expect(record.value!.toString()).toBe(latest.get(key)!.value);
      expect([record.partition, record.offset]).toEqual([latest.get(key)!.partition, latest.get(key)!.offset]);
    }
  });
});
