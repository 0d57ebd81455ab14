/**
 * The consumer's fetch loop against the Log-backed fake: long-polling at the log end, seek,
 * pause and resume while delivering, bounded memory under a slow handler, per-partition order
 * with concurrent partitions, retries, crashes, and a disconnect that leaves nothing running.
 */
import { describe, expect, test } from 'vitest';
import { Consumer, type ConsumerCrashEvent } from '../../src/client/consumer.js';
import { TributaryError } from '../../src/errors.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { fakes, records, sleep, take, waitUntil } from './consumer-fakes/helpers.js';

const { client: fakeClient, track } = fakes();

/** Counts the timers created from now on that have neither fired nor been cleared. */
function trackTimers(): { pending(): number; restore(): void } {
  const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout, setInterval: realSetInterval, clearInterval: realClearInterval } = globalThis;
  const live = new Set<unknown>();
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSetTimeout(() => {
      live.delete(timer);
      callback(...args);
    }, ms);
    live.add(timer);
    return timer;
  }) as typeof setTimeout;
  globalThis.setInterval = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realSetInterval(callback, ms, ...args);
    live.add(timer);
    return timer;
  }) as typeof setInterval;
  globalThis.clearTimeout = ((timer: NodeJS.Timeout | undefined) => {
    live.delete(timer);
    realClearTimeout(timer);
  }) as typeof clearTimeout;
  globalThis.clearInterval = ((timer: NodeJS.Timeout | undefined) => {
    live.delete(timer);
    realClearInterval(timer);
  }) as typeof clearInterval;
  return {
    pending: () => live.size,
    restore: () => Object.assign(globalThis, { setTimeout: realSetTimeout, clearTimeout: realClearTimeout, setInterval: realSetInterval, clearInterval: realClearInterval }),
  };
}

function unavailable(): TributaryError {
  return new TributaryError('PARTITION_UNAVAILABLE', 'the worker owning the partition died');
}


/**
 * Runs `consumer` with a handler that takes a turn of the event loop per message (a slow
 * application), recording the most bytes the consumer held (buffered + reserved) at any delivery.
 */
async function runSlowly(consumer: Consumer, onDelivered: (delivered: number) => unknown = () => undefined): Promise<{ delivered: number; peak: number }> {
  const seen = { delivered: 0, peak: 0 };
  await consumer.run({
    eachMessage: async () => {
      const { bufferedBytes, reservedBytes } = consumer.metrics();
      seen.peak = Math.max(seen.peak, bufferedBytes + reservedBytes);
      onDelivered(++seen.delivered);
      await new Promise((resolve) => setImmediate(resolve));
    },
  });
  return seen;
}

describe('long-poll', () => {
  test('a consumer at the log end waits in one fetch and gets a later record at once', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 2000 }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) });
    await waitUntil(() => client.waiting === 1);
    const fetches = client.count('fetch');
    expect(fetches).toBe(1);
    await sleep(150);
    expect(client.count('fetch')).toBe(fetches);

    const producedAt = Date.now();
    client.produce('t', 0, records('late', 1));
    await waitUntil(() => got.length === 1);
    expect(Date.now() - producedAt).toBeLessThan(500);
    expect(got).toEqual(['late-0']);
    await waitUntil(() => client.waiting === 1);
    expect(client.count('fetch')).toBe(fetches + 1);
  });

  test('an expired long-poll is followed by the next one, not by a spin', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 40 }));
    await consumer.subscribe({ topic: 't' });
    const started = Date.now();
    await consumer.run({ eachMessage: async () => undefined });
    await waitUntil(() => client.count('fetch') >= 6);
    // Two partitions: two fetches go out at once, each later one only when a 40 ms poll expires,
    // so six take two rounds of expiry; a consumer spinning at the log end would take a millisecond.
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });
});

