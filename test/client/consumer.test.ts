/**
 * Consumer API against the Log-backed fake: assignment and subscription, the shapes each
 * delivery mode hands over (KafkaJS's strings and headers object, the native numbers and header
 * array), lazy serdes, and every bad input getting a typed error that names it.
 */
import { describe, expect, test } from 'vitest';
import { Consumer, type ConsumerRecord, type EachBatchPayload, type EachMessagePayload } from '../../src/client/consumer.js';
import type { Serde } from '../../src/client/serde.js';
import { TributaryError } from '../../src/errors.js';
import { fakes, records, sleep, take, waitUntil } from './consumer-fakes/helpers.js';

const { client: fakeClient, track } = fakes();
const FAST = { maxWaitTimeInMs: 50 } as const;

function values(items: readonly { value: unknown }[]): string[] {
  return items.map((item) => String(item.value));
}

describe('assignment', () => {
  test('assign reads the named partitions from the given offsets (numbers or decimal strings)', async () => {
    const client = fakeClient();
    client.createTopic('t', 3);
    client.produce('t', 0, records('a', 5));
    client.produce('t', 1, records('b', 5));
    client.produce('t', 2, records('c', 5));
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([
      { topic: 't', partition: 0, offset: 3 },
      { topic: 't', partition: 2, offset: '1' },
    ]);
    const got = await take(consumer, 6);
    const byPartition = (p: number): number[] => got.filter((r) => r.partition === p).map((r) => r.offset);
    expect(byPartition(0)).toEqual([3, 4]);
    expect(byPartition(1)).toEqual([]);
    expect(byPartition(2)).toEqual([1, 2, 3, 4]);
  });

  test('assign without an offset starts per autoOffsetReset; -2 and -1 mean earliest and latest', async () => {
    const client = fakeClient();
    client.createTopic('t', 3);
    for (let p = 0; p < 3; p++) client.produce('t', p, records(`p${p}`, 3));
    const consumer = track(new Consumer(client, { ...FAST, autoOffsetReset: 'earliest' }));
    consumer.assign([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1, offset: -2 },
      { topic: 't', partition: 2, offset: '-1' },
    ]);
    const iterator = consumer[Symbol.asyncIterator]();
    const first = await take({ [Symbol.asyncIterator]: () => iterator }, 6);
    expect(first.map((r) => `${r.partition}:${r.offset}`).sort()).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2']);
    client.produce('t', 2, records('late', 1));
    const [late] = await take(consumer, 1);
    expect([late.partition, late.offset, String(late.value)]).toEqual([2, 3, 'late-0']);
  });

  test('subscribe fromBeginning reads everything; without it the default latest reads only what comes after', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    client.produce('t', 0, records('old', 2));
    client.produce('t', 1, records('old', 2, 2));

    const early = track(new Consumer(client, FAST));
    await early.subscribe({ topics: ['t'], fromBeginning: true });
    expect(values(await take(early, 4)).sort()).toEqual(['old-0', 'old-1', 'old-2', 'old-3']);

    await early.disconnect();
    await waitUntil(() => client.waiting === 0, 3000, "the first consumer's long-polls to expire");
    const late = track(new Consumer(client, FAST));
    await late.subscribe({ topic: 't' });
    const received: ConsumerRecord[] = [];
    await late.run({ eachMessage: async ({ topic, partition, message }) => void received.push({ topic, partition, offset: Number(message.offset), timestamp: 0, key: message.key, value: message.value, headers: [] }) });
    await waitUntil(() => client.waiting === 2, 3000, 'both partitions to wait at their ends');
    client.produce('t', 1, records('new', 1));
    await waitUntil(() => received.length === 1);
    expect([received[0].partition, received[0].offset, String(received[0].value)]).toEqual([1, 2, 'new-0']);
  });

  test('a subscription picks up partitions added to its topic', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    const consumer = track(new Consumer(client, { ...FAST, metadataMaxAge: 20 }));
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    client.produce('t', 0, records('a', 1));
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push(`${partition}:${message.value}`) });
    await waitUntil(() => seen.length === 1);
    client.addPartitions('t', 3);
    client.produce('t', 2, records('c', 1));
    await waitUntil(() => seen.length === 2);
    expect(seen).toEqual(['0:a-0', '2:c-0']);
  });
});

