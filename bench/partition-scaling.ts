/**
 * Partition scaling: throughput against worker threads and partitions.
 *
 *   npm run bench:scaling [-- --records 400000 --records-per-thread 4000000 --max-threads 16 --rounds 3]
 *
 * For threads 1, 2, 4, … up to the core count (and the core count itself) and partitions
 * 1, 2, 4, … 64, it measures on a fresh runtime:
 *   - partition append: already-encoded 64 KiB batches of click events appended through the
 *     runtime's message contract, several in flight per partition — the work the worker threads
 *     do (validate, dedup, append, group commit), without the producer's encoding, which runs on
 *     the producing thread;
 *   - partition fetch: every partition read back from offset 0 in 1 MiB fetches, bytes only;
 *   - end-to-end produce and consume: `rt.producer()` and `rt.consumer()` on the main thread
 *     (encode and decode included), so these are bounded by one client thread;
 *   - produce and consume with a client on every thread: one thread task per worker thread, all
 *     started together (bench/lib/thread-workload.ts), each producing `--records-per-thread` events
 *     of its own to, then consuming them from, the partitions its own thread hosts — encoding, append,
 *     fetch and decode all on that thread, with no message between client and partition. Every
 *     thread does the same work whatever the thread count (a share of a fixed total would shrink
 *     each thread's run as threads are added, until a fresh thread's start-up costs, which do not
 *     shrink, made up much of it); each first warms up, untimed, for at least 500,000 records
 *     and a second, so that its code is compiled (see thread-workload.ts). Its topic has
 *     `flush: 'never'` (Kafka's own default: fsync left to the OS), so that what is measured is
 *     the threads' work and not the disk: under the default `interval`, every second's appends
 *     are fdatasynced within the next second, so a run long enough to be steady is capped by the
 *     disk's write bandwidth (here ~380 MB/s, ~3.6M click events/s, which one thread already
 *     reaches), and a run short enough to fit in the page cache measures whether a tick of the
 *     fsync timer fell into it. Measured where partitions >= threads.
 *
 * The whole grid runs `--rounds` times, and each cell reports its median over the rounds. Within a
 * round, the thread counts of one partition count run one after another, so that the speed-up of
 * N threads over one is a ratio of runs minutes apart at most: the machines this runs on are
 * shared, and their speed drifts over the minutes a round takes. The speed-up table is the median
 * over rounds of each round's own ratio.
 *
 * Prints the tables, writes bench/results/partition-scaling.json (medians, speed-ups and every
 * round's figures) and an SVG chart of records/s against threads
 * (bench/results/partition-scaling.svg).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { open, type Tributary } from '../src/index.js';
import { encodeRecordBatch } from '../src/record/index.js';
import { transferListFor } from '../src/runtime/messages.js';
import { ClickStream } from '../src/workload/click-events.js';
import { lineChartSvg } from './lib/chart.js';
import { Progress, formatRate, median, printTable, writeResults, type Row } from './lib/report.js';
import { newBarrier, type ThreadWorkloadInput, type ThreadWorkloadResult } from './lib/thread-workload.js';

const workloadUrl = pathToFileURL(path.join(import.meta.dirname, 'lib', 'thread-workload.ts')).href;

const cores = os.availableParallelism();
const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '400000' },
    'records-per-thread': { type: 'string', default: '4000000' },
    'max-threads': { type: 'string', default: String(cores) },
    partitions: { type: 'string', default: '1,2,4,8,16,32,64' },
    rounds: { type: 'string', default: '3' },
  },
});
const RECORDS = Number(args.records);
const RECORDS_PER_THREAD = Number(args['records-per-thread']);
const MAX_THREADS = Math.min(Number(args['max-threads']), cores);
const PARTITION_COUNTS = args.partitions.split(',').map(Number);
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, got '${args.rounds}'`);
const THREAD_COUNTS = [...new Set([...Array.from({ length: Math.floor(Math.log2(MAX_THREADS)) + 1 }, (_, i) => 2 ** i), MAX_THREADS])].sort((a, b) => a - b);
const RECORDS_PER_BATCH = 550; // ~64 KiB of click events
const IN_FLIGHT_PER_PARTITION = 4;

const records = new ClickStream({ seed: 42 }).records(RECORDS);
const encoded: Buffer[] = [];
for (let i = 0; i < RECORDS; i += RECORDS_PER_BATCH) encoded.push(encodeRecordBatch(records.slice(i, i + RECORDS_PER_BATCH)));
const messages = records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp }));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-scaling-'));

/** Appends every pre-encoded batch, spread round-robin over the partitions, a few in flight per partition. */
async function partitionAppend(rt: Tributary, topic: string, partitions: number): Promise<number> {
  const started = performance.now();
  const queues: Buffer[][] = Array.from({ length: partitions }, () => []);
  encoded.forEach((batch, i) => queues[i % partitions].push(batch));
  await Promise.all(
    queues.flatMap((queue, partition) =>
      Array.from({ length: IN_FLIGHT_PER_PARTITION }, async () => {
        for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
          const copy = Buffer.from(batch); // its own ArrayBuffer, so it can be transferred
          await rt.runtime.request('append', { topic, partition, batch: copy, acks: -1, logAppendTime: false }, transferListFor(copy));
        }
      }),
    ),
  );
  return RECORDS / ((performance.now() - started) / 1000);
}

