import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime/runtime.js';
import { append, batchFor, readValues, rejection, runtimeFixture } from './helpers.js';

// One runtime for the whole file: each test uses its own topic names.
const { newDir, open } = runtimeFixture('file');
let rt: Runtime;
let dir: string;
beforeAll(async () => {
  dir = newDir();
  rt = await open({ dir, threads: 2 });
});

/** Appends `count` single-record batches at offsets 0..count-1 (each stamped 1_700_000_000_000 + offset). */
async function fill(topic: string, partition: number, count: number): Promise<void> {
  for (let offset = 0; offset < count; offset++) await append(rt, topic, partition, batchFor(topic, partition, offset));
}

describe('Admin: our dialect', () => {
  it('creates, lists, describes and deletes topics', async () => {
    await rt.admin.createTopic('clicks', { partitions: 4, retentionMs: 60_000, flush: 'always' });
    await rt.admin.createTopics([{ name: 'views' }, { name: 'carts', partitions: 2, compression: 'zstd' }]);
    const names = await rt.admin.listTopics();
    expect(names.filter((n) => ['clicks', 'views', 'carts'].includes(n))).toEqual(['clicks', 'views', 'carts']);
    const clicks = await rt.admin.describeTopic('clicks');
    expect(clicks.name).toBe('clicks');
    expect(clicks.config).toMatchObject({ retentionMs: 60_000, flush: 'always', compression: 'producer', cleanupPolicy: 'delete' });
    expect(clicks.partitions).toHaveLength(4);
    expect(clicks.partitions[0]).toEqual({ partition: 0, thread: expect.any(Number), logStartOffset: 0, logEndOffset: 0, sizeBytes: 0, segments: 1 });
    expect(rt.topic('carts')).toEqual({ name: 'carts', partitions: 2, compression: 'zstd', timestampType: 'create' });
    expect(fs.existsSync(path.join(rt.dir, 'clicks-3'))).toBe(true);

    await append(rt, 'clicks', 3, batchFor('clicks', 3, 0));
    await rt.admin.deleteTopic('clicks');
    expect(await rt.admin.listTopics()).not.toContain('clicks');
    expect(fs.existsSync(path.join(rt.dir, 'clicks-3'))).toBe(false);
    await rejection(append(rt, 'clicks', 3, batchFor('clicks', 3, 1)), 'UNKNOWN_TOPIC_OR_PARTITION');

    // The name is free again, and the new topic starts empty.
    await rt.admin.createTopic('clicks', { partitions: 4 });
    expect((await rt.admin.describeTopic('clicks')).partitions[3].logEndOffset).toBe(0);
  });

  it('spreads partitions evenly over the threads', async () => {
    const before = rt.slotLoads();
    expect(Math.max(...before) - Math.min(...before)).toBeLessThanOrEqual(1);
    await rt.admin.createTopic('spread', { partitions: 5 });
    const after = rt.slotLoads();
    expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
    const threads = (await rt.admin.describeTopic('spread')).partitions.map((p) => p.thread);
    expect(new Set(threads)).toEqual(new Set([0, 1]));
  });

  it('refuses an existing or colliding topic, and a batch containing one creates nothing', async () => {
    await rt.admin.createTopic('dup.one');
    expect((await rejection(rt.admin.createTopic('dup.one'), 'TOPIC_ALREADY_EXISTS')).details).toEqual({ topic: 'dup.one' });
    const collision = await rejection(rt.admin.createTopic('dup_one'), 'TOPIC_ALREADY_EXISTS');
    expect(collision.details).toEqual({ topic: 'dup_one', collidesWith: 'dup.one' });
    await rejection(rt.admin.createTopics([{ name: 'dup.fresh' }, { name: 'dup.one' }]), 'TOPIC_ALREADY_EXISTS');
    expect(await rt.admin.listTopics()).not.toContain('dup.fresh');
    await rejection(rt.admin.createTopics([{ name: 'dup.twice' }, { name: 'dup.twice' }]), 'INVALID_REQUEST');
  });

  it.each([
    ['', 'empty'],
    ['.', 'dot'],
    ['..', 'dot'],
    ['a/b', 'illegal-character'],
    ['x'.repeat(250), 'too-long'],
    ['\u00e9', 'illegal-character'],
    [42, 'not-a-string'],
    ['__mine', 'internal-prefix'],
  ])('refuses the topic name %j', async (name, rule) => {
    const error = await rejection(rt.admin.createTopic(name as string), 'INVALID_TOPIC');
    expect(error.details.rule).toBe(rule);
    await rejection(rt.admin.createTopics([{ name: name as string }]), 'INVALID_TOPIC');
  });

  it.each([
    [{ partitions: 0 }, 'INVALID_PARTITIONS', 'partitions'],
    [{ partitions: -3 }, 'INVALID_PARTITIONS', 'partitions'],
    [{ partitions: 1.5 }, 'INVALID_PARTITIONS', 'partitions'],
    [{ partitions: '2' }, 'INVALID_PARTITIONS', 'partitions'],
    [{ retentionMs: -7 }, 'INVALID_CONFIG', 'retentionMs'],
    [{ compression: 'brotli' }, 'INVALID_CONFIG', 'compression'],
    [{ flush: 'often' }, 'INVALID_CONFIG', 'flush'],
    [{ cleanupPolicy: 'archive' }, 'INVALID_CONFIG', 'cleanupPolicy'],
    [{ segmentBytes: 1 }, 'INVALID_CONFIG', 'segmentBytes'],
    [{ retention: 5 }, 'INVALID_CONFIG', 'retention'],
    [{ 'retention.ms': '5' }, 'INVALID_CONFIG', 'retention.ms'],
  ] as const)('refuses the config %j naming the field', async (config, code, field) => {
    const error = await rejection(rt.admin.createTopic('badconfig', config as never), code);
    expect(error.details.field).toBe(field);
    expect(await rt.admin.listTopics()).not.toContain('badconfig');
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for missing topics', async () => {
    await rejection(rt.admin.describeTopic('missing'), 'UNKNOWN_TOPIC_OR_PARTITION');
    await rejection(rt.admin.deleteTopic('missing'), 'UNKNOWN_TOPIC_OR_PARTITION');
    await rejection(rt.admin.fetchTopicOffsets('missing'), 'UNKNOWN_TOPIC_OR_PARTITION');
    await rejection(rt.admin.fetchTopicOffsetsByTimestamp('missing', 0), 'UNKNOWN_TOPIC_OR_PARTITION');
    await rejection(rt.admin.deleteRecords({ topic: 'missing', partitions: [{ partition: 0, offset: '0' }] }), 'UNKNOWN_TOPIC_OR_PARTITION');
    await rejection(rt.admin.createPartitions({ topicPartitions: [{ topic: 'missing', count: 2 }] }), 'UNKNOWN_TOPIC_OR_PARTITION');
    // Every topic of a deleteTopics must exist, or none is deleted.
    await rt.admin.createTopic('kept');
    await rejection(rt.admin.deleteTopics({ topics: ['kept', 'missing'] }), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(await rt.admin.listTopics()).toContain('kept');
    await rejection(rt.admin.describeTopic(7 as never), 'INVALID_REQUEST');
  });

  it('creates internal topics only through createInternalTopic, idempotently, and never deletes them', async () => {
    expect(await rt.admin.createInternalTopic('__consumer_offsets', { partitions: 2, cleanupPolicy: 'compact' })).toBe(true);
    expect(await rt.admin.createInternalTopic('__consumer_offsets')).toBe(false);
    expect((await rt.admin.describeTopic('__consumer_offsets')).config.cleanupPolicy).toBe('compact');
    expect((await rejection(rt.admin.createInternalTopic('offsets'), 'INVALID_TOPIC')).details.rule).toBe('internal-prefix');
    await rejection(rt.admin.deleteTopic('__consumer_offsets'), 'INVALID_TOPIC');
    expect(await rt.admin.listTopics()).toContain('__consumer_offsets');
  });

  it('survives a reopen with everything it created', async () => {
    await rt.admin.createTopic('persisted', { partitions: 3, segmentBytes: 4096 });
    await rt.admin.createPartitions({ topicPartitions: [{ topic: 'persisted', count: 5 }] });
    const topics = await rt.admin.listTopics();
    await rt.close();
    rt = await open({ dir, threads: 2 });
    expect(await rt.admin.listTopics()).toEqual(topics);
    const persisted = await rt.admin.describeTopic('persisted');
    expect(persisted.partitions).toHaveLength(5);
    expect(persisted.config.segmentBytes).toBe(4096);
  });
});

describe('Admin: the KafkaJS dialect', () => {
  it('createTopics maps Kafka configs and answers false when a topic existed', async () => {
    const created = await rt.admin.createTopics({
      topics: [
        {
          topic: 'kjs-events',
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [
            { name: 'retention.ms', value: '86400000' },
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'compression.type', value: 'lz4' },
            { name: 'message.timestamp.type', value: 'LogAppendTime' },
            { name: 'max.message.bytes', value: '2097152' },
            { name: 'segment.bytes', value: '1048576' },
            { name: 'retention.bytes', value: '1073741824' },
          ],
        },
        { topic: 'kjs-default', numPartitions: -1, replicationFactor: -1 },
      ],
      waitForLeaders: true,
      timeout: 5000,
    });
    expect(created).toBe(true);
    expect((await rt.admin.describeTopic('kjs-events')).config).toMatchObject({
      retentionMs: 86_400_000,
      cleanupPolicy: 'compact',
      compression: 'lz4',
      timestampType: 'log-append',
      maxMessageBytes: 2_097_152,
      segmentBytes: 1_048_576,
      retentionBytes: 1_073_741_824,
    });
    expect(rt.topic('kjs-default').partitions).toBe(1);
    expect(await rt.admin.createTopics({ topics: [{ topic: 'kjs-events' }, { topic: 'kjs-new' }] })).toBe(false);
    expect(await rt.admin.listTopics()).toContain('kjs-new');
    expect(await rt.admin.createTopics({ topics: [{ topic: 'kjs-validate' }], validateOnly: true })).toBe(true);
    expect(await rt.admin.listTopics()).not.toContain('kjs-validate');
  });

  it.each([
    [{ topics: [{ topic: 'kjs-bad', configEntries: [{ name: 'unclean.leader.election.enable', value: 'true' }] }] }, 'INVALID_CONFIG', 'config', 'unclean.leader.election.enable'],
    [{ topics: [{ topic: 'kjs-bad', configEntries: [{ name: 'retention.ms', value: 'week' }] }] }, 'INVALID_CONFIG', 'config', 'retention.ms'],
    [{ topics: [{ topic: 'kjs-bad', numPartitions: 0 }] }, 'INVALID_PARTITIONS', 'field', 'partitions'],
    [{ topics: [{ topic: 'kjs-bad', replicationFactor: 3 }] }, 'INVALID_REQUEST', 'field', 'topics[0].replicationFactor'],
    [{ topics: [{ topic: 'kjs-bad', replicaAssignment: [{ partition: 0, replicas: [1] }] }] }, 'INVALID_REQUEST', 'field', 'topics[0].replicaAssignment'],
    [{ topics: [{ topic: 'kjs-bad', partitions: 2 }] }, 'INVALID_REQUEST', 'field', 'partitions'],
    [{ topics: [{ topic: 'kjs-bad' }, { topic: 'kjs-bad' }] }, 'INVALID_REQUEST', 'topic', 'kjs-bad'],
    [{ topics: 'kjs-bad' }, 'INVALID_REQUEST', 'field', 'topics'],
    [{ topics: [], validateOnly: 'yes' }, 'INVALID_REQUEST', 'field', 'validateOnly'],
    [{ topic: 'kjs-bad' }, 'INVALID_REQUEST', 'field', 'topic'],
    [null, 'INVALID_REQUEST', 'field', 'createTopics request'],
  ] as const)('createTopics refuses %j', async (request, code, key, value) => {
    const error = await rejection(rt.admin.createTopics(request as never), code);
    expect(error.details[key]).toBe(value);
    expect(await rt.admin.listTopics()).not.toContain('kjs-bad');
  });

  it('createTopics refuses bad names and colliding names', async () => {
    await rejection(rt.admin.createTopics({ topics: [{ topic: 'a b' }] }), 'INVALID_TOPIC');
    await rejection(rt.admin.createTopics({ topics: [{ topic: '__internal' }] }), 'INVALID_TOPIC');
    await rt.admin.createTopics({ topics: [{ topic: 'kjs.dot' }] });
    await rejection(rt.admin.createTopics({ topics: [{ topic: 'kjs_dot' }] }), 'TOPIC_ALREADY_EXISTS');
  });

  it('deleteTopics deletes every named topic', async () => {
    await rt.admin.createTopics({ topics: [{ topic: 'kjs-del-1' }, { topic: 'kjs-del-2', numPartitions: 2 }] });
    await rt.admin.deleteTopics({ topics: ['kjs-del-1', 'kjs-del-2'], timeout: 1000 });
    const names = await rt.admin.listTopics();
    expect(names).not.toContain('kjs-del-1');
    expect(names).not.toContain('kjs-del-2');
    await rejection(rt.admin.deleteTopics({ topics: 'kjs-del-1' } as never), 'INVALID_REQUEST');
    await rejection(rt.admin.deleteTopics({ topics: [1] } as never), 'INVALID_REQUEST');
  });

  it('createPartitions raises the count to the new total and new partitions take appends', async () => {
    await rt.admin.createTopic('kjs-grow', { partitions: 2 });
    await append(rt, 'kjs-grow', 1, batchFor('kjs-grow', 1, 0));
    expect(await rt.admin.createPartitions({ topicPartitions: [{ topic: 'kjs-grow', count: 4 }] })).toBe(true);
    expect(rt.topic('kjs-grow').partitions).toBe(4);
    await append(rt, 'kjs-grow', 3, batchFor('kjs-grow', 3, 0));
    const described = await rt.admin.describeTopic('kjs-grow');
    expect(described.partitions.map((p) => p.logEndOffset)).toEqual([0, 1, 0, 1]);
    expect(await rt.admin.createPartitions({ topicPartitions: [{ topic: 'kjs-grow', count: 6 }], validateOnly: true })).toBe(true);
    expect(rt.topic('kjs-grow').partitions).toBe(4);
  });

  it.each([
    [{ topicPartitions: [{ topic: 'kjs-fixed', count: 2 }] }, 'INVALID_PARTITIONS'],
    [{ topicPartitions: [{ topic: 'kjs-fixed', count: 1 }] }, 'INVALID_PARTITIONS'],
    [{ topicPartitions: [{ topic: 'kjs-fixed', count: '3' }] }, 'INVALID_PARTITIONS'],
    [{ topicPartitions: [{ topic: 'kjs-fixed', count: 1e9 }] }, 'INVALID_PARTITIONS'],
    [{ topicPartitions: [{ topic: 'kjs-fixed', count: 3, assignments: [[0]] }] }, 'INVALID_REQUEST'],
    [{ topicPartitions: [{ topic: 'kjs-fixed', count: 3 }, { topic: 'kjs-fixed', count: 4 }] }, 'INVALID_REQUEST'],
    [{ topicPartitions: [{ topic: 'kjs-fixed', count: 3, extra: 1 }] }, 'INVALID_REQUEST'],
    [{ topicPartitions: [{ count: 3 }] }, 'INVALID_REQUEST'],
    [{}, 'INVALID_REQUEST'],
  ] as const)('createPartitions refuses %j', async (request, code) => {
    if (rt.storedTopic('kjs-fixed') === undefined) await rt.admin.createTopic('kjs-fixed', { partitions: 2 });
    await rejection(rt.admin.createPartitions(request as never), code);
    expect(rt.topic('kjs-fixed').partitions).toBe(2);
  });

  it('fetchTopicOffsets answers KafkaJS-shaped strings', async () => {
    await rt.admin.createTopic('kjs-offsets', { partitions: 2 });
    await fill('kjs-offsets', 1, 3);
    expect(await rt.admin.fetchTopicOffsets('kjs-offsets')).toEqual([
      { partition: 0, offset: '0', high: '0', low: '0' },
      { partition: 1, offset: '3', high: '3', low: '0' },
    ]);
  });

  it('fetchTopicOffsetsByTimestamp finds the first record at or after the time, else the high watermark', async () => {
    await rt.admin.createTopic('kjs-times', { partitions: 2 });
    await fill('kjs-times', 0, 5); // timestamps 1_700_000_000_000 + offset
    const at = (ts: number) => rt.admin.fetchTopicOffsetsByTimestamp('kjs-times', ts);
    expect(await at(1_700_000_000_002)).toEqual([
      { partition: 0, offset: '2' },
      { partition: 1, offset: '0' },
    ]);
    expect(await at(0)).toEqual([
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
    ]);
    expect((await at(1_800_000_000_000))[0]).toEqual({ partition: 0, offset: '5' });
    for (const bad of [-1, 1.5, Number.NaN, '5']) {
      expect((await rejection(at(bad as number), 'INVALID_REQUEST')).details.field).toBe('timestamp');
    }
  });

  it('deleteRecords moves the log start, with -1 meaning the high watermark', async () => {
    await rt.admin.createTopic('kjs-trim', { partitions: 2 });
    await fill('kjs-trim', 0, 5);
    await fill('kjs-trim', 1, 4);
    await rt.admin.deleteRecords({ topic: 'kjs-trim', partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '-1' }] });
    expect(await rt.admin.fetchTopicOffsets('kjs-trim')).toEqual([
      { partition: 0, offset: '5', high: '5', low: '3' },
      { partition: 1, offset: '4', high: '4', low: '4' },
    ]);
    expect((await readValues(rt, 'kjs-trim', 0)).map((r) => r.offset)).toEqual([3, 4]);
    await rejection(rt.admin.deleteRecords({ topic: 'kjs-trim', partitions: [{ partition: 0, offset: '99' }] }), 'OFFSET_OUT_OF_RANGE');
  });

  it.each([
    [{ topic: 'kjs-trim2', partitions: [{ partition: 2, offset: '0' }] }, 'UNKNOWN_TOPIC_OR_PARTITION', 'partitions[0].partition'],
    [{ topic: 'kjs-trim2', partitions: [{ partition: -1, offset: '0' }] }, 'UNKNOWN_TOPIC_OR_PARTITION', 'partitions[0].partition'],
    [{ topic: 'kjs-trim2', partitions: [{ partition: 0, offset: '-2' }] }, 'INVALID_REQUEST', 'partitions[0].offset'],
    [{ topic: 'kjs-trim2', partitions: [{ partition: 0, offset: 'x' }] }, 'INVALID_REQUEST', 'partitions[0].offset'],
    [{ topic: 'kjs-trim2', partitions: [{ partition: 0, offset: 3 }] }, 'INVALID_REQUEST', 'partitions[0].offset'],
    [{ topic: 'kjs-trim2', partitions: [] }, 'INVALID_REQUEST', 'partitions'],
    [{ topic: 'kjs-trim2', partitions: [{ partition: 0, offset: '0' }, { partition: 0, offset: '1' }] }, 'INVALID_REQUEST', undefined],
    [{ topic: 'kjs-trim2' }, 'INVALID_REQUEST', 'partitions'],
    [{ partitions: [] }, 'INVALID_REQUEST', 'topic'],
  ] as const)('deleteRecords refuses %j', async (request, code, field) => {
    if (rt.storedTopic('kjs-trim2') === undefined) await rt.admin.createTopic('kjs-trim2', { partitions: 2 });
    const error = await rejection(rt.admin.deleteRecords(request as never), code);
    if (field !== undefined) expect(error.details.field).toBe(field);
  });
});
