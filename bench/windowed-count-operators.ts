/**
 * Windowed-count operators benchmark: how fast tributary's stream operators count click events
 * per key in one-minute tumbling windows, in memory on one thread, against plain hand-written
 * RxJS doing the same count.
 *
 *   npx tsx bench/windowed-count-operators.ts [--events 1000000 --repeats 5]
 *
 * The events are the shared seeded click stream (src/workload), counted per user by event time
 * with a watermark 2 s behind the newest event (the stream's largest disorder), every window
 * emitted once when it closes. Pipelines, each over the same events already in memory:
 *   - tributary, records: `window(tumbling('1m'), { maxOutOfOrderness: '2s' }), count()` over
 *     records as `source()` delivers them (string key, JSON value bytes never parsed, timestamp),
 *     and the same with the keys left as bytes (the source's default serde);
 *   - tributary, objects: the same with key and timestamp extractors over pre-parsed events;
 *   - tributary, JSON strings: `map(JSON.parse)` first, then as objects;
 *   - plain RxJS, objects / JSON strings: one hand-written operator (a Map of windows, each a
 *     Map of counts, closed by the same watermark), the tightest loop RxJS allows.
 * Each pipeline runs in a process of its own (one warm-up run, then `--repeats` timed runs), so
 * that no pipeline inherits another's JIT type feedback; each figure is events/s, the median of
 * the timed runs. Every pipeline must produce the same windows and counts.
 * Writes bench/results/windowed-count-operators.json.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { from, map, Observable, type OperatorFunction } from 'rxjs';
import { count, tumbling, window } from '../src/streams/index.js';
import { ClickStream, type ClickEvent } from '../src/workload/click-events.js';
import { Progress, formatRate, median, printTable, seconds, writeResults, type Row } from './lib/report.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    repeats: { type: 'string', default: '5' },
    /** Internal: run only the pipeline at this index and print its result as JSON. */
    pipeline: { type: 'string' },
  },
});
const EVENT_COUNT = Number(args.events);
const REPEATS = Number(args.repeats);
const WINDOW_MS = 60_000;
const DISORDER_MS = 2_000;

interface ClickStreamRecord<K = string> {
  readonly key: K;
  readonly value: Buffer;
  readonly timestamp: number;
}

const stream = new ClickStream({ seed: 42, maxDisorderMs: DISORDER_MS });
const events: ClickEvent[] = [];
const jsons: string[] = [];
const records: ClickStreamRecord[] = [];
const byteKeyRecords: ClickStreamRecord<Buffer>[] = [];
for (let i = 0; i < EVENT_COUNT; i++) {
  const event = stream.nextEvent();
  const json = JSON.stringify(event);
  events.push(event);
  jsons.push(json);
  records.push({ key: event.user, value: Buffer.from(json), timestamp: event.ts });
  byteKeyRecords.push({ key: Buffer.from(event.user), value: records[i].value, timestamp: event.ts });
}

interface WindowCount {
  readonly key: string;
  readonly window: { readonly start: number };
  readonly value: number;
}

/** The plain-RxJS baseline: tumbling windows of counts per user, closed by max event time - DISORDER_MS. */
function handWrittenCount(): OperatorFunction<ClickEvent, WindowCount> {
  return (source) =>
    new Observable<WindowCount>((subscriber) => {
      const windows = new Map<number, Map<string, number>>();
      let watermark = -Infinity;
      const close = (upTo: number) => {
        for (const [start, counts] of windows) {
          if (start + WINDOW_MS > upTo) continue;
          for (const [key, value] of counts) subscriber.next({ key, window: { start }, value });
          windows.delete(start);
        }
      };
      return source.subscribe({
        next(event) {
          if (event.ts - DISORDER_MS > watermark) {
            watermark = event.ts - DISORDER_MS;
            close(watermark);
          }
          const start = Math.floor(event.ts / WINDOW_MS) * WINDOW_MS;
          if (start + WINDOW_MS <= watermark) return; // late
          let counts = windows.get(start);
          if (counts === undefined) windows.set(start, (counts = new Map()));
          counts.set(event.user, (counts.get(event.user) ?? 0) + 1);
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          close(Infinity);
          subscriber.complete();
        },
      });
    });
}

const byUser = { key: (e: ClickEvent) => e.user, timestamp: (e: ClickEvent) => e.ts, maxOutOfOrderness: '2s' } as const;

