/**
 * Windowed count: events/s of a one-minute tumbling-window count per user over the shared click
 * stream (~100-byte JSON events keyed by user, timestamped by `ts`), already in the log, run by
 * `rt.run` with 1, 2, … N worker threads; and, in the same run, the same count by plain
 * hand-written RxJS on one thread over events already in memory, pre-parsed and as JSON strings.
 *
 *   npx tsx bench/windowed-count.ts [--events 2000000 --repeats 3 --partitions 8 --max-threads N]
 *
 * - rt.run, t threads: a runtime with t worker threads, the topic `clicks` with `--partitions`
 *   partitions spread over them, and a run of t tasks (bench/lib/windowed-count-pipeline.ts), each
 *   reading the partitions of its own thread and writing every closed window to `window-counts`.
 *   Timed from `rt.run()` to `done`, so task start-up, the group's join and the last writes are in
 *   (after one untimed run, in which the threads load the pipeline's modules).
 *   Keys and timestamps are the records' own, so no value is parsed.
 * - plain RxJS, objects / JSON strings: one hand-written operator (a Map of windows, each a Map of
 *   counts per user), over `from(events)`, and over `from(jsons).pipe(map(JSON.parse))`: the
 *   practical bound for a JavaScript pipeline that must parse its events. Nothing is written.
 * Every run must count every event. Figures are medians of `--repeats`. Prints a table, writes
 * bench/results/windowed-count.json and bench/results/windowed-count.svg.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { from, lastValueFrom, map, Observable, reduce, type OperatorFunction } from 'rxjs';
import { open, type Tributary } from '../src/index.js';
import { source } from '../src/streams/index.js';
import { ClickStream, type ClickEvent } from '../src/workload/click-events.js';
import { lineChartSvg } from './lib/chart.js';
import { runBenchArgs } from './lib/run-args.js';
import { Progress, formatRate, median, printTable, seconds, writeResults, type Row } from './lib/report.js';

const { events: EVENTS, repeats: REPEATS, partitions: PARTITIONS, threadCounts: THREAD_COUNTS, cores } = runBenchArgs(2_000_000);
const WINDOW_MS = 60_000;
const PIPELINE = pathToFileURL(path.join(import.meta.dirname, 'lib', 'windowed-count-pipeline.ts'));

/** The plain-RxJS rates, over events generated here and dropped afterwards, so that the runs after them do not share the heap with them. */
function plainRates(): { objects: number; json: number } {
  const stream = new ClickStream({ seed: 42 });
  const events: ClickEvent[] = [];
  const jsons: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const event = stream.nextEvent();
    events.push(event);
    jsons.push(JSON.stringify(event));
  }
  const objects = plainRate(() => from(events).pipe(handWrittenCount()));
  progress.step(`plain RxJS, objects: ${formatRate(objects)} events/s`);
  const json = plainRate(() => from(jsons).pipe(map((text) => JSON.parse(text) as ClickEvent), handWrittenCount()));
  progress.step(`plain RxJS, JSON strings: ${formatRate(json)} events/s`);
  return { objects, json };
}

/** The plain-RxJS count: windows of counts per user, all emitted at the end of the input. */
function handWrittenCount(): OperatorFunction<ClickEvent, number> {
  return (input) =>
    new Observable<number>((subscriber) => {
      const windows = new Map<number, Map<string, number>>();
      return input.subscribe({
        next(event) {
          const start = Math.floor(event.ts / WINDOW_MS) * WINDOW_MS;
          let counts = windows.get(start);
          if (counts === undefined) windows.set(start, (counts = new Map()));
          counts.set(event.user, (counts.get(event.user) ?? 0) + 1);
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          for (const counts of windows.values()) for (const value of counts.values()) subscriber.next(value);
          subscriber.complete();
        },
      });
    });
}

/** Events/s of a synchronous in-memory pipeline, median of REPEATS after a warm-up; checks it counted every event. */
function plainRate(run: () => Observable<number>): number {
  const once = (): number => {
    let counted = 0;
    const start = process.hrtime.bigint();
    run().subscribe((value) => (counted += value));
    const elapsed = seconds(start);
    if (counted !== EVENTS) throw new Error(`plain RxJS counted ${counted} of ${EVENTS} events`);
    return elapsed;
  };
  once();
  return EVENTS / median(Array.from({ length: REPEATS }, once));
}