describe('payload shapes', () => {
  test('the iterator yields numbers and the header array', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, [{ key: 'k', value: 'v', timestamp: 1_700_000_000_123, headers: [{ key: 'h', value: 'x' }, { key: 'h', value: 'y' }] }]);
    client.produce('t', 0, [{ key: null, value: null, timestamp: 1_700_000_000_124 }]);
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const [first, second] = await take(consumer, 2);
    expect(first).toMatchObject({ topic: 't', partition: 0, offset: 0, timestamp: 1_700_000_000_123 });
    expect(Buffer.isBuffer(first.key) && Buffer.isBuffer(first.value)).toBe(true);
    expect([String(first.key), String(first.value)]).toEqual(['k', 'v']);
    expect(first.headers.map((h) => [h.key, String(h.value)])).toEqual([
      ['h', 'x'],
      ['h', 'y'],
    ]);
    expect(second).toMatchObject({ offset: 1, key: null, value: null, headers: [] });
  });

  test('eachMessage gets KafkaJS payloads: decimal strings, a headers object, repeated keys as arrays', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, [
      { key: 'k', value: 'v', timestamp: 1_700_000_000_123, headers: [{ key: 'one', value: '1' }, { key: 'two', value: 'a' }, { key: 'two', value: 'b' }, { key: '__proto__', value: 'p' }] },
    ]);
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const payloads: EachMessagePayload[] = [];
    await consumer.run({ eachMessage: async (payload) => void payloads.push(payload) });
    await waitUntil(() => payloads.length === 1);
    const { topic, partition, message, heartbeat, pause } = payloads[0];
    expect([topic, partition]).toEqual(['t', 0]);
    expect(message).toMatchObject({ offset: '0', timestamp: '1700000000123', attributes: 0 });
    expect([String(message.key), String(message.value)]).toEqual(['k', 'v']);
    const headers = message.headers;
    expect(Object.keys(headers)).toEqual(['one', 'two', '__proto__']);
    expect(String(headers.one)).toBe('1');
    expect((headers.two as Buffer[]).map(String)).toEqual(['a', 'b']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    await expect(heartbeat()).resolves.toBeUndefined();
    expect(typeof pause).toBe('function');
  });

  test('eachBatch gets a KafkaJS batch of the whole fetch response and resolves it on return', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 3));
    client.produce('t', 0, records('b', 2));
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0, offset: 1 }]);
    const seen: { batch: EachBatchPayload['batch']; running: boolean; stale: boolean }[] = [];
    await consumer.run({ eachBatch: async ({ batch, isRunning, isStale }) => void seen.push({ batch, running: isRunning(), stale: isStale() }) });
    await waitUntil(() => seen.length === 1);
    const { batch, running, stale } = seen[0];
    expect([running, stale]).toEqual([true, false]);
    expect([batch.topic, batch.partition, batch.highWatermark]).toEqual(['t', 0, '5']);
    expect(batch.messages.map((m) => m.offset)).toEqual(['1', '2', '3', '4']);
    expect([batch.isEmpty(), batch.firstOffset(), batch.lastOffset(), batch.offsetLag(), batch.offsetLagLow()]).toEqual([false, '1', '4', '0', '3']);
    client.produce('t', 0, records('c', 1));
    await waitUntil(() => seen.length === 2);
    expect(seen[1].batch.messages.map((m) => m.offset)).toEqual(['5']);
  });

  test('with eachBatchAutoResolve false, what the handler left unresolved is delivered again', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 4));
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const batches: string[][] = [];
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        batches.push(batch.messages.map((m) => m.offset));
        resolveOffset(batch.messages[Math.min(1, batch.messages.length - 1)].offset);
      },
    });
    await waitUntil(() => batches.length === 2);
    expect(batches).toEqual([
      ['0', '1', '2', '3'],
      ['2', '3'],
    ]);
    client.produce('t', 0, records('b', 1));
    await waitUntil(() => batches.length === 3);
    expect(batches[2]).toEqual(['4']);
  });

  test('batches() yields a large fetch response as whole record batches of about a thousand records; breaking out resumes after the last yielded', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    // 30 record batches of 100 records: one fetch response (it fits maxBytes) of 3,000 records.
    for (let b = 0; b < 30; b++) client.produce('t', 0, records('a', 100, b * 100));
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const sizes: number[] = [];
    let next = 0;
    for await (const batch of consumer.batches()) {
      sizes.push(batch.messages.length);
      for (const message of batch.messages) expect(message.offset).toBe(next++);
      if (sizes.length === 2) break;
    }
    expect(sizes).toEqual([1000, 1000]);
    // Iterating again continues after what was yielded, not after the whole response.
    for await (const batch of consumer.batches()) {
      for (const message of batch.messages) expect(message.offset).toBe(next++);
      if (next === 3000) break;
    }
    expect(client.count('fetch', 't', 0)).toBeGreaterThanOrEqual(2);
  });

  test('batches() yields each fetch response of a partition with numbers', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 3));
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0, offset: 1 }]);
    const [batch] = await take(consumer.batches(), 1);
    expect([batch.topic, batch.partition, batch.highWatermark]).toEqual(['t', 0, 3]);
    expect(batch.messages.map((m) => [m.offset, String(m.value)])).toEqual([
      [1, 'a-1'],
      [2, 'a-2'],
    ]);
  });
});

