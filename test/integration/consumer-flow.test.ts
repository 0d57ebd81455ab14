/**
 * How a consumer waits and how much it holds, with partitions on real worker threads.
 *
 * - Long-poll: a consumer at the log end parks one fetch per partition on the partition's thread;
 *   a record produced later wakes it at once, and while nothing arrives no further fetch is sent
 *   (no busy loop).
 * - Bounded memory: a consumer whose handler is slow, reading a topic a fast producer fills with
 *   20 MiB, never holds more than the fetcher's documented bound:
 *   `bufferedBytes + reservedBytes <= min(maxBytes, partitions × maxBytesPerPartition)`
 *   (src/client/fetcher.ts, "Memory bound").
 */
import { describe, expect, it } from 'vitest';
import { ClickStream } from '../../src/workload/click-events.js';
import { integrationFixture, sleep, until } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

describe('long-poll through real threads', () => {
  it('wakes a consumer parked at the log end when a record arrives, and sends no fetches while idle', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    const partitions = 4;
    await rt.admin.createTopic('quiet', { partitions });
    const producer = rt.producer();
    // Some history, so that the consumer starts at a log end that is not offset 0.
    await producer.send({ topic: 'quiet', messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `old ${i}` })) });
    const start = (await rt.admin.fetchTopicOffsets('quiet')).map((o) => Number(o.high));

    const maxWaitTimeInMs = 5_000;
    const consumer = rt.consumer({ maxWaitTimeInMs }); // autoOffsetReset 'latest': starts at the log end
    await consumer.subscribe({ topics: ['quiet'] });
    const records = consumer[Symbol.asyncIterator]();
    const first = records.next();
    // Each partition found its position and parked one fetch at its log end.
    await until(() => consumer.metrics().fetchRequests === partitions && consumer.metrics().inFlightRequests === partitions);

    await sleep(200);
    // Idle: still one parked fetch per partition, and not a single fetch more.
    expect(consumer.metrics()).toMatchObject({ fetchRequests: partitions, inFlightRequests: partitions, bufferedBytes: 0 });

    const producedAt = performance.now();
    await producer.send({ topic: 'quiet', messages: [{ key: 'new', value: 'fresh', partition: 2 }] });
    const { value: record, done } = await first;
    const latencyMs = performance.now() - producedAt;
    expect(done).toBe(false);
    expect(record).toMatchObject({ topic: 'quiet', partition: 2, offset: start[2] });
    expect(record!.value!.toString()).toBe('fresh');
    // Delivered by the woken long-poll, far sooner than its 5 s wait (in practice within milliseconds).
    expect(latencyMs).toBeLessThan(maxWaitTimeInMs / 2);
    // The parked fetches, plus at most the one partition 2 sent after its answer: no polling.
    expect(consumer.metrics().fetchRequests).toBeLessThanOrEqual(partitions + 1);
    await sleep(200);
    expect(consumer.metrics().fetchRequests).toBeLessThanOrEqual(partitions + 1);
    console.log(`long-poll: record produced 200 ms into the wait was delivered ${latencyMs.toFixed(1)} ms after its send began; ${consumer.metrics().fetchRequests} fetch requests in all`);
    await records.return!();
  });
});

describe('slow consumer, bounded memory, real threads', () => {
  it('never holds more than min(maxBytes, partitions × maxBytesPerPartition) while a fast producer writes 20 MiB', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    const partitions = 4;
    await rt.admin.createTopic('bulk', { partitions });

    const maxBytes = 768 * 1024;
    const maxBytesPerPartition = 256 * 1024;
    const bound = Math.min(maxBytes, partitions * maxBytesPerPartition);
    // 16 KiB records, one per batch (batchBytes 20000): every batch is smaller than the smallest
    // fetch the fetcher sends (a quarter of min(maxBytesPerPartition, maxBytes / (2 × partitions))
    // = 24 KiB), so the bound's one documented excess (a batch bigger than the fetch that asked for
    // it comes back whole) cannot arise and the bound holds exactly.
    const recordBytes = 16 * 1024;
    const total = (20 * 1024 * 1024) / recordBytes; // 1280 records
    const stream = new ClickStream({ seed: 3 });
    const valueOf = (id: number): string => {
      let value = `${id} `;
      while (value.length < recordBytes) value += stream.nextRecord().value.toString();
      return value.slice(0, recordBytes);
    };

    const consumer = rt.consumer({ maxBytes, maxBytesPerPartition, autoOffsetReset: 'earliest', maxWaitTimeInMs: 100 });
    await consumer.subscribe({ topics: ['bulk'], fromBeginning: true });
    let peak = 0;
    let samples = 0;
    const sample = (): void => {
      const { bufferedBytes, reservedBytes } = consumer.metrics();
      peak = Math.max(peak, bufferedBytes + reservedBytes);
      samples++;
    };
    const sampler = setInterval(sample, 1);
    const received = new Map<number, number>(); // id -> times delivered
    const lastOffset = new Array<number>(partitions).fill(-1);
    let outOfOrder = 0;
    let allReceived!: () => void;
    const done = new Promise<void>((resolve) => (allReceived = resolve));
    try {
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          sample();
          const offset = Number(message.offset);
          if (offset !== lastOffset[partition] + 1) outOfOrder++;
          lastOffset[partition] = offset;
          const value = message.value!;
          const id = Number(value.subarray(0, value.indexOf(0x20)).toString());
          received.set(id, (received.get(id) ?? 0) + 1);
          if (received.size === total) allReceived();
          // A slow handler: a few milliseconds per message.
          await sleep(2);
          sample();
        },
      });

      const producer = rt.producer({ batchBytes: 20_000, lingerMs: 0 });
      let id = 0;
      for (let send = 0; send < total / 16; send++) {
        await producer.send({ topic: 'bulk', messages: Array.from({ length: 16 }, () => ({ key: `k${id}`, value: valueOf(id++) })) });
        sample();
      }
      const offsets = await rt.admin.fetchTopicOffsets('bulk');
      expect(offsets.reduce((sum, o) => sum + Number(o.high), 0)).toBe(total);
      // The producer finished long before the consumer: the consumer had a backlog to hold back from.
      const backlogWhenProduced = total - received.size;
      await done;
      await consumer.stop();
      console.log(
        `bounded memory: peak bufferedBytes + reservedBytes ${peak} of bound ${bound} over ${samples} samples; ` +
          `backlog when the producer finished: ${backlogWhenProduced} records (${((backlogWhenProduced * recordBytes) / 2 ** 20).toFixed(1)} MiB)`,
      );
      expect(backlogWhenProduced * recordBytes).toBeGreaterThan(4 * bound);
    } finally {
      clearInterval(sampler);
    }

    expect(peak).toBeLessThanOrEqual(bound);
    // The consumer did read ahead up to a good part of the bound, so the bound is what held it back.
    expect(peak).toBeGreaterThan(bound / 2);
    expect(outOfOrder).toBe(0);
    expect(received.size).toBe(total);
    expect([...received.values()].every((times) => times === 1)).toBe(true);
  });
});
