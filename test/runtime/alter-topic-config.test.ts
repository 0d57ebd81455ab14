import { describe, expect, it } from 'vitest';
import { open } from '../../src/tributary.js';
import { parseTopicConfig, splitTopicConfig } from '../../src/runtime/topic-config.js';
import { append, batchFor, readValues, rejection, runtimeFixture } from './helpers.js';

const { newDir, open: openRuntime } = runtimeFixture();
const defaults = splitTopicConfig(parseTopicConfig()).config;

describe('Admin.alterTopicConfig', () => {
  it('changes the settings given, keeps the others, and persists them', async () => {
    const dir = newDir();
    let rt = await openRuntime({ dir, threads: 1 });
    await rt.admin.createTopic('metrics', { partitions: 2, compression: 'lz4', retentionMs: 60_000 });
    const altered = await rt.admin.alterTopicConfig('metrics', { retentionMs: 120_000, cleanupPolicy: 'compact', flush: 'always' });
    expect(altered).toEqual({ ...defaults, compression: 'lz4', retentionMs: 120_000, cleanupPolicy: 'compact', flush: 'always' });
    expect((await rt.admin.describeTopic('metrics')).config).toEqual(altered);
    expect(rt.topic('metrics')).toMatchObject({ partitions: 2, compression: 'lz4' });
    // A setting given as undefined goes back to its default.
    expect(await rt.admin.alterTopicConfig('metrics', { compression: undefined })).toEqual({ ...altered, compression: 'producer' });
    await rt.close();

    rt = await openRuntime({ dir, threads: 1 });
    expect((await rt.admin.describeTopic('metrics')).config).toEqual({ ...altered, compression: 'producer' });
  });

  it('reopens the partitions under the new settings, keeping their records', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('rolls', { partitions: 2 });
    for (let offset = 0; offset < 3; offset++) await append(rt, 'rolls', 1, batchFor('rolls', 1, offset));
    expect((await rt.admin.describeTopic('rolls')).partitions[1].segments).toBe(1);

    // Each batch is ~100 bytes, so a 150-byte segment holds one batch and every append rolls.
    await rt.admin.alterTopicConfig('rolls', { segmentBytes: 150 });
    for (let offset = 3; offset < 6; offset++) await append(rt, 'rolls', 1, batchFor('rolls', 1, offset));
    const partition = (await rt.admin.describeTopic('rolls')).partitions[1];
    expect(partition.segments).toBeGreaterThanOrEqual(4);
    expect((await readValues(rt, 'rolls', 1)).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('loses and duplicates nothing a producer sends while the partitions reopen', async () => {
    const rt = await open({ dir: newDir(), threads: 2 });
    try {
      await rt.admin.createTopic('busy', { partitions: 4 });
      const producer = rt.producer({ lingerMs: 1 });
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) {
        sends.push(producer.send({ topic: 'busy', messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${(i * 10 + j) % 37}`, value: String(i * 10 + j) })) }));
        if (i === 50) sends.push(rt.admin.alterTopicConfig('busy', { segmentBytes: 4096 }));
        if (i === 120) sends.push(rt.admin.alterTopicConfig('busy', { flush: 'always' }));
        if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(sends);
      const values: number[] = [];
      for (let partition = 0; partition < 4; partition++) {
        for (const record of await readValues(rt.runtime, 'busy', partition)) values.push(Number(record.value));
      }
      expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    } finally {
      await rt.close();
    }
  });

  it('rejects what it cannot change, naming it', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 1 });
    await rt.admin.createTopic('fixed');
    await rt.admin.createInternalTopic('__state');
    await rejection(rt.admin.alterTopicConfig('missing', { retentionMs: 1 }), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect((await rejection(rt.admin.alterTopicConfig('fixed', { partitions: 3 } as never), 'INVALID_CONFIG')).message).toContain('createPartitions');
    expect((await rejection(rt.admin.alterTopicConfig('fixed', { retentionMS: 1 } as never), 'INVALID_CONFIG')).message).toContain("did you mean 'retentionMs'");
    expect((await rejection(rt.admin.alterTopicConfig('fixed', { segmentBytes: 10 }), 'INVALID_CONFIG')).message).toContain('segmentBytes');
    await rejection(rt.admin.alterTopicConfig('__state', { retentionMs: 1 }), 'INVALID_TOPIC');
    await rejection(rt.admin.alterTopicConfig('fixed', null as never), 'INVALID_REQUEST');
    expect((await rt.admin.describeTopic('fixed')).config).toEqual(defaults);
  });
});
