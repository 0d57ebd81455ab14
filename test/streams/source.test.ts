/**
 * `source()` on a real runtime in a temp dir, bound on the main thread: positions, bounded reads,
 * lazy serdes, unsubscribing, and which runtime it binds to.
 */
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Serde } from '../../src/client/serde.js';
import { TributaryError } from '../../src/errors.js';
import type { Tributary } from '../../src/index.js';
import { count, source, tumbling, window, type StreamRecord } from '../../src/streams/index.js';
import { integrationFixture, until } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();

async function runtimeWith(topic: string, partitions: number, records: number): Promise<Tributary> {
  const rt = await openRuntime({ dir: newDir(), threads: 2 });
  await rt.admin.createTopic(topic, { partitions });
  await produce(rt, topic, 0, records);
  return rt;
}

/** Records `from..from+count-1`, keyed `k<i % 7>`, value `{"i":i}`, timestamp 1000*i. */
async function produce(rt: Tributary, topic: string, from: number, n: number): Promise<void> {
  const producer = rt.producer();
  await producer.send({
    topic,
    messages: Array.from({ length: n }, (_, j) => ({ key: `k${(from + j) % 7}`, value: JSON.stringify({ i: from + j }), timestamp: 1000 * (from + j) })),
  });
  await producer.disconnect();
}

const indexOf = (record: StreamRecord): number => JSON.parse(record.value!.toString()).i;