describe('serdes', () => {
  test('values are deserialised on first access only, and once', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, [
      { key: 'u1', value: JSON.stringify({ n: 1 }) },
      { key: 'u2', value: JSON.stringify({ n: 2 }) },
    ]);
    let parsed = 0;
    const counting: Serde<unknown> = {
      serialize: (value) => Buffer.from(JSON.stringify(value)),
      deserialize: (bytes) => {
        parsed++;
        return bytes === null ? null : JSON.parse(bytes.toString());
      },
    };
    const consumer = track(new Consumer<string, { n: number }>(client, { ...FAST, serde: { key: 'string', value: counting as Serde<{ n: number }> } }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const [first, second] = await take(consumer, 2);
    expect([first.key, second.key]).toEqual(['u1', 'u2']);
    expect(parsed).toBe(0);
    expect(second.value).toEqual({ n: 2 });
    expect(second.value).toBe(second.value);
    expect(parsed).toBe(1);
    expect(JSON.parse(JSON.stringify(second))).toMatchObject({ key: 'u2', value: { n: 2 }, offset: 1 });
  });

  test('eachMessage values go through the serde too', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, [{ key: 'u1', value: JSON.stringify({ n: 1 }) }]);
    const consumer = track(new Consumer<Buffer | null, { n: number }>(client, { ...FAST, serde: { value: 'json' } }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const got: unknown[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push([String(message.key), message.value, message.offset]) });
    await waitUntil(() => got.length === 1);
    expect(got[0]).toEqual(['u1', { n: 1 }, '0']);
  });
});

