/**
 * The producer's cost on the calling thread, alone: `Producer` over a client that answers every
 * append at once, so no worker thread, log or fsync is measured, only what `send` costs the
 * application's thread (validation, partitioning, batching, encoding, CRC, completion) and the
 * garbage it leaves for the collector.
 *
 *   npx tsx bench/producer-path.ts [--records 2000000 --repeats 5 --partitions 8 --workload buffers]
 *                                  [--send-size 1000 --sends-per-turn 64 --linger-ms 5]
 *
 * Workloads, all the shared 100-byte click events in sends of `--send-size` messages, with
 * `--sends-per-turn` sends per turn of the event loop (so, by default, full batches; with
 * `--send-size 100 --sends-per-turn 1 --linger-ms 0`, batches of a dozen records, as at low load):
 *   - buffers: keys and values as Buffers (what `npm run bench` sends);
 *   - strings: keys and values as strings (what most applications send: `JSON.stringify(event)`);
 *   - headers: string keys and values with one header each.
 * The client detaches a transferred batch's ArrayBuffer as the runtime does (structuredClone with
 * a transfer list), so the producer cannot keep a buffer it hands over. For each workload: the
 * median over `repeats` of records/s (wall), CPU ns per record (process CPU time, GC threads
 * included) and the share of wall time spent in GC pauses. Prints a table and writes
 * bench/results/producer-path.json.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Producer, type ProducerMessage } from '../src/client/producer.js';
import { RECORD_COUNT_OFFSET } from '../src/record/batch-header.js';
import type { AppendResponse, GroupRef, RequestType, WorkerRequests } from '../src/runtime/messages.js';
import type { PartitionClient, ProducerIdentity, TopicMetadata } from '../src/runtime/partition-client.js';
import { ClickStream } from '../src/workload/click-events.js';
import { formatRate, median, printTable, writeResults, type Row } from './lib/report.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    repeats: { type: 'string', default: '5' },
    partitions: { type: 'string', default: '8' },
    workload: { type: 'string' },
    'send-size': { type: 'string', default: '1000' },
    'sends-per-turn': { type: 'string', default: '64' },
    'linger-ms': { type: 'string' },
  },
});
const RECORDS = Number(args.records);
const REPEATS = Number(args.repeats);
const PARTITIONS = Number(args.partitions);
const SEND_SIZE = Number(args['send-size']);
const SENDS_PER_TURN = Number(args['sends-per-turn']);
const LINGER_MS = args['linger-ms'] === undefined ? undefined : Number(args['linger-ms']);
const POOL_SIZE = 100_000;

/** Answers appends immediately with made-up offsets; detaches transferred buffers as a real thread hop would. */
class InstantClient implements PartitionClient {
  private readonly offsets: number[] = new Array<number>(PARTITIONS).fill(0);
  private readonly metadata: TopicMetadata = { name: 'clicks', partitions: PARTITIONS, compression: 'producer', timestampType: 'create' };

  topic(): TopicMetadata {
    return this.metadata;
  }

  initProducerId(): Promise<ProducerIdentity> {
    return Promise.resolve({ producerId: 1, producerEpoch: 0 });
  }

  groupCoordinator(): Promise<GroupRef> {
    return Promise.reject(new Error('the producer benchmark has no groups'));
  }

  request<T extends Exclude<RequestType, 'applyRetention' | 'flush'>>(type: T, args: WorkerRequests[T]['args'], transfer?: readonly ArrayBuffer[]): Promise<WorkerRequests[T]['result']> {
    if (type !== 'append') return Promise.reject(new Error(`the producer benchmark answers appends only, got ${type}`));
    const { partition, batch } = args as WorkerRequests['append']['args'];
    const count = new DataView(batch.buffer, batch.byteOffset).getInt32(RECORD_COUNT_OFFSET);
    if (transfer !== undefined && transfer.length > 0) structuredClone(transfer[0], { transfer: [transfer[0]] });
    const baseOffset = this.offsets[partition];
    this.offsets[partition] = baseOffset + count;
    const response: AppendResponse = { baseOffset, lastOffset: baseOffset + count - 1, logStartOffset: 0, duplicate: false };
    return Promise.resolve(response as WorkerRequests[T]['result']);
  }
}

type Message = ProducerMessage<Buffer | string, Buffer | string>;

function workloads(): Record<string, Message[]> {
  const events = new ClickStream({ seed: 42 }).records(POOL_SIZE);
  return {
    buffers: events.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp })),
    strings: events.map((r) => ({ key: r.key.toString(), value: r.value.toString(), timestamp: r.timestamp })),
    headers: events.map((r) => ({ key: r.key.toString(), value: r.value.toString(), timestamp: r.timestamp, headers: { source: 'web' } })),
  };
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

interface Sample {
  readonly rate: number;
  readonly cpuNs: number;
  readonly gcShare: number;
}

async function runOnce(pool: readonly Message[]): Promise<Sample> {
  const producer = new Producer(new InstantClient(), LINGER_MS === undefined ? {} : { lingerMs: LINGER_MS });
  await producer.connect();
  const sends: Promise<unknown>[] = [];
  const gcBefore = gcMs;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < RECORDS; i += SEND_SIZE) {
    const messages: Message[] = new Array(SEND_SIZE);
    for (let m = 0; m < SEND_SIZE; m++) messages[m] = pool[(i + m) % POOL_SIZE];
    sends.push(producer.send({ topic: 'clicks', messages }));
    // Let answers in, as an application producing from an event loop would.
    if (sends.length % SENDS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(sends);
  await producer.disconnect();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // GC entries are delivered asynchronously: wait a turn so this run's are counted.
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { rate: RECORDS / seconds, cpuNs: ((cpu.user + cpu.system) * 1000) / RECORDS, gcShare: (gcMs - gcBefore) / (seconds * 1000) };
}

const rows: Row[] = [];
const results: Record<string, Sample> = {};
for (const [name, pool] of Object.entries(workloads())) {
  if (args.workload !== undefined && args.workload !== name) continue;
  await runOnce(pool); // warm-up: JIT and heap sizing
  const samples: Sample[] = [];
  for (let r = 0; r < REPEATS; r++) samples.push(await runOnce(pool));
  const sample = { rate: median(samples.map((s) => s.rate)), cpuNs: median(samples.map((s) => s.cpuNs)), gcShare: median(samples.map((s) => s.gcShare)) };
  results[name] = sample;
  rows.push({ workload: name, 'records/s': formatRate(sample.rate), 'CPU ns/record': sample.cpuNs.toFixed(0), 'GC share': `${(sample.gcShare * 100).toFixed(1)}%` });
}
console.log(
  `\nproducer path: ${RECORDS} click events per run, ${PARTITIONS} partitions, sends of ${SEND_SIZE}, ${SENDS_PER_TURN} per turn, lingerMs ${LINGER_MS ?? '5 (default)'}, medians of ${REPEATS}\n`,
);
printTable(rows);
console.log(`\nwrote ${writeResults('producer-path', { records: RECORDS, partitions: PARTITIONS, sendSize: SEND_SIZE, sendsPerTurn: SENDS_PER_TURN, lingerMs: LINGER_MS ?? 5, repeats: REPEATS, results })}`);
