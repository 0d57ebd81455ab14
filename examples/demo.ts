/**
 * The first thing to run: a click stream through an embedded runtime and a windowed pipeline.
 *
 *   npm start            # or: npm start -- --events 200000 --reset, or: npm run tributary -- demo
 *
 * It opens the runtime in `.tributary/` (one worker thread per core) and, at the same time:
 *   - produces a seeded click stream (users and pages from skewed distributions, referrers,
 *     timestamps a little out of order) keyed by user into `clicks`, 8 partitions, LZ4;
 *   - runs the page-views-per-minute pipeline: a consumer reads every partition from where this
 *     run began, an RxJS pipeline counts views per page in one-minute event-time windows
 *     (`window(tumbling('1m'), ...)` and `count()` from tributary/streams, watermark 30 s behind
 *     the newest event), and each closed window's counts go to the `page-views` topic;
 * and shows live, on a terminal: events/s in and out, the load of each worker thread (its
 * partitions and their rates), and the top pages of the last closed window. It ends with a
 * summary, and checks that every event was read exactly once, in order within its partition.
 *
 * Ctrl-C stops it cleanly: producing and reading stop, the runtime closes (everything acknowledged
 * stays on disk), and the summary covers what was done. A second run reuses the data: the topics
 * keep what earlier runs wrote, this run appends to `clicks`, and the pipeline reads only what
 * this run produced; `--reset` deletes both topics first.
 *
 * The event stream's clock starts at the current minute and advances 1,000 events per simulated
 * second, so a million events span about 17 one-minute windows. The pipeline runs on the main
 * thread; the partitions, on the worker threads.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { Subject } from 'rxjs';
import { formatCount, formatRate, formatSeconds } from '../src/cli/format.js';
import { Output } from '../src/cli/output.js';
import { open, type Tributary } from '../src/index.js';
import { defineOptions, type OptionsInput } from '../src/runtime/options.js';
import { count, tumbling, window } from '../src/streams/index.js';
import { ClickStream } from '../src/workload/click-events.js';

const CLICKS = 'clicks';
const PAGE_VIEWS = 'page-views';
const PARTITIONS = 8;
const SEND_SIZE = 1000;
/** Sends awaited at once; the producer's own memory bound backs this up. */
const MAX_PENDING_SENDS = 64;
const EVENTS_PER_SIMULATED_SECOND = 1000;
/** How far each partition's watermark stays behind its newest event: the click stream's own disorder is at most 2 s. */
const MAX_OUT_OF_ORDERNESS = '2s';
const MAX_OUT_OF_ORDERNESS_MS = 2_000;
const REFRESH_MS = 250;
const TOP = 5;

export const parseDemoOptions = defineOptions('demo', {
  /** The data directory. Default `.tributary`, as `open()`. */
  dir: { type: 'string', default: '.tributary' },
  /** Worker threads. Default one per core. */
  threads: { type: 'integer', min: 1, max: 1024, default: os.availableParallelism() },
  /** Click events to produce. Default 1,000,000. */
  events: { type: 'integer', min: 1, default: 1_000_000 },
  /** Delete the demo's topics first instead of adding to them. Default false. */
  reset: { type: 'boolean', default: false },
  /** Stops the demo cleanly when aborted (the CLI aborts it on Ctrl-C). */
  signal: { type: 'custom', expected: 'an AbortSignal', is: (value: unknown): value is AbortSignal => value instanceof AbortSignal, default: undefined },
  /** Where the demo writes; default stdout and stderr. */
  out: { type: 'custom', expected: 'an Output', is: (value: unknown): value is Output => value instanceof Output, default: undefined },
});

export type DemoOptions = OptionsInput<typeof parseDemoOptions.schema>;

export interface ClosedWindow {
  readonly start: string;
  readonly end: string;
  readonly views: number;
  readonly top: ReadonlyArray<{ readonly page: string; readonly views: number }>;
}

export interface DemoSummary {
  readonly dir: string;
  readonly threads: number;
  readonly interrupted: boolean;
  readonly produced: number;
  readonly processed: number;
  /** Events that reached the pipeline after their window had closed (not counted in any window). */
  readonly late: number;
  readonly seconds: number;
  readonly produceRate: number;
  readonly processRate: number;
  readonly windows: readonly ClosedWindow[];
  /** Events in `clicks` before this run (kept from earlier runs; 0 after --reset). */
  readonly keptFromEarlierRuns: number;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly thread: number; readonly logEndOffset: number; readonly sizeBytes: number }>;
}