describe('seek', () => {
  test('seek inside eachMessage replays from the new offset; the rest of the old data is dropped', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 10));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 50 }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const seen: number[] = [];
    let sought = false;
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(Number(message.offset));
        if (message.offset === '5' && !sought) {
          sought = true;
          consumer.seek({ topic: 't', partition: 0, offset: '2' });
        }
      },
    });
    await waitUntil(() => seen.length === 14);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('seek between iterations moves forward and back; -1 jumps to the end', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 10));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 50 }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    expect((await take(consumer, 2)).map((r) => r.offset)).toEqual([0, 1]);
    consumer.seek({ topic: 't', partition: 0, offset: 8 });
    expect((await take(consumer, 2)).map((r) => r.offset)).toEqual([8, 9]);
    consumer.seek({ topic: 't', partition: 0, offset: 3 });
    expect((await take(consumer, 1)).map((r) => r.offset)).toEqual([3]);
    consumer.seek({ topic: 't', partition: 0, offset: -1 });
    const next = take(consumer, 1);
    // 'latest' is looked up when fetching resumes (as Kafka's seekToEnd): produce only after that.
    await waitUntil(() => client.requests.at(-1)!.type === 'fetch' && client.requests.at(-2)!.type === 'listOffsets');
    client.produce('t', 0, records('b', 1));
    expect((await next).map((r) => [r.offset, String(r.value)])).toEqual([[10, 'b-0']]);
  });

  test('seek in the middle of an iterated batch takes effect at the next record', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 10));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 50 }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const offsets: number[] = [];
    for await (const record of consumer) {
      offsets.push(record.offset);
      if (record.offset === 3 && offsets.length === 4) consumer.seek({ topic: 't', partition: 0, offset: 7 });
      if (record.offset === 9) break;
    }
    expect(offsets).toEqual([0, 1, 2, 3, 7, 8, 9]);
  });
});

describe('pause and resume', () => {
  test('a paused partition is neither fetched nor delivered until resumed', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    client.produce('t', 0, records('p0', 3));
    client.produce('t', 1, records('p1', 3));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 30 }));
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    consumer.pause([{ topic: 't', partitions: [0] }]);
    expect(consumer.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push(`${partition}:${message.offset}`) });
    await waitUntil(() => seen.length === 3);
    await sleep(80);
    expect(seen).toEqual(['1:0', '1:1', '1:2']);
    expect(client.count('fetch', 't', 0)).toBe(0);
    consumer.resume([{ topic: 't', partitions: [0] }]);
    expect(consumer.paused()).toEqual([]);
    await waitUntil(() => seen.length === 6);
    expect(seen.slice(3)).toEqual(['0:0', '0:1', '0:2']);
  });

  test("eachMessage's pause() stops after the current message; the function it returns resumes", async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 6));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 30 }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const seen: number[] = [];
    let resume: (() => void) | undefined;
    await consumer.run({
      eachMessage: async ({ message, pause }) => {
        seen.push(Number(message.offset));
        if (message.offset === '2') resume = pause();
      },
    });
    await waitUntil(() => resume !== undefined);
    await sleep(60);
    expect(seen).toEqual([0, 1, 2]);
    expect(consumer.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    resume!();
    await waitUntil(() => seen.length === 6);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a topic-wide pause covers every partition; resuming one leaves the others paused', async () => {
    const client = fakeClient();
    client.createTopic('t', 3);
    for (let p = 0; p < 3; p++) client.produce('t', p, records(`p${p}`, 1));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 30 }));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    consumer.pause([{ topic: 't' }]);
    expect(consumer.paused()).toEqual([{ topic: 't', partitions: [0, 1, 2] }]);
    consumer.resume([{ topic: 't', partitions: [1] }]);
    expect(consumer.paused()).toEqual([{ topic: 't', partitions: [0, 2] }]);
    const [record] = await take(consumer, 1);
    expect(record.partition).toBe(1);
    consumer.resume([{ topic: 't' }]);
    expect(consumer.paused()).toEqual([]);
  });
});

