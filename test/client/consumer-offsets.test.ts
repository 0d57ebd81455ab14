/**
 * Where the consumer starts and what it does when its position leaves the log: autoOffsetReset
 * (earliest, latest, none) with no position and after deleteRecords, offsetsForTimes, and lag.
 */
import { describe, expect, test } from 'vitest';
import { Consumer, type ConsumerCrashEvent } from '../../src/client/consumer.js';
import { fakes, records, take, waitUntil } from './consumer-fakes/helpers.js';

const { client: fakeClient, track } = fakes();
const FAST = { maxWaitTimeInMs: 30 } as const;

function topicWithTen(): ReturnType<typeof fakeClient> {
  const client = fakeClient();
  client.createTopic('t', 1);
  for (let i = 0; i < 10; i++) client.produce('t', 0, records('a', 1, i));
  return client;
}

async function deleteBefore(client: ReturnType<typeof fakeClient>, beforeOffset: number): Promise<void> {
  await client.request('deleteRecords', { topic: 't', partition: 0, beforeOffset });
}

describe('autoOffsetReset without a position', () => {
  test('earliest starts at the log start, latest at the log end', async () => {
    const client = topicWithTen();
    await deleteBefore(client, 4);
    const earliest = track(new Consumer(client, { ...FAST, autoOffsetReset: 'earliest' }));
    earliest.assign([{ topic: 't', partition: 0 }]);
    expect((await take(earliest, 1))[0].offset).toBe(4);

    const latest = track(new Consumer(client, FAST));
    latest.assign([{ topic: 't', partition: 0 }]);
    const next = take(latest, 1);
    await waitUntil(() => client.requests.at(-1)!.type === 'fetch' && client.requests.at(-2)!.type === 'listOffsets');
    client.produce('t', 0, records('b', 1));
    expect((await next).map((r) => [r.offset, String(r.value)])).toEqual([[10, 'b-0']]);
  });

  test("'none' fails with OFFSET_OUT_OF_RANGE: the iterator throws it, run() crashes with it", async () => {
    const client = topicWithTen();
    const consumer = track(new Consumer(client, { ...FAST, autoOffsetReset: 'none' }));
    consumer.assign([{ topic: 't', partition: 0 }]);
    const error = await take(consumer, 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', details: { topic: 't', partition: 0 } });
    expect(String(error)).toMatch(/no position and autoOffsetReset is 'none'/);

    const crashes: ConsumerCrashEvent[] = [];
    consumer.on('consumer.crash', (event) => crashes.push(event));
    await consumer.run({ eachMessage: async () => undefined });
    await waitUntil(() => crashes.length === 1);
    expect(crashes[0].payload.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });

    consumer.seek({ topic: 't', partition: 0, offset: 7 });
    expect((await take(consumer, 1))[0].offset).toBe(7);
  });
});

describe('a position outside the log', () => {
  test('after deleteRecords, earliest resumes at the new log start', async () => {
    const client = topicWithTen();
    const consumer = track(new Consumer(client, { ...FAST, autoOffsetReset: 'earliest' }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    expect((await take(consumer, 3)).map((r) => r.offset)).toEqual([0, 1, 2]);
    await deleteBefore(client, 6);
    expect((await take(consumer, 4)).map((r) => r.offset)).toEqual([6, 7, 8, 9]);
  });

  test('after deleteRecords, latest jumps to the log end', async () => {
    const client = topicWithTen();
    await deleteBefore(client, 6);
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0, offset: 2 }]);
    const next = take(consumer, 1);
    await waitUntil(() => client.count('listOffsets') === 1 && client.requests.at(-1)!.type === 'fetch');
    client.produce('t', 0, records('b', 1));
    expect((await next).map((r) => r.offset)).toEqual([10]);
  });

  test("with 'none' the error names the position and the log's range", async () => {
    const client = topicWithTen();
    await deleteBefore(client, 6);
    const consumer = track(new Consumer(client, { ...FAST, autoOffsetReset: 'none' }));
    consumer.assign([{ topic: 't', partition: 0, offset: 2 }]);
    const error = await take(consumer, 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', details: { topic: 't', partition: 0, position: 2, logStartOffset: 6, logEndOffset: 10 } });
  });

  test('a seek past the log end resets too', async () => {
    const client = topicWithTen();
    const consumer = track(new Consumer(client, { ...FAST, autoOffsetReset: 'earliest' }));
    consumer.assign([{ topic: 't', partition: 0, offset: 50 }]);
    expect((await take(consumer, 1))[0].offset).toBe(0);
  });
});

describe('offsetsForTimes', () => {
  test('finds the first offset at or after each timestamp, null past the newest', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    client.produce('t', 0, [
      { value: 'a', timestamp: 1000 },
      { value: 'b', timestamp: 2000 },
      { value: 'c', timestamp: 3000 },
    ]);
    client.produce('t', 1, [{ value: 'x', timestamp: 500 }]);
    const consumer = track(new Consumer(client, FAST));
    const found = await consumer.offsetsForTimes([
      { topic: 't', partition: 0, timestamp: 1500 },
      { topic: 't', partition: 0, timestamp: 0 },
      { topic: 't', partition: 0, timestamp: 5000 },
      { topic: 't', partition: 1, timestamp: 500 },
    ]);
    expect(found).toEqual([
      { topic: 't', partition: 0, offset: 1, timestamp: 2000 },
      { topic: 't', partition: 0, offset: 0, timestamp: 1000 },
      { topic: 't', partition: 0, offset: null, timestamp: null },
      { topic: 't', partition: 1, offset: 0, timestamp: 500 },
    ]);
    await expect(consumer.offsetsForTimes([{ topic: 't', partition: 0, timestamp: 1.5 }])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(consumer.offsetsForTimes([{ topic: 't', partition: 9, timestamp: 1 }])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });
});

describe('lag', () => {
  test('reports position, high watermark and lag per assigned partition', async () => {
    const client = fakeClient();
    client.createTopic('t', 3);
    client.produce('t', 0, records('a', 10));
    client.produce('t', 1, records('b', 4));
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([
      { topic: 't', partition: 0, offset: 0 },
      { topic: 't', partition: 1 },
    ]);
    // Nothing fetched yet: the high watermark is asked for; partition 1 has no position until it starts.
    expect(await consumer.lag()).toEqual([
      { topic: 't', partition: 0, position: 0, highWatermark: 10, lag: 10 },
      { topic: 't', partition: 1, position: null, highWatermark: 4, lag: null },
    ]);
    consumer.pause([{ topic: 't', partitions: [1] }]);
    expect((await take(consumer, 4)).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    const asked = client.count('listOffsets', 't', 0);
    expect((await consumer.lag())[0]).toEqual({ topic: 't', partition: 0, position: 4, highWatermark: 10, lag: 6 });
    // This time the high watermark came from the last fetch, not from another request.
    expect(client.count('listOffsets', 't', 0)).toBe(asked);
  });
});
