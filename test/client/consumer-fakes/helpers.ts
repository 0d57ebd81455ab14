/**
 * Shared pieces of the consumer tests: a fake client closed after each test, record builders,
 * and polling helpers with deadlines (so a broken consumer fails a test instead of hanging it).
 */
import { afterEach } from 'vitest';
import type { GroupCoordinatorOptions } from '../../../src/group/group-coordinator.js';
import type { RecordInput } from '../../../src/record/index.js';
import { FakePartitionClient } from './fake-partition-client.js';

export { FakePartitionClient };

/** Registers an afterEach that disconnects the consumers and closes the clients this made. */
interface Disconnectable {
  disconnect(): Promise<void>;
}

export function fakes(): { client(options?: GroupCoordinatorOptions): FakePartitionClient; track<C extends Disconnectable>(consumer: C): C } {
  const clients: FakePartitionClient[] = [];
  const consumers: Disconnectable[] = [];
  afterEach(async () => {
    for (const consumer of consumers.splice(0)) await consumer.disconnect();
    for (const client of clients.splice(0)) client.close();
  });
  return {
    client: (options) => {
      const client = new FakePartitionClient(options);
      clients.push(client);
      return client;
    },
    track: (consumer) => {
      consumers.push(consumer);
      return consumer;
    },
  };
}

/** `count` records with values `${prefix}-${i}` and keys `k${i}`, numbered from `from`. */
export function records(prefix: string, count: number, from = 0): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `${prefix}-${from + i}` }));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `condition` holds; fails after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** The first `count` items of an async iterable, breaking out of it afterwards; fails after `timeoutMs`. */
export async function take<T>(iterable: AsyncIterable<T>, count: number, timeoutMs = 3000): Promise<T[]> {
  const items: T[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  try {
    while (items.length < count) {
      const remaining = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms with ${items.length} of ${count} items`)), Math.max(remaining, 0));
      });
      const result = await Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer));
      if (result.done === true) break;
      items.push(result.value);
    }
  } finally {
    await iterator.return?.();
  }
  return items;
}
