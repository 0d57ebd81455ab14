/**
 * A clean close and a reopen of the same directory through the facade: topics, partition counts,
 * configs and every record (offset, key, value, headers, timestamp) come back; new sends continue
 * at the offsets where the old ones stopped; `fetchTopicOffsets` reports the same offsets.
 */
import { describe, expect, it } from 'vitest';
import type { ProducerMessage } from '../../src/index.js';
import { ClickStream } from '../../src/workload/click-events.js';
import { integrationFixture, readTopic, type ReadRecord } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

interface SentRecord {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Array<{ key: string; value: string | null }>;
  readonly timestamp: number;
}

/** The comparable form of a record read back. */
function shape(record: ReadRecord): SentRecord & { offset: number } {
  return {
    offset: record.offset,
    key: record.key === null ? null : record.key.toString(),
    value: record.value!.toString(),
    headers: record.headers.map((header) => ({ key: header.key, value: header.value === null ? null : header.value.toString() })),
    timestamp: record.timestamp,
  };
}

describe('restart', () => {
  it('brings back topics, configs and every record after close and reopen, and continues at the right offsets', async () => {
    const dir = newDir();
    const rt = await openRuntime({ dir, threads: 2 });
    // Small segments, so that the records span several segment files per partition (and their indexes are reloaded).
    await rt.admin.createTopic('events', { partitions: 3, segmentBytes: 16_384, retentionMs: -1, compression: 'gzip', flush: 'always' });
    await rt.admin.createTopic('audit', { partitions: 5, cleanupPolicy: 'compact', timestampType: 'create', maxMessageBytes: 200_000 });
    await rt.admin.createTopics({ topics: [{ topic: 'legacy', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });

    // Records with keys (some null), headers (one repeated name, some null values) and the click stream's own timestamps, some out of order.
    const stream = new ClickStream({ seed: 7 });
    const sent = new Map<string, SentRecord>(); // by value, which is unique
    const producer = rt.producer({ lingerMs: 1 });
    for (let s = 0; s < 20; s++) {
      const messages: ProducerMessage[] = stream.records(150).map((record, i) => {
        const value = `#${s * 150 + i} ${record.value.toString()}`;
        const key = i % 10 === 0 ? null : record.key.toString();
        const headers: Array<{ key: string; value: string | null }> = [
          { key: 'source', value: 'restart-test' },
          { key: 'seq', value: String(s * 150 + i) },
          { key: 'seq', value: `again-${i}` },
        ];
        if (i % 7 === 0) headers.push({ key: 'empty', value: null });
        sent.set(value, { key, value, headers, timestamp: record.timestamp });
        return { key, value, headers, timestamp: record.timestamp };
      });
      await producer.send({ topic: 'events', messages });
    }
    await producer.send({ topic: 'audit', messages: [{ key: 'a', value: 'one', partition: 4 }, { key: 'b', value: 'two', partition: 0 }] });

    const topicsBefore = await rt.admin.listTopics();
    const describedBefore = await Promise.all(topicsBefore.map((topic) => rt.admin.describeTopic(topic)));
    const offsetsBefore = await Promise.all(topicsBefore.map((topic) => rt.admin.fetchTopicOffsets(topic)));
    const eventsBefore = (await readTopic(rt, 'events')).map((records) => records.map(shape));
    const auditBefore = (await readTopic(rt, 'audit')).map((records) => records.map(shape));

    // What was read before the restart is what was sent: every record once, with its key, headers and timestamp.
    const readValues = eventsBefore.flat().map((record) => record.value);
    expect(readValues.length).toBe(sent.size);
    expect(new Set(readValues).size).toBe(sent.size);
    for (const record of eventsBefore.flat()) {
      const { offset: _offset, ...rest } = record;
      expect(rest).toEqual(sent.get(record.value));
    }
    expect(describedBefore[0].partitions.some((p) => p.segments > 1)).toBe(true);

    await rt.close();

    const again = await openRuntime({ dir, threads: 2 });
    expect(await again.admin.listTopics()).toEqual(topicsBefore);
    expect(topicsBefore).toEqual(['events', 'audit', 'legacy']);
    const describedAfter = await Promise.all(topicsBefore.map((topic) => again.admin.describeTopic(topic)));
    for (const [i, after] of describedAfter.entries()) {
      const before = describedBefore[i];
      expect(after.name).toBe(before.name);
      expect(after.config).toEqual(before.config);
      // Which thread hosts a partition may change; what the partition holds may not.
      expect(after.partitions.map(({ thread: _thread, ...rest }) => rest)).toEqual(before.partitions.map(({ thread: _thread, ...rest }) => rest));
    }
    expect(describedAfter.map((d) => d.partitions.length)).toEqual([3, 5, 2]);
    expect(describedAfter[0].config).toMatchObject({ segmentBytes: 16_384, retentionMs: -1, compression: 'gzip', flush: 'always' });
    expect(describedAfter[1].config).toMatchObject({ cleanupPolicy: 'compact', maxMessageBytes: 200_000 });
    expect(describedAfter[2].config).toMatchObject({ retentionMs: 3_600_000 });
    expect(await Promise.all(topicsBefore.map((topic) => again.admin.fetchTopicOffsets(topic)))).toEqual(offsetsBefore);

    // Every record, field by field, at the same offset.
    expect((await readTopic(again, 'events')).map((records) => records.map(shape))).toEqual(eventsBefore);
    expect((await readTopic(again, 'audit')).map((records) => records.map(shape))).toEqual(auditBefore);

    // New sends continue at each partition's old high watermark.
    const fresh = again.producer();
    for (const { partition, high } of offsetsBefore[0]) {
      const [meta] = await fresh.send({ topic: 'events', messages: [{ key: 'after', value: `after restart ${partition}`, partition }] });
      expect(meta).toMatchObject({ topicName: 'events', partition, baseOffset: high });
    }
    const [legacyMeta] = await fresh.send({ topic: 'legacy', messages: [{ value: 'first', partition: 1 }] });
    expect(legacyMeta.baseOffset).toBe('0');
    const offsetsAfter = await again.admin.fetchTopicOffsets('events');
    expect(offsetsAfter).toEqual(offsetsBefore[0].map((o) => ({ ...o, offset: String(Number(o.offset) + 1), high: String(Number(o.high) + 1) })));
    const eventsAfter = await readTopic(again, 'events');
    for (const [partition, records] of eventsAfter.entries()) {
      expect(records.slice(0, -1).map(shape)).toEqual(eventsBefore[partition]);
      expect(shape(records.at(-1)!)).toMatchObject({ offset: Number(offsetsBefore[0][partition].high), key: 'after', value: `after restart ${partition}` });
    }
  });
});