describe('flow control', () => {
  test('a slow handler bounds what is buffered, however much is produced', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    const batch = records('x'.repeat(80), 20);
    const batchBytes = encodeRecordBatch(batch).length;
    const maxBytesPerPartition = 8 * 1024;
    let produced = 0;
    const produce = (): void => {
      for (let p = 0; p < 2; p++) client.produce('t', p, batch);
      produced += 2 * batchBytes;
    };
    for (let i = 0; i < 40; i++) produce();
    const consumer = track(new Consumer(client, { maxBytesPerPartition, maxWaitTimeInMs: 20 }));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const slow = await runSlowly(consumer, (delivered) => delivered % 50 === 0 && produce());
    await waitUntil(() => slow.delivered >= 3000, 8000, '3000 deliveries');
    expect(produced).toBeGreaterThan(20 * 2 * maxBytesPerPartition);
    expect(slow.peak).toBeGreaterThan(maxBytesPerPartition);
    expect(slow.peak).toBeLessThanOrEqual(2 * maxBytesPerPartition + batchBytes);
  });

  test('the consumer-wide maxBytes bounds all partitions together', async () => {
    const client = fakeClient();
    client.createTopic('t', 4);
    const batch = records('x'.repeat(80), 20);
    const batchBytes = encodeRecordBatch(batch).length;
    for (let i = 0; i < 20; i++) for (let p = 0; p < 4; p++) client.produce('t', p, batch);
    const maxBytes = 12 * 1024;
    const consumer = track(new Consumer(client, { maxBytes, maxBytesPerPartition: 8 * 1024, maxWaitTimeInMs: 20 }));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const slow = await runSlowly(consumer);
    await waitUntil(() => slow.delivered === 4 * 20 * 20, 8000, 'every record');
    expect(slow.peak).toBeLessThanOrEqual(maxBytes + batchBytes);
  });

  test('partitions are consumed concurrently, each in order', async () => {
    const client = fakeClient();
    client.createTopic('t', 3);
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 20 }));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const seen = new Map<number, number[]>([0, 1, 2].map((p) => [p, []]));
    let active = 0;
    let maxActive = 0;
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ partition, message }) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(Number(message.offset) % 3);
        seen.get(partition)!.push(Number(message.offset));
        active--;
      },
    });
    for (let i = 0; i < 30; i++) {
      for (let p = 0; p < 3; p++) client.produce('t', p, records(`p${p}`, 2, 2 * i));
      if (i % 5 === 0) await sleep(1);
    }
    await waitUntil(() => [...seen.values()].every((offsets) => offsets.length === 60), 8000, 'every record');
    for (const offsets of seen.values()) expect(offsets).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(maxActive).toBeGreaterThan(1);
  });
});

/** One partition holding `count` records, a consumer assigned to it with `retry`, and the crashes it reports. */
function failureSetup(count: number, retry: Record<string, number>): { consumer: Consumer; crashes: ConsumerCrashEvent[] } {
  const client = fakeClient();
  client.createTopic('t', 1);
  client.produce('t', 0, records('a', count));
  const consumer = track(new Consumer(client, { maxWaitTimeInMs: 30, retry }));
  consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
  const crashes: ConsumerCrashEvent[] = [];
  consumer.on('consumer.crash', (event) => crashes.push(event));
  return { consumer, crashes };
}