describe('bad input', () => {
  function configError(options: unknown): TributaryError {
    try {
      new Consumer(fakeClient(), options as never);
    } catch (error) {
      if (TributaryError.is(error, 'INVALID_CONFIG')) return error;
      throw error;
    }
    throw new Error('no error');
  }

  test('unknown and ill-typed options are INVALID_CONFIG naming them', () => {
    expect(configError({ maxByte: 1 }).message).toMatch(/Unknown consumer option 'maxByte'.*did you mean 'maxBytes'/);
    expect(configError({ maxWaitTimeInMs: -1 }).details).toMatchObject({ field: 'maxWaitTimeInMs', value: -1 });
    expect(configError({ autoOffsetReset: 'earlist' }).message).toMatch(/autoOffsetReset.*did you mean 'earliest'/);
    expect(configError({ maxBytesPerPartition: 0 }).details).toMatchObject({ field: 'maxBytesPerPartition' });
    expect(configError({ retry: { retires: 3 } }).message).toMatch(/retry option 'retires'.*did you mean 'retries'/);
    expect(configError({ retry: { factor: 2 } }).details).toMatchObject({ options: 'retry', field: 'factor' });
    expect(configError({ serde: { value: 'yaml' } }).message).toMatch(/serde\.value/);
    expect(configError({ serde: { values: 'json' } }).message).toMatch(/consumer serde option 'values'/);
    expect(configError('fast').message).toMatch(/consumer options must be an object/);
  });

  test('group options need a groupId, and are checked', () => {
    const error = configError({ sessionTimeout: 30_000 });
    expect(error.details).toMatchObject({ field: 'sessionTimeout' });
    expect(error.message).toMatch(/sessionTimeout needs a groupId/);
    expect(configError({ groupId: '' }).details).toMatchObject({ field: 'groupId' });
    expect(configError({ groupId: 'g', heartbeatInterval: 3_000, sessionTimeout: 3_000 }).message).toMatch(/heartbeatInterval \(3000\) must be below sessionTimeout/);
    expect(configError({ groupId: 'g', partitionAssigners: ['sticky'] }).message).toMatch(/unknown partition assignor "sticky"/);
    expect(configError({ groupId: 'g', partitionAssigners: [] }).details).toMatchObject({ field: 'partitionAssigners' });
    expect(configError({ groupId: 'g', partitionAssigners: ['range', 'range'] }).message).toMatch(/'range' twice/);
    expect(configError({ groupId: 'g', partitionAssigners: [{ name: 'x' }] }).message).toMatch(/partitionAssigners\[0\]/);
    expect(configError({ groupId: 'g', onPartitionsAssigned: 'log' }).details).toMatchObject({ field: 'onPartitionsAssigned' });
  });

  test('run() needs exactly one handler and refuses commit options', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    const consumer = track(new Consumer(client, FAST));
    consumer.assign([{ topic: 't', partition: 0 }]);
    const handler = async (): Promise<void> => undefined;
    await expect(consumer.run({})).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { value: 'neither given' } });
    await expect(consumer.run({ eachMessage: handler, eachBatch: handler })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(consumer.run({ eachMessage: handler, autoCommit: true as never })).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { field: 'autoCommit' } });
    await expect(consumer.run({ eachMessage: handler, partitionsConsumedConcurrently: 0 })).rejects.toMatchObject({ details: { field: 'partitionsConsumedConcurrently' } });
    await consumer.run({ eachMessage: handler, autoCommit: false });
    await expect(consumer.run({ eachMessage: handler })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(() => consumer[Symbol.asyncIterator]()).toThrow(/already delivering through run\(\)/);
  });

  test('subscription, assignment and seek arguments are checked', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    const consumer = track(new Consumer(client, FAST));
    await expect(consumer.subscribe({ topics: ['missing'] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(consumer.subscribe({ topics: [/t.*/ as never] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(consumer.subscribe({ topics: [] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(() => consumer[Symbol.asyncIterator]()).toThrow(/subscribe\(\) to topics or assign\(\) partitions first/);
    expect(() => consumer.assign([{ topic: 't', partition: 2 }])).toThrow(expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }));
    expect(() => consumer.assign([{ topic: 't', partition: 0, offset: 'abc' }])).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => consumer.assign([{ topic: 't', partition: 0, offset: -3 }])).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => consumer.assign([{ topic: 't', partition: 0 }, { topic: 't', partition: 0 }])).toThrow(/twice/);
    consumer.assign([{ topic: 't', partition: 0 }]);
    await expect(consumer.subscribe({ topic: 't' })).rejects.toThrow(/either subscribes to topics or assigns partitions/);
    expect(() => consumer.seek({ topic: 't', partition: 1, offset: 0 })).toThrow(/not assigned/);
    expect(() => consumer.seek({ topic: 't', partition: 0, offset: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => consumer.pause([{ topic: 't', partitions: ['0' as never] }])).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => consumer.on('consumer.fetch' as never, () => undefined)).toThrow(/not 'consumer.fetch'/);
    await consumer.disconnect();
    expect(() => consumer.assign([])).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await expect(consumer.connect()).rejects.toMatchObject({ code: 'CLOSED' });
    await sleep(0);
  });
});