interface ClickView {
  readonly page: string;
  readonly timestamp: number;
}

export async function runDemo(input?: DemoOptions): Promise<DemoSummary> {
  const options = parseDemoOptions(input);
  const out = options.out ?? new Output(process.stdout, process.stderr, false);
  const say = (line: string) => (out.json ? out.note(line) : void out.line(line));
  const rt = await open({ dir: options.dir, threads: options.threads });
  try {
    say(`opened ${rt.dir} with ${rt.threads} worker thread${rt.threads === 1 ? '' : 's'}`);
    const kept = await prepareTopics(rt, options.reset, say);
    return await stream(rt, options.events, kept, options.signal, out, say);
  } finally {
    await rt.close();
  }
}

/** Creates the topics, or reuses or resets those of an earlier run, saying which; answers how many events `clicks` already holds. */
async function prepareTopics(rt: Tributary, reset: boolean, say: (line: string) => void): Promise<number> {
  const existing: string[] = (await rt.admin.listTopics()).filter((name) => name === CLICKS || name === PAGE_VIEWS);
  if (reset && existing.length > 0) {
    await rt.admin.deleteTopics({ topics: existing });
    say(`--reset: deleted the previous runs' ${existing.join(' and ')}`);
  }
  if (!reset && existing.length === 2) {
    const kept = (await rt.admin.fetchTopicOffsets(CLICKS)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    say(`reusing ${CLICKS}: it keeps ${formatCount(kept)} events from earlier runs; this run appends to it and the pipeline reads only the new ones (--reset starts from empty)`);
    return kept;
  }
  for (const name of [CLICKS, PAGE_VIEWS]) {
    if (!reset && existing.includes(name)) continue;
    await rt.admin.createTopic(name, { partitions: PARTITIONS, compression: 'lz4' });
  }
  say(`created ${CLICKS} and ${PAGE_VIEWS} (${PARTITIONS} partitions each, lz4)`);
  return 0;
}

async function stream(rt: Tributary, events: number, kept: number, signal: AbortSignal | undefined, out: Output, say: (line: string) => void): Promise<DemoSummary> {
  const startOffsets = (await rt.admin.fetchTopicOffsets(CLICKS)).map((p) => Number(p.high));
  const threadOf = (await rt.admin.describeTopic(CLICKS)).partitions.map((p) => p.thread);
  const stats = new Stats(rt.threads, threadOf);
  const view = out.interactive ? new LiveView(out, events, stats, threadOf) : null;
  const stopped = new AbortController();
  const stop = () => stopped.abort();
  signal?.addEventListener('abort', stop);
  const started = performance.now();
  const windows: ClosedWindow[] = [];
  const pageViews = rt.producer();
  const sinking: Promise<unknown>[] = [];
  const refresh = setInterval(() => void view?.refresh(rt, startOffsets), REFRESH_MS);
  try {
    const producing = produce(rt, events, stats, stopped.signal);
    await processClicks(rt, startOffsets, stats, stopped.signal, producing, (window) => {
      windows.push(window);
      view?.closed(window);
      if (view === null) say(windowLine(window));
      // The pipeline's sink: each window's top pages, keyed by page, stamped with the window's end.
      sinking.push(
        pageViews.send({
          topic: PAGE_VIEWS,
          messages: window.top.map(({ page, views }) => ({ key: page, value: JSON.stringify({ page, views, start: window.start, end: window.end }), timestamp: Date.parse(window.end) })),
        }),
      );
    });
    await producing;
    await Promise.all(sinking);
  } finally {
    clearInterval(refresh);
    await view?.stop(rt, startOffsets);
    signal?.removeEventListener('abort', stop);
    await pageViews.disconnect();
  }
  const seconds = (performance.now() - started) / 1000;
  const interrupted = signal?.aborted === true;
  if (!interrupted && stats.processed !== stats.produced) throw new Error(`the pipeline read ${stats.processed} events, ${stats.produced} were produced`);
  const partitions = (await rt.admin.describeTopic(CLICKS)).partitions.map(({ partition, thread, logEndOffset, sizeBytes }) => ({ partition, thread, logEndOffset, sizeBytes }));
  const summary: DemoSummary = {
    dir: rt.dir,
    threads: rt.threads,
    interrupted,
    produced: stats.produced,
    processed: stats.processed,
    late: stats.late,
    seconds: Number(seconds.toFixed(3)),
    produceRate: Math.round(stats.produced / stats.produceSeconds),
    processRate: Math.round(stats.processed / seconds),
    windows,
    keptFromEarlierRuns: kept,
    partitions,
  };
  for (const line of summaryLines(summary)) say(line);
  return summary;
}

/** Counters the producer and the pipeline update and the live view reads. */
class Stats {
  produced = 0;
  processed = 0;
  late = 0;
  produceSeconds = 0;
  /** Per thread: events appended to and read from its partitions. */
  readonly threadIn: number[];
  readonly threadOut: number[];

  constructor(
    threads: number,
    private readonly threadOf: readonly number[],
  ) {
    this.threadIn = new Array<number>(threads).fill(0);
    this.threadOut = new Array<number>(threads).fill(0);
  }

  /** Sets what each thread's partitions hold beyond where this run started, from their log end offsets. */
  appendedUpTo(endOffsets: readonly number[], startOffsets: readonly number[]): void {
    this.threadIn.fill(0);
    endOffsets.forEach((end, partition) => (this.threadIn[this.threadOf[partition]] += end - startOffsets[partition]));
  }

  read(partition: number, count: number): void {
    this.processed += count;
    this.threadOut[this.threadOf[partition]] += count;
  }
}

/** Produces `events` click events in sends of SEND_SIZE (fewer if stopped); resolves with how many were acknowledged. */
async function produce(rt: Tributary, events: number, stats: Stats, signal: AbortSignal): Promise<number> {
  // The clock starts 5 s into the current minute, so that no early event's disorder (at most 2 s) reaches back into the minute before.
  const clicks = new ClickStream({ seed: 42, startTime: Math.floor(Date.now() / 60_000) * 60_000 + 5_000, eventsPerSecond: EVENTS_PER_SIMULATED_SECOND });
  const producer = rt.producer();
  const started = performance.now();
  const pending: Promise<void>[] = [];
  try {
    for (let sent = 0; sent < events && !signal.aborted; sent += SEND_SIZE) {
      const messages = clicks.records(Math.min(SEND_SIZE, events - sent));
      pending.push(
        producer.send({ topic: CLICKS, messages }).then(() => {
          stats.produced += messages.length;
        }),
      );
      if (pending.length >= MAX_PENDING_SENDS) await pending.shift();
    }
    await Promise.all(pending);
  } finally {
    await producer.disconnect();
    stats.produceSeconds = (performance.now() - started) / 1000;
  }
  return stats.produced;
}

/**
 * The page-views-per-minute pipeline, as stream tasks run: one windowed count per partition of
 * `clicks`, each with its own watermark, since one partition's events can be read well ahead of
 * another's while each partition on its own is only as disordered as the stream (2 s). A window
 * is complete once every partition's watermark has passed its end; its counts are the sum of the
 * partitions'. Reads from `startOffsets`, checks each partition's offsets follow one another, and
 * ends once it has read as many events as `produced` resolves with, or when stopped.
 */
async function processClicks(
  rt: Tributary,
  startOffsets: readonly number[],
  stats: Stats,
  signal: AbortSignal,
  produced: Promise<number>,
  onWindow: (window: ClosedWindow) => void,
): Promise<void> {
  const consumer = rt.consumer({ maxWaitTimeInMs: 100 });
  consumer.assign(startOffsets.map((offset, partition) => ({ topic: CLICKS, partition, offset })));
  const open = new Map<number, { end: number; views: Map<string, number> }>();
  const newestSeen = startOffsets.map(() => -Infinity);
  const tasks = startOffsets.map(() => {
    const clicks = new Subject<ClickView>();
    const windowing = window<ClickView, string>(tumbling('1m'), { key: (click) => click.page, timestamp: (click) => click.timestamp, maxOutOfOrderness: MAX_OUT_OF_ORDERNESS });
    windowing.late$.subscribe(() => stats.late++);
    const subscription = clicks.pipe(windowing, count()).subscribe(({ key, window: { start, end }, value }) => {
      const counts = open.get(start) ?? { end, views: new Map<string, number>() };
      counts.views.set(key, (counts.views.get(key) ?? 0) + value);
      open.set(start, counts);
    });
    return { clicks, subscription };
  });
  /** Hands on, in time order, the windows every partition has closed: those ending at or before the lowest watermark. */
  const closeWindows = (watermark: number) => {
    for (const [start, { end, views }] of [...open].sort((a, b) => a[0] - b[0])) {
      if (end > watermark) break;
      open.delete(start);
      onWindow(closedWindow(start, end, views));
    }
  };
  const next = [...startOffsets];
  const batches = consumer.batches();
  // Ending the iteration resolves a next() still waiting for records: once everything produced was read, or when stopped.
  let target = Infinity;
  const stopIteration = () => void batches.return?.();
  signal.addEventListener('abort', stopIteration);
  produced.then(
    (count) => {
      target = count;
      if (stats.processed >= target) stopIteration();
    },
    stopIteration,
  );
  try {
    for await (const batch of batches) {
      const { partition } = batch;
      for (const record of batch.messages) {
        if (record.offset !== next[partition]) throw new Error(`partition ${partition}: read offset ${record.offset}, expected ${next[partition]}`);
        next[partition]++;
        newestSeen[partition] = Math.max(newestSeen[partition], record.timestamp);
        tasks[partition].clicks.next({ page: pageOf(record.value!), timestamp: record.timestamp });
      }
      stats.read(partition, batch.messages.length);
      closeWindows(Math.min(...newestSeen) - MAX_OUT_OF_ORDERNESS_MS);
      if (stats.processed >= target || signal.aborted) break;
    }
    // The end of the input closes every window still open.
    for (const task of tasks) task.clicks.complete();
    closeWindows(Infinity);
  } finally {
    signal.removeEventListener('abort', stopIteration);
    for (const task of tasks) task.subscription.unsubscribe();
    await consumer.disconnect();
  }
}

const PAGE_FIELD = Buffer.from('"page":"');

/** The event's page, read from its JSON without parsing the rest (parsing every event would cost more than the pipeline). */
function pageOf(value: Buffer): string {
  const start = value.indexOf(PAGE_FIELD) + PAGE_FIELD.length;
  return value.toString('latin1', start, value.indexOf(0x22, start));
}

function closedWindow(start: number, end: number, views: ReadonlyMap<string, number>): ClosedWindow {
  const sorted = [...views].sort((a, b) => b[1] - a[1]);
  return {
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    views: sorted.reduce((sum, [, n]) => sum + n, 0),
    top: sorted.slice(0, TOP).map(([page, n]) => ({ page, views: n })),
  };
}

function windowLine(window: ClosedWindow): string {
  return `window ${window.start.slice(11, 16)}-${window.end.slice(11, 16)} UTC closed: ${formatCount(window.views)} views; top ${window.top.map(({ page, views }) => `${page} (${formatCount(views)})`).join(', ')}`;
}

function summaryLines(summary: DemoSummary): string[] {
  const lines = [
    `${summary.interrupted ? 'interrupted: ' : ''}produced ${formatCount(summary.produced)} click events in ${formatSeconds(summary.seconds)} (${formatRate(summary.produceRate, 'events')}, lz4, acks -1, idempotent)`,
    `the pipeline read ${formatCount(summary.processed)} (${formatRate(summary.processRate, 'events')}), each exactly once and in order within its partition; ` +
      `${summary.windows.length} one-minute windows closed${summary.late > 0 ? `, ${formatCount(summary.late)} events arrived after their window closed` : ''}`,
    ...summary.partitions.map((p) => `  ${CLICKS} partition ${p.partition}: thread ${p.thread}, ${formatCount(p.logEndOffset)} events, ${(p.sizeBytes / 1e6).toFixed(1)} MB`),
    `data directory: ${summary.dir} (Kafka's layout: one <topic>-<partition> directory of segments per partition); ` +
      `the next run adds to it (npm start -- --reset starts from empty)`,
  ];
  return lines;
}

/** The live display on a terminal: rates in and out, one line per worker thread, the last closed window. */
class LiveView {
  private readonly bars: cliProgress.MultiBar;
  private readonly inBar: cliProgress.SingleBar;
  private readonly outBar: cliProgress.SingleBar;
  private readonly threadBars: cliProgress.SingleBar[];
  private readonly windowBar: cliProgress.SingleBar;
  private polling = false;
  private readonly started = performance.now();
  private last = { at: performance.now(), produced: 0, processed: 0, threadIn: [] as number[], threadOut: [] as number[] };
  private rates = { produced: 0, processed: 0, threadIn: [] as number[], threadOut: [] as number[] };
  private lastWindow = 'no window closed yet';

  constructor(
    out: Output,
    private readonly events: number,
    private readonly stats: Stats,
    threadOf: readonly number[],
  ) {
    this.bars = new cliProgress.MultiBar({ stream: out.progressStream, hideCursor: true, barsize: 24, fps: 4, clearOnComplete: false });
    const line = (format: () => string) => this.bars.create(1, 0, {}, { format: () => format() });
    this.inBar = this.bars.create(events, 0, {}, { format: (options, params) => `in   [${cliProgress.Format.BarFormat(params.progress, options)}] ${formatCount(this.stats.produced)}/${formatCount(this.events)} events  ${formatRate(this.rates.produced, 'events')}` });
    this.outBar = this.bars.create(events, 0, {}, { format: (options, params) => `out  [${cliProgress.Format.BarFormat(params.progress, options)}] ${formatCount(this.stats.processed)} read by the pipeline  ${formatRate(this.rates.processed, 'events')}  late ${formatCount(this.stats.late)}` });
    this.threadBars = this.stats.threadIn.map((_, thread) => {
      const partitions = threadOf.flatMap((owner, partition) => (owner === thread ? [partition] : []));
      return line(() => `thread ${thread}: partitions ${partitions.join(',')}  in ${formatRate(this.rates.threadIn[thread] ?? 0)}  out ${formatRate(this.rates.threadOut[thread] ?? 0)}`);
    });
    this.windowBar = line(() => this.lastWindow);
  }

  /** Reads the partitions' end offsets, recomputes the rates over the last interval and redraws. */
  async refresh(rt: Tributary, startOffsets: readonly number[]): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const offsets = await rt.admin.fetchTopicOffsets(CLICKS);
      this.stats.appendedUpTo(offsets.map((p) => Number(p.high)), startOffsets);
    } catch {
      return; // The runtime is closing: the last figures stand.
    } finally {
      this.polling = false;
    }
    const now = performance.now();
    const seconds = (now - this.last.at) / 1000;
    if (seconds <= 0) return;
    const { produced, processed, threadIn, threadOut } = this.stats;
    this.rates = {
      produced: (produced - this.last.produced) / seconds,
      processed: (processed - this.last.processed) / seconds,
      threadIn: threadIn.map((n, i) => (n - (this.last.threadIn[i] ?? 0)) / seconds),
      threadOut: threadOut.map((n, i) => (n - (this.last.threadOut[i] ?? 0)) / seconds),
    };
    this.last = { at: now, produced, processed, threadIn: [...threadIn], threadOut: [...threadOut] };
    this.inBar.update(produced);
    this.outBar.update(processed);
    for (const bar of [...this.threadBars, this.windowBar]) bar.update(0);
  }

  closed(window: ClosedWindow): void {
    this.lastWindow = windowLine(window);
  }

  /** Draws the final state, with the rates averaged over the whole run. */
  async stop(rt: Tributary, startOffsets: readonly number[]): Promise<void> {
    this.last = { at: this.started, produced: 0, processed: 0, threadIn: [], threadOut: [] };
    await this.refresh(rt, startOffsets);
    this.bars.stop();
  }
}

// `npm start`: run with the command line's options; Ctrl-C stops it cleanly.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { events: { type: 'string' }, dir: { type: 'string' }, threads: { type: 'string' }, reset: { type: 'boolean' } },
  });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  await runDemo({
    dir: values.dir,
    threads: values.threads === undefined ? undefined : Number(values.threads),
    events: values.events === undefined ? undefined : Number(values.events),
    reset: values.reset,
    signal: controller.signal,
  });
  if (controller.signal.aborted) process.exitCode = 130;
}
