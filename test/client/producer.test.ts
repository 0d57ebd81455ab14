import { describe, expect, it, vi } from 'vitest';
import { createDefaultPartitioner, murmur2, toPositive } from '../../src/client/partitioner.js';
import { METADATA_WAIT_MS } from '../../src/client/producer.js';
import { useHarness, peek, rejection } from './fakes/producer-harness.js';

const harness = useHarness();

describe('Producer: results and placement', () => {
  it("resolves with KafkaJS's RecordMetadata, offsets as decimal strings", async () => {
    const { fake, producer } = harness();
    fake.createTopic('clicks', { partitions: 1 });
    const p = producer();
    await p.connect();
    const first = await p.send({ topic: 'clicks', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    expect(first).toEqual([{ topicName: 'clicks', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' }]);
    const second = await p.send({ topic: 'clicks', messages: [{ value: 'd' }] });
    expect(second[0].baseOffset).toBe('3');
    expect(fake.values('clicks', 0)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reports the LogAppendTime a log-append topic stamped', async () => {
    const { fake, producer } = harness();
    fake.createTopic('stamped', { timestampType: 'log-append' });
    const [meta] = await producer().send({ topic: 'stamped', messages: [{ value: 'x', timestamp: 5 }] });
    expect(Number(meta.logAppendTime)).toBeGreaterThan(1_600_000_000_000);
    expect(fake.batches('stamped', 0)[0].timestampType).toBe('log-append');
  });

  it('places keyed records by murmur2, the same for a string key and its bytes', async () => {
    const { fake, producer } = harness();
    fake.createTopic('keyed', { partitions: 7 });
    const p = producer();
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i * 7919}`);
    await p.send({ topic: 'keyed', messages: keys.map((key, i) => ({ key: i % 2 === 0 ? key : Buffer.from(key), value: key })) });
    for (let partition = 0; partition < 7; partition++) {
      const expected = keys.filter((key) => toPositive(murmur2(Buffer.from(key))) % 7 === partition);
      expect(fake.values('keyed', partition)).toEqual(expected);
    }
  });

  it('writes to an explicit partition, and rejects one outside the topic at once', async () => {
    const { fake, producer } = harness();
    fake.createTopic('three', { partitions: 3 });
    const p = producer();
    const result = await p.send({ topic: 'three', messages: [{ key: 'k', value: 'x', partition: 2 }, { value: 'y', partition: 0 }] });
    expect(result.map((meta) => meta.partition)).toEqual([0, 2]);
    expect(fake.values('three', 2)).toEqual(['x']);
    for (const partition of [3, -1, 1.5]) {
      const error = await rejection(p.send({ topic: 'three', messages: [{ value: 'ok' }, { value: 'z', partition }] }));
      expect(error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      expect(error.message).toContain(`partition ${partition}`);
    }
    await p.flush();
    // The valid message of each rejected send was not buffered either.
    expect([0, 1, 2].flatMap((partition) => fake.values('three', partition))).toEqual(['y', 'x']);
  });

  it('rotates the sticky partition of null keys when a batch completes', async () => {
    const { fake, producer } = harness();
    fake.createTopic('sticky', { partitions: 4 });
    const draws = [0.1, 0.6, 0.9, 0.3, 0.5, 0.2, 0.8];
    let next = 0;
    const partitioner = createDefaultPartitioner({ random: () => draws[next++ % draws.length] });
    // 61-byte header + 3 records of 10 + framing: a batch holds exactly 3.
    const p = producer({ partitioner, batchBytes: 61 + 3 * 20, lingerMs: 1_000 });
    const value = '0123456789';
    const sent = p.send({ topic: 'sticky', messages: Array.from({ length: 12 }, () => ({ value })) });
    await p.flush();
    await sent;
    const batches = fake.attempts.map((attempt) => attempt.partition);
    expect(fake.attempts.length).toBe(4);
    for (let i = 1; i < batches.length; i++) expect(batches[i]).not.toBe(batches[i - 1]);
    for (let partition = 0; partition < 4; partition++) {
      for (const batch of fake.batches('sticky', partition)) expect(batch.records.length).toBe(3);
    }
  });

  it('sendBatch writes several topics and reports them sorted by topic, then partition', async () => {
    const { fake, producer } = harness();
    fake.createTopic('b', { partitions: 2 });
    fake.createTopic('a', { partitions: 1 });
    const result = await producer().sendBatch({
      topicMessages: [
        { topic: 'b', messages: [{ value: '1', partition: 1 }, { value: '2', partition: 0 }] },
        { topic: 'a', messages: [{ value: '3' }] },
      ],
    });
    expect(result.map((meta) => `${meta.topicName}-${meta.partition}`)).toEqual(['a-0', 'b-0', 'b-1']);
  });

  it("accepts KafkaJS's header object (arrays repeat a header), the array form, and string timestamps", async () => {
    const { fake, producer } = harness();
    fake.createTopic('headers');
    await producer().send({
      topic: 'headers',
      messages: [
        { value: 'a', timestamp: '1700000000123', headers: { trace: 'x1', tags: ['t1', Buffer.from('t2')], skipped: undefined } },
        { value: 'b', timestamp: 1700000000456, headers: [{ key: 'k', value: null }] },
      ],
    });
    const [a, b] = fake.batches('headers', 0).flatMap((batch) => batch.records);
    expect(a.timestamp).toBe(1700000000123);
    expect(a.headers.map((h) => [h.key, h.value?.toString()])).toEqual([
      ['trace', 'x1'],
      ['tags', 't1'],
      ['tags', 't2'],
    ]);
    expect(b.timestamp).toBe(1700000000456);
    expect(b.headers).toEqual([{ key: 'k', value: null }]);
  });

  it('serializes objects with a json value serde, and without one rejects them naming the fix', async () => {
    const { fake, producer } = harness();
    fake.createTopic('events');
    const typed = producer<string | null, { page: string }>({ serde: { value: 'json' } });
    await typed.send({ topic: 'events', messages: [{ key: 'u1', value: { page: '/home' } }] });
    expect(fake.values('events', 0)).toEqual(['{"page":"/home"}']);

    const raw = producer();
    const error = await rejection(raw.send({ topic: 'events', messages: [{ value: 'fine' }, { value: { page: '/x' } as never }] }));
    expect(error.code).toBe('INVALID_RECORD');
    expect(error.message).toMatch(/message 1 .*value.*serde\.value/);
    const badTimestamp = await rejection(raw.send({ topic: 'events', messages: [{ value: 'x', timestamp: 'yesterday' }] }));
    expect(badTimestamp.code).toBe('INVALID_RECORD');
    await raw.flush();
    expect(fake.values('events', 0)).toEqual(['{"page":"/home"}']);
  });

  it("compresses with the topic's codec by default, the producer's or the send's when given", async () => {
    const { fake, producer } = harness();
    fake.createTopic('lz4-topic', { compression: 'lz4' });
    fake.createTopic('any', { compression: 'producer' });
    const p = producer();
    const value = 'x'.repeat(200);
    await p.send({ topic: 'lz4-topic', messages: [{ value }] });
    await p.send({ topic: 'any', messages: [{ value }] });
    await p.send({ topic: 'any', messages: [{ value }], compression: 'zstd' });
    await p.send({ topic: 'any', messages: [{ value }], compression: 1 }); // KafkaJS's CompressionTypes.GZIP
    expect(fake.batches('lz4-topic', 0).map((batch) => batch.compression)).toEqual(['lz4']);
    expect(fake.batches('any', 0).map((batch) => batch.compression)).toEqual(['none', 'zstd', 'gzip']);
    await producer({ compression: 'snappy' }).send({ topic: 'any', messages: [{ value }] });
    expect(fake.batches('any', 0).at(-1)!.compression).toBe('snappy');
    expect(fake.values('any', 0).every((v) => v === value)).toBe(true);
    const error = await rejection(p.send({ topic: 'any', messages: [{ value }], compression: 9 as never }));
    expect(error.code).toBe('UNSUPPORTED_COMPRESSION');
  });
});

describe('Producer: batching', () => {
  it('seals a batch lingerMs after its first record, gathering the sends in between', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('linger');
    const p = producer({ lingerMs: 20 });
    await p.connect();
    const first = p.send({ topic: 'linger', messages: [{ value: 'a' }] });
    await vi.advanceTimersByTimeAsync(19);
    const second = p.send({ topic: 'linger', messages: [{ value: 'b' }] });
    expect(fake.attempts).toHaveLength(0);
    expect(await peek(first)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.attempts).toHaveLength(1);
    expect((await first)[0].baseOffset).toBe('0');
    expect((await second)[0].baseOffset).toBe('1');
  });

  it('seals a batch when the next record would pass batchBytes, never exceeding it', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('sized');
    const p = producer({ batchBytes: 1024, lingerMs: 60_000 });
    await p.connect();
    const values = Array.from({ length: 50 }, (_, i) => `${i}`.padStart(100, '.'));
    const sent = p.send({ topic: 'sized', messages: values.map((value) => ({ value })) });
    // Full batches went out without waiting for the linger; the last, partial one waits.
    expect(fake.attempts.length).toBeGreaterThanOrEqual(5);
    expect(fake.attempts.every((attempt) => attempt.bytes.length <= 1024)).toBe(true);
    expect(fake.attempts.every((attempt) => attempt.bytes.length > 1024 - 110)).toBe(true);
    expect(await peek(sent)).toBe('pending');
    await vi.advanceTimersByTimeAsync(60_000);
    await sent;
    expect(fake.values('sized', 0)).toEqual(values);
  });

  it('gives a record larger than batchBytes a batch of its own', async () => {
    const { fake, producer } = harness();
    fake.createTopic('big');
    const p = producer({ batchBytes: 256 });
    await p.send({ topic: 'big', messages: [{ value: 'small' }, { value: 'L'.repeat(1000) }, { value: 'tiny' }] });
    expect(fake.batches('big', 0).map((batch) => batch.records.length)).toEqual([1, 1, 1]);
  });

  it('with lingerMs 0, still batches the sends of one turn of the event loop', async () => {
    const { fake, producer } = harness();
    fake.createTopic('eager');
    const p = producer({ lingerMs: 0 });
    await p.connect();
    const sends = ['a', 'b', 'c'].map((value) => p.send({ topic: 'eager', messages: [{ value }] }));
    await Promise.all(sends);
    expect(fake.attempts).toHaveLength(1);
    expect(fake.values('eager', 0)).toEqual(['a', 'b', 'c']);
  });
});

describe('Producer: acks, topics, lifecycle', () => {
  it('acks 0 resolves once the batch is sent, without waiting for an answer', async () => {
    const { fake, producer } = harness();
    fake.createTopic('fire');
    const p = producer({ idempotent: false, acks: 0, lingerMs: 0 });
    fake.hold();
    const result = await p.send({ topic: 'fire', messages: [{ value: 'x' }] });
    expect(result).toEqual([{ topicName: 'fire', partition: 0, errorCode: 0, baseOffset: '-1', logAppendTime: '-1', logStartOffset: '-1' }]);
    expect(fake.heldAnswers).toBe(1);
    expect(fake.attempts[0].acks).toBe(0);
    // A send may ask for acks 1 on a non-idempotent producer whose default is 0.
    const acked = p.send({ topic: 'fire', messages: [{ value: 'y' }], acks: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await peek(acked)).toBe('pending');
    fake.release();
    expect((await acked)[0].baseOffset).toBe('1');
  });

  it('waits a short window for a missing topic, then rejects with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    const p = producer();
    await p.connect();
    const missing = p.send({ topic: 'nowhere', messages: [{ value: 'x' }] });
    const late = p.send({ topic: 'soon', messages: [{ value: 'y' }] });
    await vi.advanceTimersByTimeAsync(METADATA_WAIT_MS / 2);
    fake.createTopic('soon');
    expect(await peek(missing)).toBe('pending');
    await vi.advanceTimersByTimeAsync(METADATA_WAIT_MS);
    const error = await rejection(missing);
    expect(error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(error.message).toContain('nowhere');
    await vi.advanceTimersByTimeAsync(10);
    expect((await late)[0].baseOffset).toBe('0');
  });

  it('disconnect flushes what is buffered; later sends and connects reject with CLOSED', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('last');
    const p = producer({ lingerMs: 60_000 });
    const pending = p.send({ topic: 'last', messages: [{ value: 'kept' }] });
    await p.disconnect();
    expect((await pending)[0].baseOffset).toBe('0');
    expect(fake.values('last', 0)).toEqual(['kept']);
    expect((await rejection(p.send({ topic: 'last', messages: [{ value: 'late' }] }))).code).toBe('CLOSED');
    expect((await rejection(p.sendBatch({ topicMessages: [] }))).code).toBe('CLOSED');
    expect((await rejection(p.connect())).code).toBe('CLOSED');
    await p.close();
  });

  it('flush resolves once everything sent before it is acknowledged', async () => {
    vi.useFakeTimers();
    const { fake, producer } = harness();
    fake.createTopic('flushed', { partitions: 2 });
    const p = producer({ lingerMs: 60_000 });
    await p.connect();
    const sends = [0, 1].map((partition) => p.send({ topic: 'flushed', messages: [{ value: `${partition}`, partition }] }));
    fake.hold();
    const flushed = p.flush();
    expect(fake.attempts).toHaveLength(2);
    expect(await peek(flushed)).toBe('pending');
    fake.release();
    await flushed;
    expect(await Promise.all(sends.map(peek))).toEqual(['resolved', 'resolved']);
  });

  it('an empty send resolves with no metadata', async () => {
    const { fake, producer } = harness();
    fake.createTopic('empty');
    expect(await producer().send({ topic: 'empty', messages: [] })).toEqual([]);
  });
});
