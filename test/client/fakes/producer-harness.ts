import { TributaryError } from '../../../src/errors.js';
/**
 * Per-test setup of the producer suites: a fake client with topics, producers that are
 * disconnected and a client that is closed after each test, whatever the test left pending.
 */
import { afterEach, expect, vi } from 'vitest';
import { Producer, type ProducerOptions } from '../../../src/client/producer.js';
import { FakePartitionClient } from './fake-partition-client.js';

export interface Harness {
  readonly fake: FakePartitionClient;
  producer<K = Buffer | string | null, V = Buffer | string | null>(options?: ProducerOptions<K, V>): Producer<K, V>;
}

/** Call at the top of a describe block or file; returns a getter of the current test's harness. */
export function useHarness(): () => Harness {
  let current: { fake: FakePartitionClient; producers: Producer<unknown, unknown>[] } | null = null;
  afterEach(async () => {
    if (current === null) return;
    const { fake, producers } = current;
    current = null;
    fake.release();
    let closed = false;
    const closing = Promise.all(producers.map((producer) => producer.disconnect())).then(() => (closed = true));
    // Timers set under a fake clock fire only on that clock: drive it until the producers have flushed.
    if (vi.isFakeTimers()) for (let i = 0; i < 200 && !closed; i++) await vi.advanceTimersByTimeAsync(1_000);
    await closing;
    vi.useRealTimers();
    fake.close();
  });
  return () => {
    if (current === null) current = { fake: new FakePartitionClient(), producers: [] };
    const state = current;
    return {
      fake: state.fake,
      producer: <K, V>(options?: ProducerOptions<K, V>) => {
        const producer = new Producer<K, V>(state.fake, options);
        state.producers.push(producer as Producer<unknown, unknown>);
        return producer;
      },
    };
  };
}

/** The settled state of a promise without awaiting it further than the microtasks already queued. */
export async function peek<T>(promise: Promise<T>): Promise<'pending' | 'resolved' | 'rejected'> {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return state;
}

/** Rejection of `promise`, asserted to be a TributaryError. */
export async function rejection(promise: Promise<unknown>): Promise<TributaryError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TributaryError);
  return error as TributaryError;
}
