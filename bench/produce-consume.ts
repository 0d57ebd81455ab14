/**
 * Produce and consume through the embedded runtime: 100-byte JSON click events, 8 partitions.
 *
 *   npm run bench [-- --records 1000000 --threads 2 --partitions 8 --seconds 3 --linger-ms 5 --latency-linger-ms 0,5 --flush interval --max-rate 1500000]
 *
 * Measures, in one run:
 *   - produce rate: the producer's maximum throughput (sends of 1,000 records each, as many in
 *     flight as `bufferMemory` admits), until every record is acknowledged (acks -1, idempotent),
 *     after the same producer has sent 500,000 records untimed to a scratch topic;
 *   - consume rate: a consumer reading every partition from the beginning, records handed to the
 *     application as decoded key/value Buffers (the `batches()` iterator); three passes, each with
 *     a fresh consumer, and the median reported (all three are in the JSON), starting 1.5 s after
 *     producing ended, once the produced records have been fdatasynced;
 *   - produce latency at fixed offered loads (10%, 25% and 50% of the measured maximum): every
 *     millisecond a send of the due records, each send's time to acknowledgement recorded in an
 *     HDR histogram; p50 / p99 / p99.9. Once per `--latency-linger-ms` value, each with a producer
 *     of that `lingerMs` that first sends for 0.5 s untimed (its code compiled): 0 (sent as soon as the caller yields, what latency-sensitive
 *     applications configure, as Kafka's latency benchmarks set linger.ms=0) and 5 (the default,
 *     where most of the median is the linger). `--max-rate` fixes the rate the loads are
 *     fractions of, so that two builds (whose measured maxima differ) are compared at the same
 *     offered loads.
 * Beside each rate, the CPU its phase cost per record: on the main thread (which runs the producer
 * and consumer; Linux only) and in the whole process (worker threads included). On a shared
 * machine these move far less than the rates do. Prints a table and writes
 * bench/results/produce-consume.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build as buildHistogram, type Histogram } from 'hdr-histogram-js';
import { open, type Producer } from '../src/index.js';
import { ClickStream, type ClickRecord } from '../src/workload/click-events.js';
import { Progress, formatRate, printTable, writeResults, type Row } from './lib/report.js';
import { mainThreadCpuMs } from './lib/thread-cpu.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    partitions: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '3' },
    'linger-ms': { type: 'string' },
    'latency-linger-ms': { type: 'string', default: '0,5' },
    flush: { type: 'string', default: 'interval' },
    'max-rate': { type: 'string' },
  },
});
const RECORDS = Number(args.records);
const THREADS = Number(args.threads);
const PARTITIONS = Number(args.partitions);
const LOAD_SECONDS = Number(args.seconds);
const SEND_SIZE = 1000;
const LOAD_FRACTIONS = [0.1, 0.25, 0.5];
/** Untimed sending at the lowest load before a producer's latency is measured. */
const WARM_UP_SECONDS = 0.5;
/**
 * Records the max-rate producer sends, untimed, to a scratch topic first, so that its code (and the
 * partitions') is compiled: 1M records take ~0.5 s, of which a cold start took ~10%.
 */