describe('source()', () => {
  it('reads every partition up to the end offsets seen when subscribed, then completes; records keep their key, timestamp, partition and offset', async () => {
    const rt = await runtimeWith('clicks', 3, 300);
    const records = await lastValueFrom(source('clicks', { to: 'end' }).pipe(toArray()));
    expect(records.map(indexOf).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    for (const record of records) {
      const i = indexOf(record);
      expect(record.key!.toString()).toBe(`k${i % 7}`);
      expect(record.timestamp).toBe(1000 * i);
      expect(record.topic).toBe('clicks');
    }
    for (let partition = 0; partition < 3; partition++) {
      const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i));
    }
    // Records produced after the subscription are past its end: a second bounded read sees them.
    await produce(rt, 'clicks', 300, 10);
    expect(await lastValueFrom(source('clicks', { to: 'end' }).pipe(toArray()))).toHaveLength(310);
  });

  it('completes at once on empty partitions', async () => {
    await runtimeWith('empty', 2, 0);
    expect(await lastValueFrom(source('empty', { to: 'end' }).pipe(toArray()))).toEqual([]);
  });

  it("starts from 'latest', an offset or a timestamp", async () => {
    const rt = await runtimeWith('positions', 1, 20);
    expect(await lastValueFrom(source('positions', { from: 'latest', to: 'end' }).pipe(toArray()))).toEqual([]);
    const fromOffset = await lastValueFrom(source('positions', { from: { offset: 15 }, to: 'end' }).pipe(toArray()));
    expect(fromOffset.map(indexOf)).toEqual([15, 16, 17, 18, 19]);
    const fromTime = await lastValueFrom(source('positions', { from: { timestamp: 17_500 }, to: 'end' }).pipe(toArray()));
    expect(fromTime.map(indexOf)).toEqual([18, 19]);
    // A timestamp after every record starts at the end.
    expect(await lastValueFrom(source('positions', { from: { timestamp: 10_000_000 }, to: 'end' }).pipe(toArray()))).toEqual([]);
    // Unbounded from latest: only what is produced after the subscription.
    const later = firstValueFrom(source('positions', { from: 'latest' }).pipe(take(3), toArray()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await produce(rt, 'positions', 20, 3);
    expect((await later).map(indexOf)).toEqual([20, 21, 22]);
  });

  it('deserializes values lazily: a pipeline keyed and timed by the record never runs the serde', async () => {
    await runtimeWith('lazy', 2, 200);
    let parsed = 0;
    const counting: Serde<{ i: number }> = {
      serialize: (value) => Buffer.from(JSON.stringify(value)),
      deserialize: (bytes) => {
        parsed++;
        return JSON.parse(bytes!.toString());
      },
    };
    const results = await lastValueFrom(source('lazy', { serde: counting, keySerde: 'string', to: 'end' }).pipe(window(tumbling('50s')), count(), toArray()));
    expect(parsed).toBe(0);
    expect(results.reduce((sum, r) => sum + r.value, 0)).toBe(200);
    expect(new Set(results.map((r) => r.key))).toEqual(new Set(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']));
    const records = await lastValueFrom(source('lazy', { serde: counting, to: 'end' }).pipe(toArray()));
    expect(records.map((r) => r.value.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(parsed).toBe(200);
  });

  it('merges its partitions in timestamp order, so a window allowing no disorder loses nothing', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('merged', { partitions: 4 });
    const producer = rt.producer();
    // 40,000 records 10 ms apart, dealt round-robin: each partition in order, the partitions interleaved in time.
    for (let from = 0; from < 40_000; from += 10_000) {
      await producer.send({ topic: 'merged', messages: Array.from({ length: 10_000 }, (_, j) => ({ value: 'x', timestamp: (from + j) * 10, partition: (from + j) % 4 })) });
    }
    await producer.disconnect();
    const times: number[] = [];
    const windowed = window(tumbling('1s'));
    const late: unknown[] = [];
    const lateSubscription = windowed.late$.subscribe((record) => late.push(record));
    const counts = await lastValueFrom(
      source('merged', { to: 'end' }).pipe(
        tap((record) => times.push(record.timestamp)),
        windowed,
        count(),
        toArray(),
      ),
    );
    lateSubscription.unsubscribe();
    expect(times).toHaveLength(40_000);
    expect(times.every((time, i) => i === 0 || time >= times[i - 1])).toBe(true);
    expect(late).toEqual([]);
    expect(counts.reduce((sum, result) => sum + result.value, 0)).toBe(40_000);
    // Unbounded, the same: each partition is waited for until its first batch says how far behind it is.
    const unbounded = await lastValueFrom(source('merged').pipe(take(40_000), toArray()));
    expect(unbounded.every((record, i) => i === 0 || record.timestamp >= unbounded[i - 1].timestamp)).toBe(true);
  });

  it('json and string serdes by name', async () => {
    await runtimeWith('named', 1, 3);
    const json = await lastValueFrom(source<{ i: number }, string>('named', { serde: 'json', keySerde: 'string', to: 'end' }).pipe(toArray()));
    expect(json.map((r) => [r.key, r.value.i])).toEqual([
      ['k0', 0],
      ['k1', 1],
      ['k2', 2],
    ]);
    const strings = await lastValueFrom(source<string>('named', { serde: 'string', to: 'end' }).pipe(toArray()));
    expect(strings.map((r) => r.value)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
  });

  it('unsubscribing stops its consumer: an unbounded source can be taken from and the runtime closes', async () => {
    const rt = await runtimeWith('endless', 2, 100);
    const first = await lastValueFrom(source('endless').pipe(take(10), toArray()));
    expect(first).toHaveLength(10);
    // Unsubscribing disconnects the consumer.
    const clients = (rt as unknown as { clients: Set<object> }).clients;
    const consumers = [...clients].filter((client) => 'fetcher' in client) as unknown as { closed: boolean }[];
    expect(consumers).toHaveLength(1);
    await until(() => consumers[0].closed);
  });

  it('binds to the runtime opened last and not closed, and rt.source() names one', async () => {
    const a = await runtimeWith('only-a', 1, 2);
    const b = await runtimeWith('only-b', 1, 3);
    expect(await lastValueFrom(source('only-b', { to: 'end' }).pipe(toArray()))).toHaveLength(3);
    await expect(lastValueFrom(source('only-a', { to: 'end' }).pipe(toArray()))).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(await lastValueFrom(a.source('only-a', { to: 'end' }).pipe(toArray()))).toHaveLength(2);
    await b.close();
    expect(await lastValueFrom(source('only-a', { to: 'end' }).pipe(toArray()))).toHaveLength(2);
    await a.close();
    const error = await lastValueFrom(source('only-a', { to: 'end' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe('INVALID_REQUEST');
    expect((error as TributaryError).message).toMatch(/open\(\) one/);
  });

  it('rejects bad options where the pipeline is built', () => {
    expect(() => source('t', { form: 'earliest' } as never)).toThrow(/Unknown source option 'form' \(did you mean 'from'\?\)/);
    expect(() => source('t', { from: { offset: -1 } })).toThrow(TributaryError);
    expect(() => source('t', { from: 'beginning' as never })).toThrow(/Invalid source option from/);
    expect(() => source('t', { to: 'forever' as never })).toThrow(/Invalid source option to/);
    expect(() => source('' as string)).toThrow(/needs a topic name/);
  });
});