describe('failures', () => {
  test('a failing handler is retried from the failed message, then the consumer goes on', async () => {
    const { consumer, crashes } = failureSetup(3, { initialRetryTime: 5, retries: 2, factor: 0 });
    const attempts: string[] = [];
    let failures = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        attempts.push(message.offset);
        if (message.offset === '1' && failures++ < 2) throw new Error('database is down');
      },
    });
    await waitUntil(() => attempts.length === 5);
    expect(attempts).toEqual(['0', '1', '1', '1', '2']);
    expect(crashes).toEqual([]);
  });

  test('when handler retries run out the consumer crashes, keeping the position for the next run', async () => {
    const { consumer, crashes } = failureSetup(3, { initialRetryTime: 5, retries: 1, factor: 0 });
    const attempts: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        attempts.push(message.offset);
        if (message.offset === '1') throw new Error('poison');
      },
    });
    await waitUntil(() => crashes.length === 1);
    expect(attempts).toEqual(['0', '1', '1']);
    expect(crashes[0]).toMatchObject({ type: 'consumer.crash', payload: { restart: false } });
    expect((crashes[0].payload.error as Error).message).toBe('poison');
    const resumed = await take(consumer, 1);
    expect(resumed.map((r) => r.offset)).toEqual([1]);
  });

  test('a TypeError in a handler crashes at once, without retries', async () => {
    const { consumer, crashes } = failureSetup(1, { initialRetryTime: 5, factor: 0 });
    let calls = 0;
    await consumer.run({
      eachBatch: async () => {
        calls++;
        (undefined as unknown as { x: number }).x;
      },
    });
    await waitUntil(() => crashes.length === 1);
    expect(calls).toBe(1);
    expect(crashes[0].payload.error).toBeInstanceOf(TypeError);
  });

  test('retriable fetch errors back off and recover; the records arrive once', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 3));
    client.failNext('fetch', 't', 0, unavailable(), 2);
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 30, retry: { initialRetryTime: 5, retries: 3, factor: 0 } }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    expect((await take(consumer, 3)).map((r) => String(r.value))).toEqual(['a-0', 'a-1', 'a-2']);
    expect(client.count('fetch')).toBeGreaterThanOrEqual(3);
  });

  test('fetch errors past the retries, or not retriable, end the iteration with the error', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 3));
    client.failNext('fetch', 't', 0, unavailable(), 3);
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 30, retry: { initialRetryTime: 1, retries: 2, factor: 0 } }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    await expect(take(consumer, 1)).rejects.toMatchObject({ code: 'PARTITION_UNAVAILABLE' });
    expect(client.count('fetch')).toBe(3);

    client.failNext('fetch', 't', 0, new TributaryError('CORRUPT_LOG', 'segment 0 is corrupt'));
    const crashes: ConsumerCrashEvent[] = [];
    consumer.on('consumer.crash', (event) => crashes.push(event));
    await consumer.run({ eachMessage: async () => undefined });
    await waitUntil(() => crashes.length === 1);
    expect(crashes[0].payload.error).toMatchObject({ code: 'CORRUPT_LOG' });
  });

  test('a crash nobody listens for is reported as a process warning', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 1));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 30, retry: { retries: 0 } }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const warnings: unknown[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      await consumer.run({
        eachMessage: async () => {
          throw new Error('unheard');
        },
      });
      await waitUntil(() => warnings.length === 1);
      expect((warnings[0] as Error).message).toBe('unheard');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('stopping', () => {
  test('breaking out of the iterator stops fetching; iterating again continues after the last record seen', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 10));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 20 }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    expect((await take(consumer, 3)).map((r) => r.offset)).toEqual([0, 1, 2]);
    const requests = client.requests.length;
    await sleep(60);
    expect(client.requests.length).toBe(requests);
    expect(consumer.metrics()).toMatchObject({ bufferedBytes: 0, reservedBytes: 0, inFlightRequests: 0 });
    expect((await take(consumer, 2)).map((r) => r.offset)).toEqual([3, 4]);
  });

  test('stop() waits for the running handler and a later run() continues from there', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 5));
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 20 }));
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.offset);
        if (message.offset === '1') await blocked;
      },
    });
    await waitUntil(() => seen.length === 2);
    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    await sleep(20);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(seen).toEqual(['0', '1']);
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.offset) });
    await waitUntil(() => seen.length === 5);
    expect(seen).toEqual(['0', '1', '2', '3', '4']);
  });

  test('disconnect stops everything and leaves no timer behind', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    client.produce('t', 0, records('a', 2));
    const timers = trackTimers();
    try {
      // Partition 1 fails its first fetch, so a 10 s backoff timer is pending when disconnect comes,
      // next to the subscription's metadata timer and the fake's long-poll timer for partition 0.
      client.failNext('fetch', 't', 1, unavailable());
      const consumer = new Consumer(client, { maxWaitTimeInMs: 10_000, metadataMaxAge: 20, retry: { initialRetryTime: 10_000, factor: 0 } });
      await consumer.subscribe({ topic: 't', fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.offset) });
      await waitUntil(() => seen.length === 2 && client.waiting === 1 && client.count('fetch', 't', 1) === 1);
      await sleep(10);
      expect(timers.pending()).toBeGreaterThanOrEqual(3);

      await consumer.disconnect();
      // Left is the partition's side: the fake's long-poll timer, which no fetch request can cancel.
      expect(timers.pending()).toBe(1);
      const requests = client.requests.length;
      client.addPartitions('t', 3);
      client.produce('t', 0, records('b', 1));
      await sleep(60);
      expect(client.requests.length).toBe(requests);
      expect(seen).toEqual(['0', '1']);
      expect(consumer.metrics()).toMatchObject({ bufferedBytes: 0, reservedBytes: 0, inFlightRequests: 0 });
      client.close();
      expect(timers.pending()).toBe(0);
      await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toMatchObject({ code: 'CLOSED' });
    } finally {
      timers.restore();
    }
  });
});

