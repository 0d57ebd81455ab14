import { describe, expect, it } from 'vitest';
import type { Partitioner } from '../../src/client/partitioner.js';
import { Producer } from '../../src/client/producer.js';
import { parseProducerOptions } from '../../src/client/producer-options.js';
import { TributaryError } from '../../src/errors.js';
import { useHarness, rejection } from './fakes/producer-harness.js';

const harness = useHarness();

/** The INVALID_CONFIG a constructor call throws. */
function configError(options: unknown): TributaryError {
  const { fake } = harness();
  try {
    new Producer(fake, options as never);
  } catch (error) {
    expect(TributaryError.is(error, 'INVALID_CONFIG')).toBe(true);
    return error as TributaryError;
  }
  throw new Error(`${JSON.stringify(options)} was accepted`);
}

describe('producer options', () => {
  it('defaults: idempotent, acks -1, 5 in flight, 5 ms linger, 64 KiB batches, 32 MiB buffer, KafkaJS retry', () => {
    expect(parseProducerOptions.defaults).toMatchObject({
      idempotent: true,
      acks: -1,
      maxInFlightRequests: 5,
      lingerMs: 5,
      batchBytes: 65_536,
      bufferMemory: 32 * 1024 * 1024,
      compression: undefined,
      timeout: 30_000,
    });
    const { fake } = harness();
    expect(new Producer(fake).isIdempotent()).toBe(true);
  });

  it('rejects an unknown option, suggesting the one a typo meant', () => {
    const error = configError({ lingerMS: 10 });
    expect(error.message).toContain("'lingerMS'");
    expect(error.message).toContain("did you mean 'lingerMs'?");
    expect(error.details).toMatchObject({ field: 'lingerMS', suggestion: 'lingerMs' });
    expect(configError({ allowAutoTopicCreation: true }).message).toContain('known options:');
  });

  it('rejects acks 0 or 1 on an idempotent producer, as Kafka does, and accepts them without idempotence', () => {
    for (const acks of [0, 1]) {
      const error = configError({ acks });
      expect(error.details).toMatchObject({ field: 'acks', value: acks });
      expect(error.message).toContain('idempotent');
    }
    const { fake } = harness();
    expect(new Producer(fake, { idempotent: false, acks: 1 }).isIdempotent()).toBe(false);
  });

  it('rejects transactionalId until transactions exist', () => {
    const error = configError({ transactionalId: 'tx-1' });
    expect(error.details).toMatchObject({ field: 'transactionalId' });
    expect(error.message).toContain('transactions');
  });

  it('caps maxInFlightRequests at 5 when idempotent', () => {
    expect(configError({ maxInFlightRequests: 6 }).details).toMatchObject({ field: 'maxInFlightRequests', value: 6 });
    const { fake } = harness();
    expect(() => new Producer(fake, { idempotent: false, acks: 1, maxInFlightRequests: 6 })).not.toThrow();
  });

  it('checks types and ranges, nested retry options and serdes', () => {
    expect(configError({ lingerMs: -1 }).details).toMatchObject({ field: 'lingerMs', value: -1 });
    expect(configError({ batchBytes: '64k' }).details).toMatchObject({ field: 'batchBytes' });
    expect(configError({ compression: 'lz5' }).message).toContain("did you mean 'lz4'?");
    expect(configError({ retry: { retires: 3 } }).message).toContain("did you mean 'retries'?");
    expect(configError({ retry: { factor: 2 } }).details).toMatchObject({ field: 'factor', value: 2 });
    expect(configError({ partitioner: () => 0 }).details).toMatchObject({ field: 'partitioner' });
    expect(configError({ serde: { value: 'yaml' } }).message).toContain('serde.value');
    expect(configError({ serde: { values: 'json' } }).details).toMatchObject({ field: 'serde.values' });
  });
});

describe('send arguments', () => {
  it('rejects acks other than -1 per send on an idempotent producer, and bad timeouts', async () => {
    const { fake, producer } = harness();
    fake.createTopic('t');
    const p = producer();
    const acks = await rejection(p.send({ topic: 't', messages: [{ value: 'x' }], acks: 1 }));
    expect([acks.code, acks.details.field]).toEqual(['INVALID_REQUEST', 'acks']);
    expect((await rejection(p.send({ topic: 't', messages: [{ value: 'x' }], acks: 2 }))).code).toBe('INVALID_REQUEST');
    expect((await rejection(p.send({ topic: 't', messages: [{ value: 'x' }], timeout: 0 }))).details.field).toBe('timeout');
    expect((await rejection(p.send({ topic: 't', messages: 'x' as never }))).code).toBe('INVALID_REQUEST');
    expect((await rejection(p.sendBatch({ topicMessages: [{ topic: 7 as never, messages: [] }] }))).code).toBe('INVALID_REQUEST');
  });

  it('fails the send of a custom partitioner that answers a partition the topic lacks', async () => {
    const { fake, producer } = harness();
    fake.createTopic('t', { partitions: 2 });
    const partitioner: Partitioner = { partition: ({ key }) => (key === null ? 0 : 5) };
    const p = producer({ partitioner });
    const error = await rejection(p.send({ topic: 't', messages: [{ key: 'k', value: 'x' }] }));
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('returned 5');
    expect((await p.send({ topic: 't', messages: [{ value: 'y' }] }))[0].partition).toBe(0);
  });
});