const WARM_UP_RECORDS = 500_000;
/** Consume passes over the produced records; the median is reported (a single pass swings with the neighbours' load). */
const CONSUME_PASSES = 3;
/** Wait between producing and consuming: for the interval fdatasyncs to write back what producing left dirty. */
const SETTLE_MS = 1500;
/** The lingerMs of the producer whose maximum rate is measured: its default (5 ms) unless given. */
const LINGER_MS = args['linger-ms'] === undefined ? undefined : Number(args['linger-ms']);
/** The latency topic's fsync policy (the topic default, 'interval', unless given). */
const FLUSH = args.flush as 'never' | 'interval' | 'always';
/** The lingerMs of the producers whose latency is measured, one round of offered loads each. */
const LATENCY_LINGERS = args['latency-linger-ms']!.split(',').map(Number);
if (LATENCY_LINGERS.some((linger) => !Number.isInteger(linger) || linger < 0)) throw new Error(`--latency-linger-ms takes integers >= 0, got ${args['latency-linger-ms']}`);
/** Records/s the offered loads are fractions of: the measured maximum unless given. */
const MAX_RATE = args['max-rate'] === undefined ? undefined : Number(args['max-rate']);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-pc-'));
// A pool of distinct events, cycled: a million retained messages would make the benchmark's own
// garbage collection (a ~400 MB heap) dominate the latency tail it is trying to measure. The pool
// is let go while consuming and made again (the same events) for the latency phase: held, its
// ~100 MB made every full collection of the consume phase mark it, and took ~20% off the rate.
const POOL_SIZE = Math.min(RECORDS, 100_000);
type PooledMessage = Pick<ClickRecord, 'key' | 'value' | 'timestamp'>;
const makePool = (): PooledMessage[] => new ClickStream({ seed: 42 }).records(POOL_SIZE).map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp }));
let pool: PooledMessage[] = makePool();
/** `count` messages starting at position `start` of the endless cycle over the pool. */
function messagesAt(start: number, count: number): PooledMessage[] {
  const out: PooledMessage[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = pool[(start + i) % POOL_SIZE];
  return out;
}
interface CpuStart {
  readonly main: number | null;
  readonly process: NodeJS.CpuUsage;
}

interface CpuPerRecord {
  /** Nanoseconds of main-thread CPU per record; null where it cannot be read. */
  readonly main: number | null;
  /** Nanoseconds of CPU per record, every thread of the process together. */
  readonly process: number;
}

function startCpu(): CpuStart {
  return { main: mainThreadCpuMs(), process: process.cpuUsage() };
}

function cpuPerRecord(start: CpuStart, count: number): CpuPerRecord {
  const usage = process.cpuUsage(start.process);
  const main = mainThreadCpuMs();
  return {
    main: main === null || start.main === null ? null : ((main - start.main) * 1e6) / count,
    process: ((usage.user + usage.system) * 1000) / count,
  };
}

function cpuColumns(cpu: CpuPerRecord): Row {
  return { 'main-thread CPU ns/rec': cpu.main === null ? 'n/a' : cpu.main.toFixed(0), 'process CPU ns/rec': cpu.process.toFixed(0) };
}

/**
 * Offers `offered` records/s for `seconds`: every millisecond a send of the records due by then,
 * each send's time to acknowledgement (µs) recorded in `histogram` unless it is null. Answers the
 * rate achieved.
 */
async function offerLoad(producer: Producer, offered: number, seconds: number, histogram: Histogram | null): Promise<number> {
  const inFlight: Promise<unknown>[] = [];
  const loadStart = performance.now();
  let sent = 0;
  let next = 0;
  while (performance.now() - loadStart < seconds * 1000) {
    const due = Math.floor(((performance.now() - loadStart) / 1000) * offered) - sent;
    if (due > 0) {
      const batch = messagesAt(next, due);
      next += due;
      sent += due;
      const sendStart = performance.now();
      const acked = producer.send({ topic: 'latency', messages: batch });
      inFlight.push(histogram === null ? acked : acked.then(() => histogram.recordValue(Math.max(1, Math.round((performance.now() - sendStart) * 1000)))));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return sent / ((performance.now() - loadStart) / 1000);
}

const progress = new Progress(1 + CONSUME_PASSES + LOAD_FRACTIONS.length * LATENCY_LINGERS.length);
const rt = await open({ dir, threads: THREADS });

try {
  await rt.admin.createTopic('clicks', { partitions: PARTITIONS });
  await rt.admin.createTopic('latency', { partitions: PARTITIONS, flush: FLUSH });

  // Maximum produce rate.
  const producer = rt.producer(LINGER_MS === undefined ? {} : { lingerMs: LINGER_MS });
  const sendAll = async (topic: string, count: number): Promise<void> => {
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < count; i += SEND_SIZE) sends.push(producer.send({ topic, messages: messagesAt(i, Math.min(SEND_SIZE, count - i)) }));
    await Promise.all(sends);
  };
  // The scratch topic is never fdatasynced and is deleted before the timed sends, so that no
  // writeback of it overlaps them.
  await rt.admin.createTopic('warm-up', { partitions: PARTITIONS, flush: 'never' });
  await sendAll('warm-up', WARM_UP_RECORDS);
  await rt.admin.deleteTopic('warm-up');
  let cpu = startCpu();
  let started = performance.now();
  await sendAll('clicks', RECORDS);
  const produceRate = RECORDS / ((performance.now() - started) / 1000);
  const produceCpu = cpuPerRecord(cpu, RECORDS);
  progress.step(`produce ${formatRate(produceRate)} rec/s`);

  // Consume rate: the median of CONSUME_PASSES passes, each a fresh consumer reading everything,
  // once the interval timer has fdatasynced what the produce phase wrote, so
  // that the consumer does not share the two cores with that writeback (which took 10-15% off).
  pool = [];
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const consumePasses: { rate: number; cpu: CpuPerRecord }[] = [];
  for (let pass = 0; pass < CONSUME_PASSES; pass++) {
    const consumer = rt.consumer({ maxWaitTimeInMs: 100 });
    await consumer.subscribe({ topic: 'clicks', fromBeginning: true });
    cpu = startCpu();
    started = performance.now();
    let consumed = 0;
    let valueBytes = 0;
    for await (const batch of consumer.batches()) {
      for (const message of batch.messages) valueBytes += message.value === null ? 0 : message.value.length;
      consumed += batch.messages.length;
      if (consumed >= RECORDS) break;
    }
    const rate = consumed / ((performance.now() - started) / 1000);
    consumePasses.push({ rate, cpu: cpuPerRecord(cpu, consumed) });
    if (consumed !== RECORDS || valueBytes === 0) throw new Error(`consumed ${consumed} of ${RECORDS} records`);
    await consumer.disconnect();
    progress.step(`consume pass ${pass + 1}: ${formatRate(rate)} rec/s`);
  }
  const { rate: consumeRate, cpu: consumeCpu } = [...consumePasses].sort((a, b) => a.rate - b.rate)[CONSUME_PASSES >> 1];

  await producer.disconnect();

  pool = makePool();
  // Latency at fixed offered loads, for each producer setting.
  const latencies: { lingerMs: number; load: number; offered: number; achieved: number; p50: number; p99: number; p999: number; max: number }[] = [];
  for (const lingerMs of LATENCY_LINGERS) {
    const producer = rt.producer({ lingerMs });
    // Untimed, so that the new producer's code paths are compiled before they are measured.
    await offerLoad(producer, (MAX_RATE ?? produceRate) * LOAD_FRACTIONS[0], WARM_UP_SECONDS, null);
    for (const fraction of LOAD_FRACTIONS) {
      const offered = (MAX_RATE ?? produceRate) * fraction;
      const histogram = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
      const achieved = await offerLoad(producer, offered, LOAD_SECONDS, histogram);
      const ms = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000;
      latencies.push({ lingerMs, load: fraction, offered, achieved, p50: ms(50), p99: ms(99), p999: ms(99.9), max: histogram.maxValue / 1000 });
      progress.step(`lingerMs ${lingerMs}, ${fraction * 100}% load: p99 ${ms(99).toFixed(2)} ms`);
    }
    await producer.disconnect();
  }
  progress.finish();

  console.log(`\nproduce/consume: ${RECORDS} click events (~100 B), ${PARTITIONS} partitions, ${THREADS} threads, acks -1, idempotent, lingerMs ${LINGER_MS ?? '5 (default)'}\n`);
  printTable([
    { measure: 'produce (max)', 'records/s': formatRate(produceRate), ...cpuColumns(produceCpu) },
    { measure: `consume (median of ${CONSUME_PASSES})`, 'records/s': formatRate(consumeRate), ...cpuColumns(consumeCpu) },
  ]);
  console.log('');
  const latencyRows: Row[] = latencies.map((l) => ({
    lingerMs: l.lingerMs,
    'offered load': `${(l.load * 100).toFixed(0)}% (${formatRate(l.offered)}/s)`,
    achieved: formatRate(l.achieved),
    'p50 ms': l.p50.toFixed(2),
    'p99 ms': l.p99.toFixed(2),
    'p99.9 ms': l.p999.toFixed(2),
    'max ms': l.max.toFixed(2),
  }));
  printTable(latencyRows);
  console.log(`\nwrote ${writeResults('produce-consume', { records: RECORDS, lingerMs: LINGER_MS ?? 5, threads: THREADS, partitions: PARTITIONS, maxRate: MAX_RATE ?? null, produceRecordsPerSec: produceRate, consumeRecordsPerSec: consumeRate, consumePassesRecordsPerSec: consumePasses.map((p) => p.rate), produceCpuNsPerRecord: produceCpu, consumeCpuNsPerRecord: consumeCpu, latency: latencies })}`);
} finally {
  await rt.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