/** Events/s of rt.run with `threads` threads, median of REPEATS runs over the same log. */
async function runRate(threads: number, root: string): Promise<{ rate: number; runSeconds: number[] }> {
  const rt = await open({ dir: path.join(root, `threads-${threads}`), threads });
  try {
    await rt.admin.createTopic('clicks', { partitions: PARTITIONS });
    await rt.admin.createTopic('window-counts', { partitions: PARTITIONS });
    await produce(rt);
    const runSeconds: number[] = [];
    // A warm-up run first: the threads compile and load the pipeline's modules once.
    for (let repeat = -1; repeat < REPEATS; repeat++) {
      const started = process.hrtime.bigint();
      const run = await rt.run(PIPELINE, { name: `windowed-count-${repeat + 1}`, parallelism: threads });
      await run.done;
      if (repeat >= 0) runSeconds.push(seconds(started));
    }
    const counted = await lastValueFrom(
      source<number>('window-counts', { serde: 'json', to: 'end' }).pipe(reduce((sum, record) => sum + (record.value as unknown as { value: number }).value, 0)),
    );
    if (counted !== EVENTS * (REPEATS + 1)) throw new Error(`rt.run with ${threads} threads counted ${counted} of ${EVENTS * (REPEATS + 1)} events`);
    return { rate: EVENTS / median(runSeconds), runSeconds };
  } finally {
    await rt.close();
  }
}

async function produce(rt: Tributary): Promise<void> {
  const records = new ClickStream({ seed: 42 }).records(EVENTS);
  const producer = rt.producer({ lingerMs: 20 });
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < records.length; i += 2_000) sends.push(producer.send({ topic: 'clicks', messages: records.slice(i, i + 2_000) }));
  await Promise.all(sends);
  await producer.disconnect();
}

const progress = new Progress(2 + THREAD_COUNTS.length);
const { objects: plainObjects, json: plainJson } = plainRates();

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-windowed-count-'));
const runs: Array<{ threads: number; eventsPerSec: number; runSeconds: number[] }> = [];
try {
  for (const threads of THREAD_COUNTS) {
    const { rate, runSeconds } = await runRate(threads, root);
    runs.push({ threads, eventsPerSec: rate, runSeconds });
    progress.step(`rt.run, ${threads} thread(s): ${formatRate(rate)} events/s`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
progress.finish();

const oneThread = runs[0].eventsPerSec;
const rows: Row[] = [
  { pipeline: 'plain RxJS, pre-parsed objects', threads: 1, 'events/s': formatRate(plainObjects), 'vs RxJS over JSON': `${(plainObjects / plainJson).toFixed(2)}x`, 'vs 1 thread': '' },
  { pipeline: 'plain RxJS, JSON strings', threads: 1, 'events/s': formatRate(plainJson), 'vs RxJS over JSON': '1.00x', 'vs 1 thread': '' },
  ...runs.map((run) => ({
    pipeline: 'rt.run, records from the log',
    threads: run.threads,
    'events/s': formatRate(run.eventsPerSec),
    'vs RxJS over JSON': `${(run.eventsPerSec / plainJson).toFixed(2)}x`,
    'vs 1 thread': `${(run.eventsPerSec / oneThread).toFixed(2)}x`,
  })),
];
console.log(`\nwindowed count: ${EVENTS} click events, 1-minute tumbling windows per user, ${PARTITIONS} partitions, medians of ${REPEATS}, ${cores} cores`);
printTable(rows);
const results = { events: EVENTS, repeats: REPEATS, partitions: PARTITIONS, plainObjectsPerSec: plainObjects, plainJsonPerSec: plainJson, runs };
console.log(`\nwrote ${writeResults('windowed-count', results)}`);
const svg = lineChartSvg(
  [
    { name: 'rt.run (records from the log)', points: runs.map((run) => [run.threads, run.eventsPerSec] as const) },
    { name: 'plain RxJS, objects', points: THREAD_COUNTS.map((threads) => [threads, plainObjects] as const) },
    { name: 'plain RxJS, JSON strings', points: THREAD_COUNTS.map((threads) => [threads, plainJson] as const) },
  ],
  { title: `Windowed count, ${EVENTS} click events`, xLabel: 'worker threads', yLabel: 'events/s' },
);
const svgFile = path.join(import.meta.dirname, 'results', 'windowed-count.svg');
fs.writeFileSync(svgFile, svg);
console.log(`wrote ${svgFile}`);
