/**
 * A producer batch writes each record into its buffer as it joins, growing the buffer from the
 * pool, and frames the written records when sent. Checked against `encodeRecordBatch` of the same
 * records, so growth, reuse of pooled buffers and restamping can never change a byte.
 */
import { describe, expect, it } from 'vitest';
import { BatchBufferPool, ProducerBatch, SendJob, recordBody } from '../../src/client/producer-batch.js';
import { prepareTopic, type ProducerMessage } from '../../src/client/producer-message.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import { BATCH_HEADER_SIZE } from '../../src/record/batch-header.js';
import type { CompressionName } from '../../src/record/index.js';
import { varintSize } from '../../src/record/varint.js';
import type { TopicMetadata } from '../../src/runtime/partition-client.js';

const TOPIC: TopicMetadata = { name: 't', partitions: 1, compression: 'producer', timestampType: 'create' };
const NO_SERDES = { keySerde: undefined, valueSerde: undefined };

/** Adds every message to one batch, as the accumulator does for records that fit. */
function fill(pool: BatchBufferPool, messages: ProducerMessage[], compression: CompressionName = 'none'): ProducerBatch {
  const prepared = prepareTopic(TOPIC, messages, compression, NO_SERDES, 1_700_000_000_000);
  const job = new SendJob(1, [prepared], -1, 30_000, prepared.maxBytes);
  const first = recordBody(prepared.payloadSizes[0], 0, 0);
  const batch = new ProducerBatch('t', 0, -1, compression, false, prepared.timestamps[0], 0, 30_000, pool, varintSize(first) + first);
  for (let i = 0; i < prepared.count; i++) {
    batch.add(prepared, i, recordBody(prepared.payloadSizes[i], prepared.timestamps[i] - batch.baseTimestamp, i), job, i === 0);
  }
  return batch;
}

const messages = (count: number, valueBytes: number): ProducerMessage[] =>
  Array.from({ length: count }, (_, i) => ({
    key: i % 3 === 0 ? null : i % 3 === 1 ? `user-${i}` : Buffer.from(`k${i}`),
    value: i % 4 === 0 ? `${'é'.repeat(valueBytes >> 2)}${i}` : `${'v'.repeat(valueBytes)}${i}`,
    headers: i % 5 === 0 ? { trace: `t${i}` } : undefined,
    timestamp: 1_700_000_000_000 + ((i * 7919) % 1000) - 500,
  }));

const expected = (input: ProducerMessage[], options: Parameters<typeof encodeRecordBatch>[1]) =>
  encodeRecordBatch(
    input.map((m) => ({
      key: m.key as Buffer | string | null,
      value: m.value as Buffer | string | null,
      headers: m.headers === undefined ? [] : Object.entries(m.headers).map(([key, value]) => ({ key, value: value as string })),
      timestamp: m.timestamp as number,
    })),
    options,
  );

describe('ProducerBatch', () => {
  it.each(['none', 'gzip', 'lz4', 'zstd', 'snappy'] as const)('frames its records as encodeRecordBatch does, across buffer growth (%s)', (compression) => {
    const pool = new BatchBufferPool(1 << 20);
    const input = messages(600, 150); // ~100 KiB: the 16 KiB first buffer grows three times
    const batch = fill(pool, input, compression);
    batch.producerId = 3;
    batch.producerEpoch = 1;
    batch.baseSequence = 42;
    expect(batch.recordBytes).toBe(expected(input, { compression: 'none' }).length - BATCH_HEADER_SIZE);
    expect(batch.frame().equals(expected(input, { compression, producerId: 3, producerEpoch: 1, baseSequence: 42 }))).toBe(true);
  });

  it('frames the same bytes again for a retry, and a new header only when restamped', () => {
    const batch = fill(new BatchBufferPool(65_536), messages(50, 40));
    batch.producerId = 5;
    batch.producerEpoch = 0;
    batch.baseSequence = 100;
    const first = batch.frame();
    expect(batch.frame().equals(first)).toBe(true);
    batch.producerId = 6;
    batch.baseSequence = 0;
    const restamped = batch.frame();
    expect(restamped.subarray(BATCH_HEADER_SIZE).equals(first.subarray(BATCH_HEADER_SIZE))).toBe(true);
    expect(restamped.readBigInt64BE(43)).toBe(6n);
    expect(restamped.readInt32BE(53)).toBe(0);
  });

  it('writes into a reused buffer without a trace of its previous batch', () => {
    const pool = new BatchBufferPool(65_536);
    const old = fill(pool, messages(300, 100));
    old.releaseBuffer();
    const input = messages(7, 10);
    const batch = fill(pool, input);
    expect(batch.frame().equals(expected(input, {}))).toBe(true);
  });
});