describe('budgets under load', () => {
  test('many partitions sharing a small consumer budget, read in chunks, all arrive (no partition waits forever, nothing spins)', async () => {
    const client = fakeClient();
    const partitions = 32;
    client.createTopic('t', partitions);
    for (let p = 0; p < partitions; p++) for (let b = 0; b < 30; b++) client.produce('t', p, records(`p${p}`, 100, b * 100));
    // Per-partition budget 16 KiB, consumer-wide 100 KiB: partitions queue for budget while others hold theirs.
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 20, maxBytesPerPartition: 16 * 1024, maxBytes: 100 * 1024 }));
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: 't', partition, offset: 0 })));
    const next = new Array<number>(partitions).fill(0);
    let total = 0;
    for await (const batch of consumer.batches()) {
      for (const message of batch.messages) expect(message.offset).toBe(next[batch.partition]++);
      total += batch.messages.length;
      if (total === partitions * 3000) break;
    }
    expect(next).toEqual(new Array(partitions).fill(3000));
  }, 20_000);
});

describe('read-ahead', () => {
  const PER_PARTITION = 64 * 1024;

  /** Reads 8 partitions of ~200 KB each in batches, a turn of the event loop apart; answers the most bytes the consumer held at once. */
  async function peakHeld(local: boolean): Promise<number> {
    const client = fakeClient();
    const partitions = 8;
    client.createTopic('t', partitions);
    for (let p = 0; p < partitions; p++) for (let b = 0; b < 100; b++) client.produce('t', p, records(`p${p}`, 100, b * 100));
    if (local) Object.assign(client, { isLocal: () => true });
    const consumer = track(new Consumer(client, { maxWaitTimeInMs: 20, maxBytesPerPartition: PER_PARTITION }));
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: 't', partition, offset: 0 })));
    let peak = 0;
    let total = 0;
    for await (const batch of consumer.batches()) {
      const { bufferedBytes, reservedBytes } = consumer.metrics();
      peak = Math.max(peak, bufferedBytes + reservedBytes);
      total += batch.messages.length;
      if (total === partitions * 10_000) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(total).toBe(partitions * 10_000);
    return peak;
  }

  test('a consumer whose partitions all live on its own thread reads ahead one partition budget, not maxBytes', async () => {
    // Remote partitions: up to min(maxBytes, partitions x maxBytesPerPartition) = 512 KiB ahead.
    expect(await peakHeld(false)).toBeGreaterThan(2 * PER_PARTITION);
    // Local ones: min(maxBytes, maxBytesPerPartition), plus at most the part of one record batch (~2 KB) a fetch may overshoot by.
    expect(await peakHeld(true)).toBeLessThanOrEqual(PER_PARTITION + 4096);
  }, 20_000);
});