async function partitionFetch(rt: Tributary, topic: string, partitions: number): Promise<number> {
  const started = performance.now();
  let bytes = 0;
  await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      let offset = 0;
      for (;;) {
        const result = await rt.runtime.request('fetch', { topic, partition, offset, maxBytes: 1024 * 1024, maxWaitMs: 0, minBytes: 0 });
        if (result.bytes.byteLength === 0) break;
        bytes += result.bytes.byteLength;
        offset = result.nextOffset;
      }
    }),
  );
  if (bytes === 0) throw new Error('fetched nothing');
  return RECORDS / ((performance.now() - started) / 1000);
}

async function produce(rt: Tributary, topic: string): Promise<number> {
  const producer = rt.producer();
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < RECORDS; i += 1000) sends.push(producer.send({ topic, messages: messages.slice(i, i + 1000) }));
  await Promise.all(sends);
  const rate = RECORDS / ((performance.now() - started) / 1000);
  await producer.disconnect();
  return rate;
}

async function consume(rt: Tributary, topic: string): Promise<number> {
  const consumer = rt.consumer({ maxWaitTimeInMs: 50 });
  await consumer.subscribe({ topic, fromBeginning: true });
  const started = performance.now();
  let count = 0;
  for await (const batch of consumer.batches()) {
    count += batch.messages.length;
    if (count >= RECORDS) break;
  }
  const rate = count / ((performance.now() - started) / 1000);
  await consumer.disconnect();
  return rate;
}

/** Runs `workload` as a thread task on every thread, started together, each with RECORDS_PER_THREAD records, and answers the combined rate: all records over the span from the first start to the last end. */
async function onEveryThread(rt: Tributary, workload: 'produceLocal' | 'consumeLocal', topic: string): Promise<number> {
  const resultsTopic = `results-${workload}`;
  await rt.admin.createTopic(resultsTopic, { partitions: 1 });
  const input: ThreadWorkloadInput = { topic, records: RECORDS_PER_THREAD, resultsTopic, barrier: newBarrier(), tasks: rt.threads };
  const tasks = await Promise.all(Array.from({ length: rt.threads }, (_, slot) => rt.runtime.startThreadTask(slot, { moduleUrl: workloadUrl, exportName: workload, input })));
  await Promise.all(tasks.map((task) => task.done));
  const reports: ThreadWorkloadResult[] = [];
  const reader = rt.consumer({ maxWaitTimeInMs: 50 });
  reader.assign([{ topic: resultsTopic, partition: 0, offset: 0 }]);
  for await (const record of reader) {
    reports.push(JSON.parse(record.value!.toString()) as ThreadWorkloadResult);
    if (reports.length === rt.threads) break;
  }
  await reader.disconnect();
  const records = reports.reduce((sum, r) => sum + r.records, 0);
  const span = Math.max(...reports.map((r) => r.endedAt)) - Math.min(...reports.map((r) => r.startedAt));
  return records / (span / 1000);
}

interface Result {
  threads: number;
  partitions: number;
  partitionAppend: number;
  partitionFetch: number;
  produce: number;
  consume: number;
  /** NaN where partitions < threads (a thread would have no partition). */
  produceEveryThread: number;
  consumeEveryThread: number;
}

type Measure = keyof Omit<Result, 'threads' | 'partitions'>;
const MEASURES: readonly Measure[] = ['partitionAppend', 'partitionFetch', 'produce', 'consume', 'produceEveryThread', 'consumeEveryThread'];

