/**
 * Repartition: what moving every record to the task that owns its new key costs. Clicks (keyed by
 * user) already in the log are counted per page in one-minute windows by `rt.run` with 1, 2, … N
 * worker threads (one task per thread), once counting each task's own clicks (a page's count split
 * over the tasks) and once after `repartition()` by page (each page counted by one task: every
 * record written to the internal topic, acknowledged, read back by its owner, and the topic purged
 * as tasks commit). See bench/lib/repartition-pipelines.ts.
 *
 *   npx tsx bench/repartition.ts [--events 500000 --repeats 3 --partitions 8 --max-threads N]
 *
 * The two pipelines run alternately on the same log, timed from `rt.run()` to `done` (after one
 * untimed run of each); every run must count every click. Figures are medians of `--repeats`.
 * Prints a table, writes bench/results/repartition.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, reduce } from 'rxjs';
import { open, type Tributary } from '../src/index.js';
import { ClickStream } from '../src/workload/click-events.js';
import { runBenchArgs } from './lib/run-args.js';
import { Progress, formatRate, median, printTable, seconds, writeResults, type Row } from './lib/report.js';

const { events: EVENTS, repeats: REPEATS, partitions: PARTITIONS, threadCounts: THREAD_COUNTS, cores } = runBenchArgs(500_000);
const PIPELINES = {
  local: pathToFileURL(path.join(import.meta.dirname, 'lib', 'repartition-local.ts')),
  repartitioned: pathToFileURL(path.join(import.meta.dirname, 'lib', 'repartition-through-topic.ts')),
} as const;
type Variant = keyof typeof PIPELINES;

interface Measured {
  readonly threads: number;
  readonly local: number;
  readonly repartitioned: number;
  readonly runSeconds: Record<Variant, number[]>;
}

async function measure(threads: number, root: string): Promise<Measured> {
  const rt = await open({ dir: path.join(root, `threads-${threads}`), threads });
  try {
    await rt.admin.createTopic('clicks', { partitions: PARTITIONS });
    await rt.admin.createTopic('page-windows', { partitions: PARTITIONS });
    const producer = rt.producer({ lingerMs: 20 });
    const records = new ClickStream({ seed: 42 }).records(EVENTS);
    await Promise.all(Array.from({ length: Math.ceil(EVENTS / 5_000) }, (_, i) => producer.send({ topic: 'clicks', messages: records.slice(i * 5_000, (i + 1) * 5_000) })));
    await producer.disconnect();
    const runSeconds: Record<Variant, number[]> = { local: [], repartitioned: [] };
    let counted = 0;
    for (let repeat = -1; repeat < REPEATS; repeat++) {
      for (const variant of ['local', 'repartitioned'] as const) {
        const started = process.hrtime.bigint();
        await (await rt.run(PIPELINES[variant], { name: `${variant}-${repeat + 1}`, parallelism: threads })).done;
        if (repeat >= 0) runSeconds[variant].push(seconds(started));
        const total = await windowTotal(rt);
        if (total - counted !== EVENTS) throw new Error(`${variant} with ${threads} threads counted ${total - counted} of ${EVENTS} clicks`);
        counted = total;
      }
    }
    return { threads, local: EVENTS / median(runSeconds.local), repartitioned: EVENTS / median(runSeconds.repartitioned), runSeconds };
  } finally {
    await rt.close();
  }
}

/** The sum of every window count written so far. */
function windowTotal(rt: Tributary): Promise<number> {
  return lastValueFrom(
    rt.source<{ value: number }>('page-windows', { serde: 'json', to: 'end' }).pipe(reduce((sum, record) => sum + record.value.value, 0)),
    { defaultValue: 0 },
  );
}

const progress = new Progress(THREAD_COUNTS.length);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-repartition-'));
const measured: Measured[] = [];
try {
  for (const threads of THREAD_COUNTS) {
    const result = await measure(threads, root);
    measured.push(result);
    progress.step(`${threads} thread(s): local ${formatRate(result.local)}, repartitioned ${formatRate(result.repartitioned)} events/s`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
progress.finish();

const rows: Row[] = measured.map((m) => ({
  threads: m.threads,
  'local count events/s': formatRate(m.local),
  'repartitioned events/s': formatRate(m.repartitioned),
  'repartitioned / local': `${(m.repartitioned / m.local).toFixed(2)}x`,
  'repartitioned vs 1 thread': `${(m.repartitioned / measured[0].repartitioned).toFixed(2)}x`,
}));
console.log(`\nrepartition: ${EVENTS} click events keyed by user, counted per page in 1-minute windows, ${PARTITIONS} partitions, medians of ${REPEATS}, ${cores} cores`);
printTable(rows);
console.log(`\nwrote ${writeResults('repartition', { events: EVENTS, repeats: REPEATS, partitions: PARTITIONS, runs: measured })}`);
