/**
 * Benchmark workloads that run as thread tasks (see src/runtime/thread-tasks.ts), one per worker
 * thread, each on the partitions its own thread hosts: the producer encodes and the partitions
 * append on the same thread, with no message between them, which is how the runtime scales with
 * threads when clients are spread over them (stream tasks are placed the same way).
 *
 * Each task reports what it did as one JSON record in `resultsTopic`, with wall-clock times
 * comparable across threads (`performance.timeOrigin + performance.now()`).
 */
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import type { ThreadTaskContext } from '../../src/runtime/thread-tasks.js';
import { ClickStream } from '../../src/workload/click-events.js';

export interface ThreadWorkloadInput {
  readonly topic: string;
  readonly records: number;
  readonly resultsTopic: string;
}

export interface ThreadWorkloadResult {
  readonly slot: number;
  readonly records: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

const now = () => performance.timeOrigin + performance.now();

function localPartitions(context: ThreadTaskContext<ThreadWorkloadInput>): number[] {
  const { partitions } = context.client.topic(context.input.topic);
  return Array.from({ length: partitions }, (_, p) => p).filter((p) => context.client.slotOf(context.input.topic, p) === context.slot);
}

async function report(context: ThreadTaskContext<ThreadWorkloadInput>, result: ThreadWorkloadResult): Promise<void> {
  const producer = new Producer(context.client);
  await producer.send({ topic: context.input.resultsTopic, messages: [{ value: JSON.stringify(result) }] });
  await producer.disconnect();
}

/** Produces `records` click events round-robin over this thread's partitions of `topic`. */
export async function produceLocal(context: ThreadTaskContext<ThreadWorkloadInput>): Promise<void> {
  const partitions = localPartitions(context);
  const records = new ClickStream({ seed: 42 + context.slot }).records(context.input.records);
  const messages = records.map((r, i) => ({ key: r.key, value: r.value, timestamp: r.timestamp, partition: partitions[i % partitions.length] }));
  const producer = new Producer(context.client);
  const startedAt = now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += 1000) sends.push(producer.send({ topic: context.input.topic, messages: messages.slice(i, i + 1000) }));
  await Promise.all(sends);
  await producer.flush();
  const endedAt = now();
  await producer.disconnect();
  await report(context, { slot: context.slot, records: messages.length, startedAt, endedAt });
}

/** Reads this thread's partitions of `topic` from the beginning until `records` records arrived. */
export async function consumeLocal(context: ThreadTaskContext<ThreadWorkloadInput>): Promise<void> {
  const consumer = new Consumer(context.client, { maxWaitTimeInMs: 50 });
  consumer.assign(localPartitions(context).map((partition) => ({ topic: context.input.topic, partition, offset: 0 })));
  const startedAt = now();
  let count = 0;
  for await (const batch of consumer.batches()) {
    count += batch.messages.length;
    if (count >= context.input.records) break;
  }
  const endedAt = now();
  await consumer.disconnect();
  await report(context, { slot: context.slot, records: count, startedAt, endedAt });
}