async function measureCell(threads: number, partitions: number, round: number): Promise<Result> {
  const dir = path.join(root, `r${round}-t${threads}-p${partitions}`);
  const rt = await open({ dir, threads });
  try {
    await rt.admin.createTopic('raw', { partitions });
    await rt.admin.createTopic('clicks', { partitions });
    // Not fdatasynced: see the module comment.
    await rt.admin.createTopic('local', { partitions, flush: 'never' });
    const spread = partitions >= threads;
    return {
      threads,
      partitions,
      partitionAppend: await partitionAppend(rt, 'raw', partitions),
      partitionFetch: await partitionFetch(rt, 'raw', partitions),
      produce: await produce(rt, 'clicks'),
      consume: await consume(rt, 'clicks'),
      produceEveryThread: spread ? await onEveryThread(rt, 'produceLocal', 'local') : Number.NaN,
      consumeEveryThread: spread ? await onEveryThread(rt, 'consumeLocal', 'local') : Number.NaN,
    };
  } finally {
    await rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The median of the defined values; NaN where there are none (partitions < threads). */
function medianOf(values: readonly number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return defined.length === 0 ? Number.NaN : median(defined);
}

const rounds: Result[][] = [];
const progress = new Progress(ROUNDS * THREAD_COUNTS.length * PARTITION_COUNTS.length);
try {
  for (let round = 0; round < ROUNDS; round++) {
    const cells: Result[] = [];
    for (const partitions of PARTITION_COUNTS) {
      for (const threads of THREAD_COUNTS) {
        const cell = await measureCell(threads, partitions, round);
        cells.push(cell);
        const perThread = Number.isNaN(cell.consumeEveryThread) ? '' : `, consume per thread ${formatRate(cell.consumeEveryThread)}`;
        progress.step(`round ${round + 1}/${ROUNDS}, ${threads} thread(s), ${partitions} partition(s): append ${formatRate(cell.partitionAppend)} rec/s${perThread}`);
      }
    }
    rounds.push(cells);
  }
} finally {
  progress.finish();
  fs.rmSync(root, { recursive: true, force: true });
}

const cellsOf = (threads: number, partitions: number) => rounds.map((cells) => cells.find((c) => c.threads === threads && c.partitions === partitions)!);
const results: Result[] = THREAD_COUNTS.flatMap((threads) =>
  PARTITION_COUNTS.map((partitions) => {
    const samples = cellsOf(threads, partitions);
    const result = { threads, partitions } as Result;
    for (const measure of MEASURES) result[measure] = medianOf(samples.map((s) => s[measure]));
    return result;
  }),
);

/** Speed-up of a client per thread over one thread: the median over rounds of each round's ratio. */
interface SpeedUp {
  threads: number;
  partitions: number;
  produceEveryThread: number;
  consumeEveryThread: number;
}
const speedUps: SpeedUp[] = THREAD_COUNTS.filter((threads) => threads > 1).flatMap((threads) =>
  PARTITION_COUNTS.filter((partitions) => partitions >= threads).map((partitions) => {
    const [these, one] = [cellsOf(threads, partitions), cellsOf(1, partitions)];
    const ratio = (measure: 'produceEveryThread' | 'consumeEveryThread') => medianOf(these.map((cell, round) => cell[measure] / one[round][measure]));
    return { threads, partitions, produceEveryThread: ratio('produceEveryThread'), consumeEveryThread: ratio('consumeEveryThread') };
  }),
);

const rows: Row[] = results.map((r) => ({
  threads: r.threads,
  partitions: r.partitions,
  'partition append rec/s': formatRate(r.partitionAppend),
  'partition fetch rec/s': formatRate(r.partitionFetch),
  'produce rec/s': formatRate(r.produce),
  'consume rec/s': formatRate(r.consume),
  'produce, client per thread': Number.isNaN(r.produceEveryThread) ? '-' : formatRate(r.produceEveryThread),
  'consume, client per thread': Number.isNaN(r.consumeEveryThread) ? '-' : formatRate(r.consumeEveryThread),
}));
console.log(`\npartition scaling: ${RECORDS} click events per run, ${RECORDS_PER_THREAD} per thread with a client per thread, ${cores} cores, medians of ${ROUNDS} round(s)\n`);
printTable(rows);
if (speedUps.length > 0) {
  console.log('\nspeed-up over one thread, client per thread (median over rounds of each round\'s ratio)\n');
  printTable(
    speedUps.map((s) => ({
      threads: s.threads,
      partitions: s.partitions,
      produce: `${s.produceEveryThread.toFixed(2)}×`,
      consume: `${s.consumeEveryThread.toFixed(2)}×`,
    })),
  );
}

// The chart: for each measure, the best rate over partition counts at each thread count.
const best = (measure: Measure) =>
  THREAD_COUNTS.map((threads) => [threads, Math.max(...results.filter((r) => r.threads === threads && !Number.isNaN(r[measure])).map((r) => r[measure]))] as const);
const svg = lineChartSvg(
  [
    { name: 'partition append', points: best('partitionAppend') },
    { name: 'partition fetch', points: best('partitionFetch') },
    { name: 'produce (1 client)', points: best('produce') },
    { name: 'consume (1 client)', points: best('consume') },
    { name: 'produce (client per thread)', points: best('produceEveryThread') },
    { name: 'consume (client per thread)', points: best('consumeEveryThread') },
  ],
  { title: `tributary: records/s against worker threads (${cores} cores)`, xLabel: 'worker threads', yLabel: 'records/s (best over partition counts)' },
);
const json = writeResults('partition-scaling', { records: RECORDS, recordsPerThread: RECORDS_PER_THREAD, cores, rounds: ROUNDS, results, speedUps, samples: rounds });
const chart = path.join(path.dirname(json), 'partition-scaling.svg');
fs.writeFileSync(chart, svg);
console.log(`\nwrote ${json}\nwrote ${chart}`);
