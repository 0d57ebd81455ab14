import { describe, expect, it, vi } from 'vitest';
import { retryDelayMs, parseRetryOptions } from '../../src/client/retry.js';
import { SeededRandom } from '../../src/workload/random.js';
import { useHarness, peek, rejection } from './fakes/producer-harness.js';

const harness = useHarness();

/** No jitter: every delay is exactly initialRetryTime * multiplier^(n-1). */
const exactRetry = { random: () => 0.5 };

describe('idempotent sequences', () => {
  it('are contiguous per partition, under one producer id', async () => {
    const { fake, producer } = harness();
    fake.createTopic('seq', { partitions: 3 });
    const p = producer({ batchBytes: 300 });
    for (let s = 0; s < 5; s++) {
      await p.send({ topic: 'seq', messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${s}-${i}`, value: `v${s}-${i}` })) });
    }
    let total = 0;
    for (let partition = 0; partition < 3; partition++) {
      let expected = 0;
      const batches = fake.batches('seq', partition);
      expect(batches.length).toBeGreaterThan(1);
      for (const batch of batches) {
        expect([batch.producerId, batch.producerEpoch, batch.baseSequence]).toEqual([1000, 0, expected]);
        expected += batch.records.length;
      }
      total += expected;
    }
    expect(total).toBe(200);
    expect(fake.identitiesIssued).toBe(1);
  });

  it('a non-idempotent producer sends no producer id', async () => {
    const { fake, producer } = harness();
    fake.createTopic('plain');
    await producer({ idempotent: false, acks: 1 }).send({ topic: 'plain', messages: [{ value: 'x' }] });
    expect(fake.batches('plain', 0)[0]).toMatchObject({ producerId: -1, baseSequence: -1 });
    expect(fake.identitiesIssued).toBe(0);
  });
});

describe('retries', () => {
  it.each([
    ['a small batch (a shared chunk, framed again)', 10, 'none', false],
    ['a 60 KB batch (a shared chunk, framed again)', 20_000, 'none', false],
    ['a compressed batch (a shared chunk, framed and compressed again)', 20_000, 'gzip', false],
  ] as const)('resend %s with identical bytes, so an append whose answer was lost is not duplicated', async (_, size, compression, transferred) => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('lost', { compression });
    const p = producer({ retry: exactRetry });
    await p.connect();
    fake.inject({ error: 'PARTITION_UNAVAILABLE', when: 'after' });
    // Random text, so that compression leaves the batch large enough to own (and transfer) its buffer.
    const rng = new SeededRandom(size);
    const values = ['a', 'b', 'c'].map(() => Array.from({ length: size }, () => String.fromCharCode(33 + rng.int(90))).join(''));
    const sent = p.send({ topic: 'lost', messages: values.map((value) => ({ value })) });
    await vi.advanceTimersByTimeAsync(5);
    expect(fake.attempts.map((a) => a.outcome)).toEqual(['PARTITION_UNAVAILABLE']);
    await vi.advanceTimersByTimeAsync(99);
    expect(fake.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.attempts.map((a) => a.outcome)).toEqual(['PARTITION_UNAVAILABLE', 'duplicate']);
    expect(fake.attempts[1].bytes.equals(fake.attempts[0].bytes)).toBe(true);
    expect(fake.attempts.map((a) => a.transferred)).toEqual([transferred, transferred]);
    expect((await sent)[0].baseOffset).toBe('0');
    expect(fake.values('lost', 0)).toEqual(values);
    if (!transferred) {
      // The failed request's chunk was abandoned, not reused for its retry (its thread could still read it).
      const [failed, retry] = fake.attempts.map((a) => a.received);
      retry[0] ^= 0xff;
      expect(failed[0]).toBe(fake.attempts[0].bytes[0]);
    }
  });

  it('frames the next batch into the shared chunk of an answered one', async () => {
    const { fake, producer } = harness();
    fake.createTopic('reuse');
    const p = producer({});
    await p.send({ topic: 'reuse', messages: [{ value: 'first' }] });
    await p.send({ topic: 'reuse', messages: [{ value: 'second' }] });
    const [first, second] = fake.attempts.map((a) => a.received);
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(fake.attempts.map((a) => a.transferred)).toEqual([false, false]);
    // One memory under both views: the chunk that carried the first batch carried the second.
    second[0] ^= 0xff;
    expect(first[0]).toBe(second[0]);
  });

  it('resends the batches in flight behind a failed one in order, without counting their refusals as retries', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('pipe');
    // Two 10-byte records per batch. With retries: 1, batch 2 survives its own failure in round 2
    // only if its gap refusal in round 1 did not count as a failure.
    const p = producer({ batchBytes: 61 + 2 * 20, lingerMs: 1_000, retry: { ...exactRetry, retries: 1 } });
    await p.connect();
    fake.hold();
    fake.inject({ error: 'PARTITION_UNAVAILABLE', when: 'before' });
    fake.inject({ error: 'PARTITION_UNAVAILABLE', when: 'before', skip: 5 });
    const values = Array.from({ length: 10 }, (_, i) => `value-${i}`.padEnd(10, '.'));
    const sent = p.send({ topic: 'pipe', messages: values.map((value) => ({ value })) });
    void p.flush();
    const gap = 'OUT_OF_ORDER_SEQUENCE';
    expect(fake.attempts.map((a) => a.outcome)).toEqual(['PARTITION_UNAVAILABLE', gap, gap, gap, gap]);
    fake.release();
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.attempts.slice(5).map((a) => a.outcome)).toEqual(['appended', 'PARTITION_UNAVAILABLE', gap, gap, gap]);
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.attempts.slice(10).map((a) => a.outcome)).toEqual(['appended', 'appended', 'appended', 'appended']);
    expect((await sent)[0].baseOffset).toBe('0');
    expect(fake.values('pipe', 0)).toEqual(values);
    expect(fake.maxInFlight.get('pipe-0')).toBe(5);
  });

  it('when the failed batch was appended after all, its successors succeed and its retry is a duplicate', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('ambiguous');
    const p = producer({ batchBytes: 61 + 2 * 20, lingerMs: 1_000, retry: exactRetry });
    await p.connect();
    fake.inject({ error: 'REQUEST_TIMED_OUT', when: 'after' });
    const values = Array.from({ length: 6 }, (_, i) => `value-${i}`.padEnd(10, '.'));
    const sent = p.send({ topic: 'ambiguous', messages: values.map((value) => ({ value })) });
    void p.flush();
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.attempts.map((a) => a.outcome)).toEqual(['REQUEST_TIMED_OUT', 'appended', 'appended', 'duplicate']);
    expect((await sent)[0].baseOffset).toBe('0');
    expect(fake.values('ambiguous', 0)).toEqual(values);
  });

  it('retries an append left unanswered past the timeout; the partition recognizes the retry', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('hung');
    const p = producer({ retry: exactRetry });
    await p.connect();
    fake.inject({ error: 'REQUEST_TIMED_OUT', when: 'no-answer' });
    const sent = p.send({ topic: 'hung', messages: [{ value: 'once' }], timeout: 1_000 });
    await vi.advanceTimersByTimeAsync(1_004);
    expect(fake.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(101);
    expect(fake.attempts.map((a) => a.outcome)).toEqual(['appended', 'duplicate']);
    expect((await sent)[0].baseOffset).toBe('0');
    expect(fake.values('hung', 0)).toEqual(['once']);
  });

  it('gives up after `retries` with exponential backoff, failing the send with the last error', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('down');
    const p = producer({ retry: { ...exactRetry, retries: 2, initialRetryTime: 100, multiplier: 3 } });
    await p.connect();
    fake.inject({ error: 'PARTITION_UNAVAILABLE', when: 'before', times: 3 });
    const sent = p.send({ topic: 'down', messages: [{ value: 'x' }] });
    const outcome = rejection(sent);
    await vi.advanceTimersByTimeAsync(5);
    expect(fake.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(299);
    expect(fake.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.attempts).toHaveLength(3);
    expect((await outcome).code).toBe('PARTITION_UNAVAILABLE');
    // The gap it left moves the partition to a fresh producer id; later sends go through.
    const next = p.send({ topic: 'down', messages: [{ value: 'y' }] });
    await vi.advanceTimersByTimeAsync(5);
    expect((await next)[0].baseOffset).toBe('0');
    expect(fake.batches('down', 0)[0]).toMatchObject({ producerId: 1001, baseSequence: 0 });
  });

  it('a non-idempotent producer retries as well', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('plain');
    const p = producer({ idempotent: false, acks: 1, retry: exactRetry });
    fake.inject({ error: 'PARTITION_UNAVAILABLE', when: 'before' });
    const sent = p.send({ topic: 'plain', messages: [{ value: 'x' }] });
    await vi.advanceTimersByTimeAsync(200);
    expect((await sent)[0].baseOffset).toBe('0');
    expect(fake.attempts.map((a) => a.outcome)).toEqual(['PARTITION_UNAVAILABLE', 'appended']);
  });
});

describe('failures that retries cannot fix', () => {
  it('fail exactly the sends with records in the failed batch', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('two', { partitions: 2 });
    const p = producer({ lingerMs: 1_000 });
    await p.connect();
    fake.inject({ error: 'RECORD_TOO_LARGE', when: 'before', partition: 1 });
    const onlyZero = p.send({ topic: 'two', messages: [{ value: 'a', partition: 0 }] });
    const onlyOne = p.send({ topic: 'two', messages: [{ value: 'b', partition: 1 }] });
    const both = p.send({ topic: 'two', messages: [{ value: 'c', partition: 0 }, { value: 'd', partition: 1 }] });
    const outcomes = [onlyOne, both].map(rejection);
    await p.flush();
    expect((await onlyZero)[0].baseOffset).toBe('0');
    for (const outcome of outcomes) expect((await outcome).code).toBe('RECORD_TOO_LARGE');
    expect(fake.values('two', 0)).toEqual(['a', 'c']);
    expect(fake.values('two', 1)).toEqual([]);
    // Partition 1 moves to a fresh producer id from sequence 0; partition 0 keeps its sequence.
    const later = p.send({ topic: 'two', messages: [{ value: 'e', partition: 0 }, { value: 'f', partition: 1 }] });
    await p.flush();
    await later;
    expect(fake.batches('two', 1)[0]).toMatchObject({ producerId: 1001, baseSequence: 0 });
    expect(fake.batches('two', 0).map((batch) => [batch.producerId, batch.baseSequence])).toEqual([
      [1000, 0],
      [1000, 2],
    ]);
  });

  it('OUT_OF_ORDER_SEQUENCE with no earlier batch to blame fails the batch and resets the sequence', async () => {
    const { fake, producer } = harness();
    fake.createTopic('gap');
    const p = producer();
    await p.send({ topic: 'gap', messages: [{ value: 'a' }] });
    fake.inject({ error: 'OUT_OF_ORDER_SEQUENCE', when: 'before' });
    expect((await rejection(p.send({ topic: 'gap', messages: [{ value: 'b' }] }))).code).toBe('OUT_OF_ORDER_SEQUENCE');
    await p.send({ topic: 'gap', messages: [{ value: 'c' }] });
    expect(fake.values('gap', 0)).toEqual(['a', 'c']);
    expect(fake.batches('gap', 0).map((batch) => [batch.producerId, batch.baseSequence])).toEqual([
      [1000, 0],
      [1001, 0],
    ]);
  });

  it('batches waiting behind a batch that failed for good are restamped and delivered', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('restamp');
    const p = producer({ batchBytes: 61 + 2 * 20, lingerMs: 1_000 });
    await p.connect();
    fake.hold();
    fake.inject({ error: 'INVALID_RECORD', when: 'before' });
    const doomed = p.send({ topic: 'restamp', messages: [{ value: 'doomed-0..' }, { value: 'doomed-1..' }] });
    const outcome = rejection(doomed);
    const after = p.send({ topic: 'restamp', messages: [{ value: 'after-0...' }, { value: 'after-1...' }, { value: 'after-2...' }] });
    void p.flush();
    fake.release();
    await vi.advanceTimersByTimeAsync(0);
    expect((await outcome).code).toBe('INVALID_RECORD');
    const meta = await after;
    expect(meta[0].baseOffset).toBe('0');
    expect(fake.values('restamp', 0)).toEqual(['after-0...', 'after-1...', 'after-2...']);
    expect(fake.batches('restamp', 0).map((batch) => [batch.producerId, batch.baseSequence])).toEqual([
      [1001, 0],
      [1001, 2],
    ]);
  });
});

describe('in flight and memory limits', () => {
  it('keeps at most maxInFlightRequests appends per partition awaiting an answer', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('window');
    const p = producer({ batchBytes: 61 + 20, maxInFlightRequests: 2 });
    await p.connect();
    fake.hold();
    const sent = p.send({ topic: 'window', messages: Array.from({ length: 6 }, (_, i) => ({ value: `${i}`.padEnd(10) })) });
    await vi.advanceTimersByTimeAsync(10);
    expect(fake.attempts).toHaveLength(2);
    while (fake.heldAnswers > 0) {
      fake.hold();
      fake.release();
      await vi.advanceTimersByTimeAsync(0);
    }
    fake.release();
    await sent;
    expect(fake.attempts).toHaveLength(6);
    expect(fake.maxInFlight.get('window-0')).toBe(2);
  });

  it('makes send wait while bufferMemory is full, keeping buffered bytes bounded and sends in order', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('bounded');
    const bufferMemory = 2_000;
    const p = producer({ bufferMemory, lingerMs: 0 });
    await p.connect();
    fake.hold();
    const values = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(900));
    const sends = values.map((value) => p.send({ topic: 'bounded', messages: [{ value }] }));
    await vi.advanceTimersByTimeAsync(10);
    // Two records fit; the other sends wait, their records not even buffered.
    expect(fake.attempts).toHaveLength(1);
    expect(fake.attempts[0].bytes.length).toBeLessThanOrEqual(bufferMemory + 61);
    expect(await Promise.all(sends.map(peek))).toEqual(Array(6).fill('pending'));
    // Time alone frees nothing (well within the 30 s request timeout): only acknowledgements do.
    await vi.advanceTimersByTimeAsync(20_000);
    expect(fake.attempts).toHaveLength(1);
    for (let round = 0; fake.heldAnswers > 0; round++) {
      expect(round).toBeLessThan(10);
      fake.hold();
      fake.release();
      await vi.advanceTimersByTimeAsync(10);
      const waiting = fake.attempts.slice(-1)[0];
      expect(waiting.bytes.length).toBeLessThanOrEqual(bufferMemory + 61);
    }
    fake.release();
    const results = await Promise.all(sends);
    expect(results.map((meta) => meta[0].baseOffset)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(fake.values('bounded', 0)).toEqual(values);
  });

  it('admits a single send larger than bufferMemory alone', async () => {
    const { fake, producer } = harness();
    fake.createTopic('huge');
    const p = producer({ bufferMemory: 1_000 });
    const values = Array.from({ length: 5 }, (_, i) => `${i}`.repeat(500));
    await Promise.all([p.send({ topic: 'huge', messages: values.map((value) => ({ value })) }), p.send({ topic: 'huge', messages: [{ value: 'next' }] })]);
    expect(fake.values('huge', 0)).toEqual([...values, 'next']);
  });
});

describe('retryDelayMs', () => {
  it('grows by multiplier, jitters by ±factor, and caps at maxRetryTime', () => {
    const at = (random: number) => parseRetryOptions({ initialRetryTime: 100, multiplier: 2, factor: 0.2, maxRetryTime: 1_000, random: () => random });
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, at(0.5)))).toEqual([100, 200, 400, 800, 1_000]);
    expect(retryDelayMs(1, at(0))).toBe(80);
    expect(retryDelayMs(1, at(0.999999))).toBe(120);
    expect(retryDelayMs(10, at(0.999999))).toBe(1_000);
  });
});
