/**
 * `sink()` on a real runtime in a temp dir, bound on the main thread: what each element becomes,
 * completion after acknowledgement, failures, and backpressure from a slow sink to its source.
 */
import { from, lastValueFrom, map, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Producer } from '../../src/client/producer.js';
import { TributaryError } from '../../src/errors.js';
import type { Tributary } from '../../src/index.js';
import { RECORD_COUNT_OFFSET } from '../../src/record/batch-header.js';
import type { PartitionClient } from '../../src/runtime/partition-client.js';
import { RuntimeBinding } from '../../src/streams/runtime-binding.js';
import { sinkOn } from '../../src/streams/sink.js';
import { sourceOn } from '../../src/streams/source.js';
import { count, sink, source, tumbling, window } from '../../src/streams/index.js';
import { integrationFixture, readTopic } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();

async function runtime(...topics: Array<[string, number]>): Promise<Tributary> {
  const rt = await openRuntime({ dir: newDir(), threads: 2 });
  for (const [topic, partitions] of topics) await rt.admin.createTopic(topic, { partitions });
  return rt;
}

describe('sink()', () => {
  it('writes records and completes once they are acknowledged, keeping key, value, headers, timestamp and an explicit partition', async () => {
    const rt = await runtime(['out', 3]);
    const elements = [
      { key: 'a', value: 'one', timestamp: 1_000, headers: [{ key: 'h', value: Buffer.from('x') }], partition: 2 },
      { key: Buffer.from('b'), value: { n: 2 }, timestamp: 2_000, partition: 0 },
      { value: null, partition: 1 },
    ];
    await lastValueFrom(from(elements).pipe(sink('out')), { defaultValue: undefined });
    const [p0, p1, p2] = await readTopic(rt, 'out');
    expect(p2.map((r) => [r.key!.toString(), r.value!.toString(), r.timestamp, r.headers[0].key, r.headers[0].value!.toString()])).toEqual([['a', 'one', 1_000, 'h', 'x']]);
    expect(p0.map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()), r.timestamp])).toEqual([['b', { n: 2 }, 2_000]]);
    expect(p1.map((r) => [r.key, r.value])).toEqual([[null, null]]);
  });

  it('writes windowed results as key and { window, value, final }, at the window start', async () => {
    const rt = await runtime(['in', 1], ['counts', 1]);
    const producer = rt.producer();
    await producer.send({ topic: 'in', messages: [0, 10, 70, 75, 80].map((s) => ({ key: 'page', value: 'x', timestamp: s * 1000 })) });
    await producer.disconnect();
    await lastValueFrom(source('in', { keySerde: 'string', to: 'end' }).pipe(window(tumbling('1m')), count(), sink('counts')), { defaultValue: undefined });
    const [records] = await readTopic(rt, 'counts');
    expect(records.map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()), r.timestamp])).toEqual([
      ['page', { window: { start: 0, end: 60_000 }, value: 2, final: true }, 0],
      ['page', { window: { start: 60_000, end: 120_000 }, value: 3, final: true }, 60_000],
    ]);
  });

  it('serializes with the serdes it is given', async () => {
    const rt = await runtime(['typed', 1]);
    const upper = { serialize: (value: string) => Buffer.from(value.toUpperCase()), deserialize: (bytes: Buffer | null) => bytes!.toString() };
    await lastValueFrom(from([{ key: 7, value: 'hello' }]).pipe(sink('typed', { keySerde: 'json', serde: upper })), { defaultValue: undefined });
    const [records] = await readTopic(rt, 'typed');
    expect(records.map((r) => [r.key!.toString(), r.value!.toString()])).toEqual([['7', 'HELLO']]);
  });

  it('fails with the failed write, and on elements it cannot write', async () => {
    await runtime(['exists', 1]);
    await expect(lastValueFrom(from([{ key: 'k', value: 'v' }]).pipe(sink('missing')), { defaultValue: undefined })).rejects.toMatchObject({
      code: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    await expect(lastValueFrom(from([{ value: 'v', partition: 5 }]).pipe(sink('exists')), { defaultValue: undefined })).rejects.toBeInstanceOf(TributaryError);
    await expect(lastValueFrom(from([42]).pipe(sink('exists')), { defaultValue: undefined })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    expect(() => sink('exists', { serde: 'yaml' as never })).toThrow(/serde/);
    expect(() => sink('exists', { producer: { lingerMS: 1 } as never })).toThrow(/did you mean 'lingerMs'/);
    expect(() => sink('exists', { keyserde: 'json' } as never)).toThrow(/Unknown sink option 'keyserde'/);
  });

  it('copies a topic through source and sink with nothing lost', async () => {
    const rt = await runtime(['from', 2], ['to', 2]);
    const producer = rt.producer();
    await producer.send({ topic: 'from', messages: Array.from({ length: 2_000 }, (_, i) => ({ key: `k${i % 13}`, value: String(i) })) });
    await producer.disconnect();
    await lastValueFrom(source('from', { to: 'end' }).pipe(sink('to')), { defaultValue: undefined });
    const copied = await readTopic(rt, 'to');
    const original = await readTopic(rt, 'from');
    expect(copied.map((p) => p.map((r) => r.value!.toString()))).toEqual(original.map((p) => p.map((r) => r.value!.toString())));
  });

  it('backpressure: a slow sink stops its source reading, so unacknowledged records stay bounded', async () => {
    const rt = await runtime(['fast', 1], ['slow', 1]);
    const records = 50_000;
    const value = 'x'.repeat(90);
    const producer = rt.producer();
    for (let sent = 0; sent < records; sent += 10_000) {
      await producer.send({ topic: 'fast', messages: Array.from({ length: 10_000 }, (_, i) => ({ key: String(sent + i), value })) });
    }
    await producer.disconnect();

    // Appends to the sink's topic take 10 ms each; the counter sees each batch's records when acknowledged.
    let acknowledged = 0;
    const slowClient: PartitionClient = {
      topic: (name) => rt.runtime.topic(name),
      groupCoordinator: (groupId) => rt.runtime.groupCoordinator(groupId),
      initProducerId: () => rt.runtime.initProducerId(),
      request: async (type, args, transfer) => {
        if (type !== 'append') return rt.runtime.request(type, args, transfer);
        const { batch } = args as { batch: Uint8Array };
        const recordCount = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength).readInt32BE(RECORD_COUNT_OFFSET);
        await new Promise((resolve) => setTimeout(resolve, 10));
        const result = await rt.runtime.request(type, args, transfer);
        acknowledged += recordCount;
        return result;
      },
    };
    const binding = new RuntimeBinding('slow sink', rt.runtime, {
      consumer: (options) => rt.consumer(options),
      producer: (options) => new Producer(slowClient, options),
    });
    const bufferMemory = 256 * 1024;
    let emitted = 0;
    let mostAhead = 0;
    await lastValueFrom(
      sourceOn(binding, 'fast', { to: 'end' }).pipe(
        tap(() => {
          emitted++;
          mostAhead = Math.max(mostAhead, emitted - acknowledged);
        }),
        map((record) => ({ key: record.key, value: record.value })),
        sinkOn(binding, 'slow', { producer: { bufferMemory, batchBytes: 16 * 1024 } }),
      ),
      { defaultValue: undefined },
    );
    expect(acknowledged).toBe(records);
    // Without backpressure the source would run ahead by nearly all 50,000 records (about 5 MB);
    // with it, by the sink's bound plus the one consumer batch (at most 1 MiB) being emitted when it filled.
    const recordBytes = 100;
    expect(mostAhead * recordBytes).toBeLessThan(bufferMemory + 1024 * 1024 + 64 * 1024);
    expect(mostAhead).toBeLessThan(records / 3);
  });

  it('two pipelines from one source definition write two topics', async () => {
    const rt = await runtime(['events', 1], ['copy', 1], ['keys', 1]);
    const producer = rt.producer();
    await producer.send({ topic: 'events', messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: String(i), timestamp: i })) });
    await producer.disconnect();
    const records = source<string>('events', { serde: 'string', to: 'end' });
    await Promise.all([
      lastValueFrom(records.pipe(sink('copy')), { defaultValue: undefined }),
      lastValueFrom(records.pipe(map((r) => ({ key: r.key, value: r.key })), sink('keys')), { defaultValue: undefined }),
    ]);
    expect((await readTopic(rt, 'copy'))[0].map((r) => r.value!.toString())).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect((await readTopic(rt, 'keys'))[0].map((r) => r.value!.toString())).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });
});
