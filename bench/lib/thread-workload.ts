/**
 * Benchmark workloads that run as thread tasks (see src/runtime/thread-tasks.ts), one per worker
 * thread, each on the partitions its own thread hosts: the producer encodes and the partitions
 * append on the same thread, with no message between them, which is how the runtime scales with
 * threads when clients are spread over them (stream tasks are placed the same way).
 *
 * The tasks of one measurement start together: each prepares (its events, its client, a warm-up
 * share of the work), then waits at `barrier` until all have, so that the measured span is the work and not one thread's setup
 * overlapping another's run (generating a thread's events took up to a second, so tasks started
 * together still began producing far apart). Producers cycle over a small pool of distinct
 * events, as bench/produce-consume.ts does, and keep a bounded number of sends unacknowledged, as
 * an application awaiting its sends does: with every event of the run retained and every send
 * issued at once, each thread's heap held all of them, its garbage collection cost as much CPU as
 * the producing it measured, and the collectors' helper threads took the cores the producers were
 * being scaled over.
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
  /** One Int32 over a SharedArrayBuffer, zero at first, shared by the `tasks` tasks of a measurement. */
  readonly barrier: Int32Array;
  readonly tasks: number;
}

export interface ThreadWorkloadResult {
  readonly slot: number;
  readonly records: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** Distinct events a producer cycles over. */
const POOL_SIZE = 10_000;
const SEND_SIZE = 1000;
/** Sends a producer keeps unacknowledged, as an application awaiting its sends would: enough for full batches on every partition, far less than all of them. */
const IN_FLIGHT_SENDS = 32;
/**
 * Each task warms up, untimed, before the barrier, for at least `WARM_UP_RECORDS` and at least
 * `WARM_UP_MS`. A fresh worker thread runs the client code interpreted until its compiler has
 * caught up, and the functions that run once per batch or per fetch become hot only after
 * thousands of calls. With a warm-up of 50,000 records the measured span held about 150 ms of
 * compiling per thread (--trace-opt); with 500,000, a producer's rate on one thread was a third
 * higher. A consumer reads 500,000 records in ~500 fetches, so with that alone its per-fetch
 * functions (the fetcher's budget, the log read, delivery) were still compiled in the timed span:
 * a lone thread hands that work to the idle core, two threads must share theirs with it, and
 * two threads measured ~1.6× one instead of ~1.7–1.8× once a second's warm-up had compiled it.
 * Steady-state code is what a long-running application runs.
 */
const WARM_UP_RECORDS = 500_000;
const WARM_UP_MS = 1000;

const now = () => performance.timeOrigin + performance.now();

/** A barrier for the tasks of a measurement, to go once all are ready. */
export function newBarrier(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Counts this task as ready and resolves once every task is; polls each millisecond rather than blocking the thread, whose partitions keep serving. */
async function startTogether(input: ThreadWorkloadInput): Promise<void> {
  Atomics.add(input.barrier, 0, 1);
  while (Atomics.load(input.barrier, 0) < input.tasks) await new Promise((resolve) => setTimeout(resolve, 1));
}

function localPartitions(context: ThreadTaskContext<ThreadWorkloadInput>): number[] {
  const { partitions } = context.client.topic(context.input.topic);
  return Array.from({ length: partitions }, (_, p) => p).filter((p) => context.client.slotOf(context.input.topic, p) === context.slot);
}

async function report(context: ThreadTaskContext<ThreadWorkloadInput>, result: ThreadWorkloadResult): Promise<void> {
  const producer = new Producer(context.client);
  await producer.send({ topic: context.input.resultsTopic, messages: [{ value: JSON.stringify(result) }] });
  await producer.disconnect();
}

/**
 * Produces click events round-robin over this thread's partitions of `topic`: a warm-up of
 * `WARM_UP_RECORDS` at a time until `WARM_UP_MS` have passed, then, timed, `records` more.
 */
export async function produceLocal(context: ThreadTaskContext<ThreadWorkloadInput>): Promise<void> {
  const partitions = localPartitions(context);
  const { topic, records } = context.input;
  const pool = new ClickStream({ seed: 42 + context.slot }).records(POOL_SIZE);
  const producer = new Producer(context.client);
  const produce = async (first: number, count: number): Promise<void> => {
    const sends: Promise<unknown>[] = [];
    for (let i = first; i < first + count; i += SEND_SIZE) {
      if (sends.length === IN_FLIGHT_SENDS) await sends.shift();
      const messages = new Array(Math.min(SEND_SIZE, first + count - i));
      for (let j = 0; j < messages.length; j++) {
        const { key, value, timestamp } = pool[(i + j) % pool.length];
        messages[j] = { key, value, timestamp, partition: partitions[(i + j) % partitions.length] };
      }
      sends.push(producer.send({ topic, messages }));
    }
    await Promise.all(sends);
    await producer.flush();
  };
  const warmUpEnds = now() + WARM_UP_MS;
  let warmUp = 0;
  do {
    await produce(warmUp, WARM_UP_RECORDS);
    warmUp += WARM_UP_RECORDS;
  } while (now() < warmUpEnds);
  await startTogether(context.input);
  const startedAt = now();
  await produce(warmUp, records);
  const endedAt = now();
  await producer.disconnect();
  await report(context, { slot: context.slot, records, startedAt, endedAt });
}

/**
 * Reads this thread's partitions of `topic` from the beginning: the first `WARM_UP_RECORDS`,
 * again from the beginning until `WARM_UP_MS` have passed (the producer's warm-up wrote at least
 * that many, so no extra data is needed), then, timed, `records` more.
 */
export async function consumeLocal(context: ThreadTaskContext<ThreadWorkloadInput>): Promise<void> {
  const consumer = new Consumer(context.client, { maxWaitTimeInMs: 50 });
  const partitions = localPartitions(context);
  consumer.assign(partitions.map((partition) => ({ topic: context.input.topic, partition, offset: 0 })));
  // One iteration across the barrier: leaving a for-await loop would end it and drop what was fetched.
  const batches = consumer.batches();
  const consumeUntil = async (total: number, count: number): Promise<number> => {
    while (count < total) {
      const { value, done } = await batches.next();
      if (done) break;
      count += value.messages.length;
    }
    return count;
  };
  const warmUpEnds = now() + WARM_UP_MS;
  let warmedUp = await consumeUntil(WARM_UP_RECORDS, 0);
  while (now() < warmUpEnds) {
    for (const partition of partitions) consumer.seek({ topic: context.input.topic, partition, offset: 0 });
    warmedUp = await consumeUntil(WARM_UP_RECORDS, 0);
  }
  await startTogether(context.input);
  const startedAt = now();
  const count = (await consumeUntil(WARM_UP_RECORDS + context.input.records, warmedUp)) - warmedUp;
  const endedAt = now();
  await batches.return?.();
  await consumer.disconnect();
  await report(context, { slot: context.slot, records: count, startedAt, endedAt });
}