const pipelines: Array<{ pipeline: string; input: string; run: () => Observable<WindowCount> }> = [
  { pipeline: 'tributary', input: 'records (key, ts outside the value)', run: () => from(records).pipe(window(tumbling('1m'), { maxOutOfOrderness: '2s' }), count()) },
  {
    pipeline: 'tributary',
    input: 'records with Buffer keys',
    run: () => from(byteKeyRecords).pipe(window(tumbling('1m'), { maxOutOfOrderness: '2s' }), count(), map((r) => ({ ...r, key: r.key.toString() }))),
  },
  { pipeline: 'tributary', input: 'pre-parsed objects', run: () => from(events).pipe(window(tumbling('1m'), byUser), count()) },
  { pipeline: 'tributary', input: 'JSON strings', run: () => from(jsons).pipe(map((json) => JSON.parse(json) as ClickEvent), window(tumbling('1m'), byUser), count()) },
  { pipeline: 'plain RxJS', input: 'pre-parsed objects', run: () => from(events).pipe(handWrittenCount()) },
  { pipeline: 'plain RxJS', input: 'JSON strings', run: () => from(jsons).pipe(map((json) => JSON.parse(json) as ClickEvent), handWrittenCount()) },
];

/** Runs a pipeline to completion synchronously; returns its seconds and a digest of its results. */
function measure(run: () => Observable<WindowCount>): { seconds: number; digest: string } {
  let windows = 0;
  let total = 0;
  let checksum = 0;
  const start = process.hrtime.bigint();
  run().subscribe((result) => {
    windows++;
    total += result.value;
    checksum = (checksum + result.value * ((result.window.start / WINDOW_MS) % 1009) + result.key.length) % 1_000_000_007;
  });
  return { seconds: seconds(start), digest: `${windows} windows, ${total} events counted, checksum ${checksum}` };
}

interface PipelineResult {
  readonly pipeline: string;
  readonly input: string;
  readonly eventsPerSec: number;
  readonly digest: string;
}

/** In a child process: one warm-up run, then the timed runs of one pipeline. */
function runOne(index: number): PipelineResult {
  const { pipeline, input, run } = pipelines[index];
  measure(run);
  const samples: number[] = [];
  let digest = '';
  for (let i = 0; i < REPEATS; i++) {
    const measured = measure(run);
    samples.push(measured.seconds);
    digest = measured.digest;
  }
  return { pipeline, input, eventsPerSec: EVENT_COUNT / median(samples), digest };
}

if (args.pipeline !== undefined) {
  console.log(JSON.stringify(runOne(Number(args.pipeline))));
  process.exit(0);
}

const progress = new Progress(pipelines.length);
const results: PipelineResult[] = [];
for (let index = 0; index < pipelines.length; index++) {
  const childArgs = [...process.execArgv, fileURLToPath(import.meta.url), '--events', String(EVENT_COUNT), '--repeats', String(REPEATS), '--pipeline', String(index)];
  const output = execFileSync(process.execPath, childArgs, { encoding: 'utf8', maxBuffer: 1 << 20 });
  const result = JSON.parse(output.trim().split('\n').at(-1)!) as PipelineResult;
  results.push(result);
  progress.step(`${result.pipeline}, ${result.input}: ${formatRate(result.eventsPerSec)} events/s`);
}
progress.finish();

const digests = new Set(results.map((r) => r.digest));
if (digests.size !== 1) throw new Error(`pipelines disagree:\n${results.map((r) => `${r.pipeline}, ${r.input}: ${r.digest}`).join('\n')}`);
const plainJson = results.find((r) => r.pipeline === 'plain RxJS' && r.input === 'JSON strings')!.eventsPerSec;
const rows: Row[] = results.map((r) => ({
  pipeline: r.pipeline,
  input: r.input,
  'events/s': formatRate(r.eventsPerSec),
  'vs plain RxJS over JSON': `${(r.eventsPerSec / plainJson).toFixed(2)}x`,
}));

console.log(`\nwindowed count: ${EVENT_COUNT} click events in memory, 1-minute tumbling windows per user, one thread, medians of ${REPEATS} (a process per pipeline)`);
console.log(`every pipeline: ${results[0].digest}\n`);
printTable(rows);
console.log(`\nwrote ${writeResults('windowed-count-operators', { events: EVENT_COUNT, repeats: REPEATS, windowMs: WINDOW_MS, results })}`);