describe('BatchBufferPool', () => {
  it('hands out the buffer given back last, if it is large enough', () => {
    const pool = new BatchBufferPool(65_536);
    const a = pool.take(100);
    expect(a.length).toBe(16_384);
    pool.give(a);
    expect(pool.take(16_384)).toBe(a);
    pool.give(a);
    const bigger = pool.take(20_000);
    expect(bigger).not.toBe(a);
    expect(bigger.length).toBe(20_000);
    expect(pool.take(1)).toBe(a);
  });

  it('grows by doubling up to batchBytes, or to what one big record needs, keeping the bytes written', () => {
    const pool = new BatchBufferPool(40_000);
    const small = pool.take(1);
    small.write('hello', 0, 'latin1');
    const grown = pool.grow(small, 5, 16_385);
    expect(grown.length).toBe(32_768);
    expect(grown.toString('latin1', 0, 5)).toBe('hello');
    expect(pool.grow(grown, 5, 32_769).length).toBe(40_000);
    expect(pool.grow(pool.take(1), 0, 100_000).length).toBe(100_000);
  });

  it('starts new batches at the size batches grew to, and hands out no buffer they outgrew', () => {
    const pool = new BatchBufferPool(65_536);
    const first = pool.take(100);
    expect(first.length).toBe(16_384);
    const grown = pool.grow(pool.grow(first, 16_384, 16_385), 32_768, 32_769);
    expect(grown.length).toBe(65_536);
    pool.finished(grown, 65_000);
    expect(pool.take(100)).toBe(grown);
    expect(pool.take(100).length).toBe(65_536);
  });

  it('goes back to small first buffers once batches finish within a quarter of them', () => {
    const pool = new BatchBufferPool(65_536);
    const grown = pool.grow(pool.grow(pool.take(100), 16_384, 16_385), 32_768, 32_769);
    pool.finished(grown, 1_000);
    expect(pool.take(100)).toBe(grown); // still large enough for any batch
    pool.finished(grown, 1_000);
    expect(pool.take(100)).toBe(grown);
    expect(pool.take(100).length).toBe(16_384);
    pool.finished(grown, 1_000); // not below the start
    expect(pool.take(100)).toBe(grown);
    expect(pool.take(100).length).toBe(16_384);
  });

  it('lets only the first of a run of filling batches grow, with several in flight', () => {
    class CountingPool extends BatchBufferPool {
      grows = 0;
      override grow(buffer: Buffer, used: number, minBytes: number): Buffer {
        this.grows++;
        return super.grow(buffer, used, minBytes);
      }
    }
    const pool = new CountingPool(65_536);
    const input = messages(300, 120);
    const inFlight: ProducerBatch[] = [];
    for (let i = 0; i < 12; i++) {
      const batch = fill(pool, input);
      expect(batch.recordBytes).toBeGreaterThan(32_768);
      expect(batch.recordBytes).toBeLessThan(65_536 - BATCH_HEADER_SIZE);
      expect(batch.frame().equals(expected(input, {}))).toBe(true);
      inFlight.push(batch);
      if (inFlight.length > 3) inFlight.shift()!.releaseBuffer();
    }
    expect(pool.grows).toBe(2); // 16 -> 32 -> 64 KiB, once
  });

  it('keeps at most 4 MiB of free buffers', () => {
    const pool = new BatchBufferPool(1 << 20);
    const buffers = Array.from({ length: 6 }, () => pool.take(1 << 20));
    for (const buffer of buffers) pool.give(buffer);
    const reused = Array.from({ length: 6 }, () => pool.take(1 << 20)).filter((buffer) => buffers.includes(buffer));
    expect(reused).toHaveLength(4);
  });
});
