/**
 * The first thing to run: a click stream through an embedded runtime and a windowed pipeline
 * running across all cores.
 *
 *   npm start            # or: npm start -- --events 200000 --reset, or: npm run tributary -- demo
 *
 * It opens the runtime in `.tributary/` (one worker thread per core) and, at the same time:
 *   - produces a seeded click stream (users and pages from skewed distributions, referrers,
 *     timestamps a little out of order) keyed by user into `clicks`, 8 partitions, LZ4;
 *   - runs the page-views-per-minute pipeline, examples/pipelines/page-views.ts, with `rt.run`:
 *     one stream task per partition of `clicks`, each on the worker thread that hosts it, counting
 *     views per page in one-minute event-time windows and writing each closed window's counts to
 *     `page-views` (and clicks too late for their window to `clicks-late`). The tasks form the
 *     consumer group `page-views` and commit their input offsets every second, once the results
 *     those clicks caused are acknowledged;
 * and shows live, on a terminal: events/s in (produced) and out (committed by the pipeline), the
 * load of each worker thread (its partitions and their rates) and the top pages of the last
 * closed window, read back from `page-views` on the main thread. A window is shown once every task
 * has closed it (the committed offsets say how far each has read) and its results are read. Once
 * the pipeline has read everything, its last windows close as the tasks' watermarks move on with
 * their input idle (a few seconds), and the run stops. The summary checks that the pipeline read
 * and committed every event, and that the views of the closed windows plus the late clicks add
 * up to them: each click counted exactly once.
 *
 * Expected output (`npm start -- --events 200000 --reset` on 2 cores, not on a terminal; on one,
 * the live view replaces the window lines; times, rates and minutes vary):
 *
 *   opened .tributary with 2 worker threads
 *   --reset: deleted clicks, page-views, clicks-late and the consumer group page-views
 *   created clicks, page-views and clicks-late (8 partitions each, lz4)
 *   run 'page-views': 8 stream tasks; thread 0: partitions 0,2,4,6, thread 1: partitions 1,3,5,7
 *   window 15:35-15:36 UTC: 20,047 views; top /p/0 (1,286), /p/1 (419), /p/2 (274), /p/3 (244), /p/4 (189)
 *   window 15:36-15:37 UTC: 60,000 views; top /p/0 (3,758), /p/1 (1,302), /p/2 (919), /p/3 (745), /p/4 (597)
 *   window 15:37-15:38 UTC: 60,001 views; top /p/0 (3,778), /p/1 (1,195), /p/2 (906), /p/3 (705), /p/4 (613)
 *   window 15:38-15:39 UTC: 59,952 views; top /p/0 (3,762), /p/1 (1,328), /p/2 (888), /p/3 (716), /p/4 (611)
 *   produced 200,000 click events in 1.36 s (146.6k events/s, lz4, acks -1, idempotent)
 *   the pipeline (8 stream tasks on 2 threads) read and committed all 200,000 in 2.38 s (84.1k events/s)
 *     4 one-minute windows closed with 200,000 views, 0 clicks came late: each click counted exactly once; the last windows closed 3.02 s after it had read everything (watermarks move on when input is idle)
 *     clicks partition 0: thread 0, 25,115 events, 1.2 MB, committed up to 25,115
 *     ... (partitions 1 to 7)
 *   data directory: .tributary (Kafka's layout: one <topic>-<partition> directory of segments per partition); the next run adds to it (npm start -- --reset starts from empty)
 *
 * Ctrl-C stops it cleanly: producing stops, the run stops (its tasks commit what they read and
 * leave; the windows still open are dropped), the runtime closes (everything acknowledged stays
 * on disk), and the summary covers what was done. A second run reuses the data: the topics keep
 * what earlier runs wrote, this run appends to `clicks`, and the pipeline's group resumes from its
 * committed offsets, the end of what earlier runs produced, so it counts this run's events only
 * (events an interrupted run left unread are skipped, as it says); `--reset` deletes the topics
 * and the group first.
 *
 * The event stream's clock advances 1,000 events per simulated second, so a million events span
 * about 17 one-minute windows; it starts in the current minute and ends on a minute boundary, so
 * that the last window closes as soon as the watermarks pass the last click.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { formatCount, formatRate, formatSeconds } from '../src/cli/format.js';
import { Output } from '../src/cli/output.js';
import { open, type Tributary } from '../src/index.js';
import { defineOptions, type OptionsInput } from '../src/runtime/options.js';
import type { RunHandle } from '../src/streams/index.js';
import { ClickStream } from '../src/workload/click-events.js';
import { CLICKS, LATE_CLICKS, MAX_OUT_OF_ORDERNESS_MS, PAGE_VIEWS, type PageViews } from './pipelines/page-views.js';

const PIPELINE = new URL('./pipelines/page-views.ts', import.meta.url);
/** The run's name: its consumer group (and the prefix of changelog topics, had it stores). */
const RUN = 'page-views';
const TOPICS = [CLICKS, PAGE_VIEWS, LATE_CLICKS];
const PARTITIONS = 8;
const SEND_SIZE = 1000;
/** Sends awaited at once; the producer's own memory bound backs this up. */
const MAX_PENDING_SENDS = 64;
const EVENTS_PER_SIMULATED_SECOND = 1000;
const MINUTE_MS = 60_000;
/** How far a click's timestamp may lag its place in the stream (the click stream's default). */
const MAX_DISORDER_MS = 2_000;
/** The stream starts at least this far into a minute, so that no early click's disorder (at most 2 s) reaches back into the minute before. */
const FIRST_CLICK_AFTER_MS = 5_000;
/** How often the tasks commit: what the live view's "out" moves by. */
const COMMIT_INTERVAL_MS = 1_000;
/** How long the demo waits for the last windows once the pipeline has read everything; they close in a few seconds (see pipelines/page-views.ts). */
const LAST_WINDOWS_TIMEOUT_MS = 30_000;
const REFRESH_MS = 250;
/** Rates are taken over this much time: committed offsets move once per commit interval. */
const RATE_SPAN_MS = 2_000;
const TOP = 5;

export const parseDemoOptions = defineOptions('demo', {
  /** The data directory. Default `.tributary`, as `open()`. */
  dir: { type: 'string', default: '.tributary' },
  /** Worker threads. Default one per core. */
  threads: { type: 'integer', min: 1, max: 1024, default: os.availableParallelism() },
  /** Click events to produce. Default 1,000,000. */
  events: { type: 'integer', min: 1, default: 1_000_000 },
  /** Delete the demo's topics and its pipeline's consumer group first instead of adding to them. Default false. */
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
  /** Views of every page in the window, summed over the tasks' results. */
  readonly views: number;
  readonly top: ReadonlyArray<{ readonly page: string; readonly views: number }>;
}

export interface DemoSummary {
  readonly dir: string;
  readonly threads: number;
  /** Stream tasks of the pipeline's run. */
  readonly tasks: number;
  readonly interrupted: boolean;
  readonly produced: number;
  /** Events the pipeline read and committed during this run: how far its group's committed offsets moved. */
  readonly processed: number;
  /** Events an earlier, interrupted run produced that its pipeline had not read: this run's pipeline skipped them. */
  readonly skippedFromEarlierRuns: number;
  /** Clicks that reached the pipeline after their window had closed (written to `clicks-late`, counted in no window). */
  readonly late: number;
  readonly seconds: number;
  readonly produceRate: number;
  readonly processRate: number;
  /** From the pipeline having read everything to its last windows' results being in. */
  readonly lastWindowsSeconds: number;
  /** The windows every task closed during this run, with their views summed over the tasks' results, in time order. */
  readonly windows: readonly ClosedWindow[];
  /** Events in `clicks` before this run (kept from earlier runs; 0 after --reset). */
  readonly keptFromEarlierRuns: number;
  readonly partitions: ReadonlyArray<{
    readonly partition: number;
    readonly thread: number;
    readonly logEndOffset: number;
    readonly sizeBytes: number;
    /** The pipeline's committed offset. */
    readonly committedOffset: number;
  }>;
}

export async function runDemo(input?: DemoOptions): Promise<DemoSummary> {
  const options = parseDemoOptions(input);
  const out = options.out ?? new Output(process.stdout, process.stderr, false);
  const say = (line: string) => (out.json ? out.note(line) : void out.line(line));
  const rt = await open({ dir: options.dir, threads: options.threads });
  try {
    say(`opened ${rt.dir} with ${rt.threads} worker thread${rt.threads === 1 ? '' : 's'}`);
    const kept = await prepare(rt, options.reset, say);
    return await stream(rt, options.events, kept, options.signal, out, say);
  } finally {
    await rt.close();
  }
}

/**
 * Creates the topics, or reuses or resets (with the pipeline's group and changelogs) those of an
 * earlier run, saying which; answers how many events `clicks` already holds.
 */
async function prepare(rt: Tributary, reset: boolean, say: (line: string) => void): Promise<number> {
  const topics = await rt.admin.listTopics();
  const existing = TOPICS.filter((name) => topics.includes(name));
  if (reset) {
    const deleted = [...existing, ...topics.filter((name) => name.startsWith(`${RUN}-`) && name.endsWith('-changelog'))];
    if (deleted.length > 0) await rt.admin.deleteTopics({ topics: deleted });
    const group = (await rt.admin.listGroups()).groups.some((listed) => listed.groupId === RUN);
    if (group) await rt.admin.deleteGroups([RUN]);
    if (deleted.length > 0 || group) say(`--reset: deleted ${listing([...deleted, ...(group ? [`the consumer group ${RUN}`] : [])])}`);
  }
  const missing = reset ? TOPICS : TOPICS.filter((name) => !existing.includes(name));
  for (const name of missing) await rt.admin.createTopic(name, { partitions: PARTITIONS, compression: 'lz4' });
  if (missing.length > 0) say(`created ${listing(missing)} (${PARTITIONS} partitions each, lz4)`);
  if (missing.includes(CLICKS)) return 0;
  const kept = sum(await endOffsets(rt, CLICKS));
  say(
    `reusing ${CLICKS}: it keeps ${formatCount(kept)} events from earlier runs; this run appends to it, and the pipeline's consumer group ` +
      `resumes from its committed offsets, so it counts only the new ones (--reset starts from empty)`,
  );
  return kept;
}

async function stream(rt: Tributary, events: number, kept: number, signal: AbortSignal | undefined, out: Output, say: (line: string) => void): Promise<DemoSummary> {
  const startOffsets = await endOffsets(rt, CLICKS);
  const skipped = await startGroupAtEnd(rt, startOffsets);
  if (skipped > 0) {
    say(
      `the pipeline's consumer group was ${formatCount(skipped)} events behind the end of ${CLICKS}: an interrupted run left them unread (and dropped its open windows); ` +
        'it skips them, so that this run counts its own events only',
    );
  }
  const threadOf = (await rt.admin.describeTopic(CLICKS)).partitions.map((p) => p.thread);
  const progress = new Progress(rt, threadOf, startOffsets, sum(await endOffsets(rt, LATE_CLICKS)), streamStart(events));
  const results = new ResultsReader(rt, await endOffsets(rt, PAGE_VIEWS));
  let run: RunHandle;
  try {
    run = await rt.run(PIPELINE, { name: RUN, parallelism: taskCount(rt.threads, threadOf), commitIntervalMs: COMMIT_INTERVAL_MS });
  } catch (error) {
    await results.close(-Infinity);
    throw error;
  }
  say(`run '${RUN}': ${run.tasks.length} stream tasks; ${threadsLine(threadOf, rt.threads)}`);
  const view = out.interactive ? new LiveView(out, events, progress, results, threadOf, rt.threads) : null;
  const printed = new Set<string>();
  /** Without the live view, each window is printed once complete. */
  const printWindows = () => {
    if (view !== null) return;
    for (const window of results.completeWindows()) {
      if (printed.has(window.start)) continue;
      printed.add(window.start);
      say(windowLine(window));
    }
  };
  const update = async () => {
    await progress.refresh();
    results.expect(progress.closedBefore, progress.resultsEnd);
    view?.draw();
    printWindows();
  };
  const stopped = new AbortController();
  const stop = () => stopped.abort();
  signal?.addEventListener('abort', stop);
  let failure: unknown;
  run.done.catch((error: unknown) => {
    failure = error;
    stopped.abort();
  });
  const started = performance.now();
  /** When the pipeline had read everything, and when the last windows' results were in; unset if stopped first. */
  let readAllAt: number | undefined;
  let lastWindowsAt: number | undefined;
  // An update that fails (the runtime closing) leaves the last figures standing.
  const refresh = setInterval(() => void update().catch(() => undefined), REFRESH_MS);
  try {
    await produce(rt, events, progress, stopped.signal);
    // Read everything: the group's committed offsets reached the end of every partition.
    await until(async () => (await progress.refresh()).caughtUp(), stopped.signal);
    if (!stopped.signal.aborted) readAllAt = performance.now();
    view?.closingLastWindows();
    // The last windows close once the tasks' input has been idle a moment; their results complete the count.
    await until(async () => results.views + (await progress.refresh()).late >= progress.produced, stopped.signal, LAST_WINDOWS_TIMEOUT_MS);
    if (!stopped.signal.aborted) lastWindowsAt = performance.now();
  } finally {
    clearInterval(refresh);
    signal?.removeEventListener('abort', stop);
    await run.stop();
    await progress.refresh();
    // Stopped early, only the windows every task had closed are complete; otherwise all are.
    await results.close(stopped.signal.aborted ? progress.closedBefore : Infinity);
    view?.stop(progress.produceSeconds, ((readAllAt ?? performance.now()) - started) / 1000);
  }
  if (failure !== undefined) throw failure;
  const interrupted = signal?.aborted === true;
  const stoppedAt = performance.now();
  const windows = results.completeWindows();
  printWindows();
  const processed = progress.processed();
  if (!interrupted) {
    if (processed !== progress.produced) throw new Error(`the pipeline committed ${processed} events; ${progress.produced} were produced`);
    const views = sum(windows.map((w) => w.views));
    if (views + progress.late !== processed) throw new Error(`the closed windows count ${views} views and ${progress.late} clicks were late, but the pipeline read ${processed}`);
  }
  const readSeconds = ((readAllAt ?? stoppedAt) - started) / 1000;
  const summary: DemoSummary = {
    dir: rt.dir,
    threads: rt.threads,
    tasks: run.tasks.length,
    interrupted,
    produced: progress.produced,
    processed,
    skippedFromEarlierRuns: skipped,
    late: progress.late,
    seconds: Number(((stoppedAt - started) / 1000).toFixed(3)),
    produceRate: Math.round(progress.produced / progress.produceSeconds),
    processRate: Math.round(processed / readSeconds),
    lastWindowsSeconds: Number((((lastWindowsAt ?? stoppedAt) - (readAllAt ?? stoppedAt)) / 1000).toFixed(3)),
    windows,
    keptFromEarlierRuns: kept,
    partitions: (await rt.admin.describeTopic(CLICKS)).partitions.map(({ partition, thread, logEndOffset, sizeBytes }) => ({
      partition,
      thread,
      logEndOffset,
      sizeBytes,
      committedOffset: progress.committed[partition],
    })),
  };
  for (const line of summaryLines(summary, progress.produceSeconds, readSeconds)) say(line);
  return summary;
}

/**
 * Puts the pipeline's consumer group at the end of `clicks`, where this run's events begin. After
 * a clean run it is there already: its tasks committed everything. After an interrupted run it is
 * behind by the events that run produced and its pipeline did not read, whose windows were dropped
 * with it; those are skipped, so that each run counts its own events. The same for a group without
 * commits (data kept from before it existed), or past the end (a topic recreated without it).
 * Answers how many events were skipped.
 */
async function startGroupAtEnd(rt: Tributary, startOffsets: readonly number[]): Promise<number> {
  const committed = new Map((await rt.admin.describeGroup(RUN)).partitions.filter((p) => p.topic === CLICKS).map((p) => [p.partition, p.committedOffset]));
  const moved = startOffsets.flatMap((offset, partition) => (committed.get(partition) === offset ? [] : [{ partition, offset: String(offset) }]));
  if (moved.length > 0) await rt.admin.setOffsets({ groupId: RUN, topic: CLICKS, partitions: moved });
  return sum(startOffsets.map((offset, partition) => Math.max(0, offset - (committed.get(partition) ?? offset))));
}

/**
 * The run's tasks: as many on each thread as the most partitions of `clicks` one thread hosts, so
 * the locality assignor gives each task at most one partition, whose disorder alone its watermark
 * then has to allow for (see pipelines/page-views.ts).
 */
function taskCount(threads: number, threadOf: readonly number[]): number {
  const hosted = new Array<number>(threads).fill(0);
  for (const thread of threadOf) hosted[thread]++;
  return threads * Math.max(...hosted);
}

/**
 * Produces `events` click events in sends of SEND_SIZE (fewer if stopped), counting them into
 * `progress` as they are acknowledged, with where each send's clicks begin in each partition.
 */
async function produce(rt: Tributary, events: number, progress: Progress, signal: AbortSignal): Promise<void> {
  const clicks = new ClickStream({ seed: 42, startTime: progress.firstClickAt, eventsPerSecond: EVENTS_PER_SIMULATED_SECOND, maxDisorderMs: MAX_DISORDER_MS });
  const producer = rt.producer();
  const started = performance.now();
  const pending: Promise<void>[] = [];
  try {
    for (let send = 0; send * SEND_SIZE < events && !signal.aborted; send++) {
      const messages = clicks.records(Math.min(SEND_SIZE, events - send * SEND_SIZE));
      pending.push(
        producer.send({ topic: CLICKS, messages }).then((written) => {
          progress.sent(send, messages.length, written);
        }),
      );
      if (pending.length >= MAX_PENDING_SENDS) await pending.shift();
    }
    await Promise.all(pending);
  } finally {
    await producer.disconnect();
    progress.produceSeconds = (performance.now() - started) / 1000;
  }
}

/** The first click's time: in the current minute, such that the stream of `events` clicks ends on a minute boundary. */
function streamStart(events: number): number {
  const span = (events * 1000) / EVENTS_PER_SIMULATED_SECOND;
  const minute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  return Math.ceil((minute + FIRST_CLICK_AFTER_MS + span) / MINUTE_MS) * MINUTE_MS - span;
}

/**
 * Where the demo stands: what was produced, and, from the pipeline's consumer group, the committed
 * and end offsets of `clicks`; the late clicks; and which windows every task has closed.
 */
class Progress {
  /** Clicks acknowledged by `clicks` during this run. */
  produced = 0;
  produceSeconds = 0;
  /** Per partition of `clicks`, from the last refresh. */
  readonly committed: number[];
  readonly logEnd: number[];
  late = 0;
  /** Every task had closed the windows ending at or before this as of the last refresh (see `tasksClosedBefore`). */
  closedBefore = -Infinity;
  /** The end offsets of `page-views` read right after the group's offsets: the results of the windows closed by then lie before them. */
  resultsEnd: readonly number[] = [];
  /** Per send, the offset of its first click in each partition (-1: it had none there); undefined until acknowledged. */
  private readonly sendOffsets: Array<number[] | undefined> = [];
  private refreshing: Promise<this> | null = null;

  constructor(
    private readonly rt: Tributary,
    readonly threadOf: readonly number[],
    /** Where the group resumed in each partition. */
    readonly from: readonly number[],
    private readonly lateFrom: number,
    /** The stream's clock: the time of its first click. */
    readonly firstClickAt: number,
  ) {
    this.committed = [...from];
    this.logEnd = [...from];
  }

  sent(send: number, clicks: number, written: ReadonlyArray<{ readonly partition: number; readonly baseOffset: string }>): void {
    this.produced += clicks;
    const offsets = this.threadOf.map(() => -1);
    for (const { partition, baseOffset } of written) offsets[partition] = Number(baseOffset);
    this.sendOffsets[send] = offsets;
  }

  /** Reads the offsets again; one read at a time, which concurrent callers share. */
  refresh(): Promise<this> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Events the pipeline committed since it resumed. */
  processed(): number {
    return sum(this.committed) - sum(this.from);
  }

  /** Every partition's committed offset is its end. */
  caughtUp(): boolean {
    return this.committed.every((offset, partition) => offset === this.logEnd[partition]);
  }

  private async read(): Promise<this> {
    const group = await this.rt.admin.describeGroup(RUN);
    const [resultsEnd, late] = await Promise.all([endOffsets(this.rt, PAGE_VIEWS), endOffsets(this.rt, LATE_CLICKS)]);
    for (const { topic, partition, committedOffset, logEndOffset } of group.partitions) {
      if (topic !== CLICKS) continue;
      this.committed[partition] = committedOffset ?? this.from[partition];
      this.logEnd[partition] = logEndOffset;
    }
    this.late = sum(late) - this.lateFrom;
    this.closedBefore = this.tasksClosedBefore();
    this.resultsEnd = resultsEnd;
    return this;
  }

  /**
   * The end of the latest window every task has closed, by the committed offsets: a task commits
   * only once the results of the clicks it read are acknowledged, and its watermark is then past
   * the time of every click it read less the watermark's bound. The clicks of send k are at least
   * as late as its first sequence time less the stream's disorder, and the task of partition p read
   * some of them once p's committed offset is past the send's first click there.
   */
  private tasksClosedBefore(): number {
    let closed = Infinity;
    this.committed.forEach((committed, partition) => {
      let read = -Infinity;
      for (let send = 0; send < this.sendOffsets.length; send++) {
        const first = this.sendOffsets[send]?.[partition];
        if (first === undefined || first >= committed) break;
        if (first >= 0) read = this.firstClickAt + Math.floor((send * SEND_SIZE * 1000) / EVENTS_PER_SIMULATED_SECOND);
      }
      closed = Math.min(closed, read - MAX_DISORDER_MS - MAX_OUT_OF_ORDERNESS_MS);
    });
    return closed;
  }
}

/**
 * The main thread's reader of `page-views` from where this run began: the tasks' results, each a
 * page's views in a closed window from one task, summed per window and page. A window is complete
 * once every task has closed it and this reader has read the results they wrote before (see
 * `expect`).
 */
class ResultsReader {
  /** Views in all results read. */
  views = 0;
  private readonly consumer;
  private readonly batches;
  private readonly next: number[];
  private readonly byWindow = new Map<number, { end: number; pages: Map<string, number> }>();
  private readonly reading: Promise<void>;
  private readonly expected: Array<{ readonly closedBefore: number; readonly ends: readonly number[] }> = [];
  /** The windows ending at or before this are complete. */
  private completeBefore = -Infinity;

  constructor(
    private readonly rt: Tributary,
    startOffsets: readonly number[],
  ) {
    this.consumer = rt.consumer<Buffer | null, PageViews>({ maxWaitTimeInMs: 100, serde: { value: 'json' } });
    this.consumer.assign(startOffsets.map((offset, partition) => ({ topic: PAGE_VIEWS, partition, offset })));
    this.next = [...startOffsets];
    this.batches = this.consumer.batches();
    this.reading = this.read();
    // A failed read is close()'s to report.
    this.reading.catch(() => undefined);
  }

  /** Every task had closed the windows ending at or before `closedBefore` when `page-views` ended at `ends`: they are complete once this reader gets there. */
  expect(closedBefore: number, ends: readonly number[]): void {
    this.expected.push({ closedBefore, ends });
    this.settle();
  }

  /** The complete windows, in time order. */
  completeWindows(): ClosedWindow[] {
    return [...this.byWindow]
      .filter(([, { end }]) => end <= this.completeBefore)
      .map(([start]) => start)
      .sort((a, b) => a - b)
      .map((start) => this.closedWindow(start));
  }

  /** Reads on to the end of `page-views` as it is now (everything a stopped run wrote), then stops; the windows ending at or before `completeBefore` are complete. */
  async close(completeBefore: number): Promise<void> {
    const ends = await endOffsets(this.rt, PAGE_VIEWS);
    try {
      await until(() => this.reached(ends), undefined, LAST_WINDOWS_TIMEOUT_MS);
      this.completeBefore = Math.max(this.completeBefore, completeBefore);
    } finally {
      await this.batches.return?.();
      await this.reading;
      await this.consumer.disconnect();
    }
  }

  private async read(): Promise<void> {
    for await (const batch of this.batches) {
      for (const record of batch.messages) {
        const { page, views, start, end } = record.value;
        const window = this.byWindow.get(start) ?? { end, pages: new Map<string, number>() };
        window.pages.set(page, (window.pages.get(page) ?? 0) + views);
        this.byWindow.set(start, window);
        this.views += views;
      }
      this.next[batch.partition] = batch.messages[batch.messages.length - 1].offset + 1;
      this.settle();
    }
  }

  private settle(): void {
    while (this.expected.length > 0 && this.reached(this.expected[0].ends)) {
      this.completeBefore = Math.max(this.completeBefore, this.expected.shift()!.closedBefore);
    }
  }

  private reached(ends: readonly number[]): boolean {
    return ends.every((end, partition) => this.next[partition] >= end);
  }

  private closedWindow(start: number): ClosedWindow {
    const { end, pages } = this.byWindow.get(start)!;
    const sorted = [...pages].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      views: sum(sorted.map(([, views]) => views)),
      top: sorted.slice(0, TOP).map(([page, views]) => ({ page, views })),
    };
  }
}

/** Resolves once `done()` holds, checked every REFRESH_MS, or when `signal` aborts; rejects after `timeoutMs`. */
async function until(done: () => boolean | Promise<boolean>, signal?: AbortSignal, timeoutMs = Infinity): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (signal?.aborted !== true && !(await done())) {
    if (performance.now() > deadline) throw new Error(`the demo's pipeline did not finish within ${formatSeconds(timeoutMs / 1000)}`);
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

async function endOffsets(rt: Tributary, topic: string): Promise<number[]> {
  return (await rt.admin.fetchTopicOffsets(topic)).map((p) => Number(p.high));
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** `a`, `a and b`, `a, b and c`. */
function listing(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** `thread 0: partitions 0,2,4,6, thread 1: partitions 1,3,5,7`. */
function threadsLine(threadOf: readonly number[], threads: number): string {
  return Array.from({ length: threads }, (_, thread) => `thread ${thread}: partitions ${partitionsOf(threadOf, thread).join(',') || 'none'}`).join(', ');
}

function partitionsOf(threadOf: readonly number[], thread: number): number[] {
  return threadOf.flatMap((owner, partition) => (owner === thread ? [partition] : []));
}

function windowLine(window: ClosedWindow): string {
  return `window ${window.start.slice(11, 16)}-${window.end.slice(11, 16)} UTC: ${formatCount(window.views)} views; top ${window.top.map(({ page, views }) => `${page} (${formatCount(views)})`).join(', ')}`;
}

function summaryLines(summary: DemoSummary, produceSeconds: number, readSeconds: number): string[] {
  const views = sum(summary.windows.map((w) => w.views));
  const windows = `${summary.windows.length} one-minute window${summary.windows.length === 1 ? '' : 's'} closed with ${formatCount(views)} views, ${formatCount(summary.late)} clicks came late`;
  return [
    `${summary.interrupted ? 'interrupted: ' : ''}produced ${formatCount(summary.produced)} click events in ${formatSeconds(produceSeconds)} (${formatRate(summary.produceRate, 'events')}, lz4, acks -1, idempotent)`,
    `the pipeline (${summary.tasks} stream tasks on ${summary.threads} thread${summary.threads === 1 ? '' : 's'}) read and committed ${summary.processed === summary.produced ? 'all ' : ''}` +
      `${formatCount(summary.processed)} in ${formatSeconds(readSeconds)} (${formatRate(summary.processRate, 'events')})`,
    summary.interrupted
      ? `  ${windows}; the windows still open when it stopped were dropped`
      : `  ${windows}: each click counted exactly once; the last windows closed ${formatSeconds(summary.lastWindowsSeconds)} after it had read everything (watermarks move on when input is idle)`,
    ...summary.partitions.map(
      (p) => `  ${CLICKS} partition ${p.partition}: thread ${p.thread}, ${formatCount(p.logEndOffset)} events, ${(p.sizeBytes / 1e6).toFixed(1)} MB, committed up to ${formatCount(p.committedOffset)}`,
    ),
    `data directory: ${summary.dir} (Kafka's layout: one <topic>-<partition> directory of segments per partition); ` +
      `the next run adds to it (npm start -- --reset starts from empty)`,
  ];
}

/** A rate over the last RATE_SPAN_MS of samples of a growing count. */
class RateMeter {
  private samples: Array<{ at: number; count: number }> = [];

  add(at: number, count: number): void {
    this.samples.push({ at, count });
    while (this.samples.length > 2 && this.samples[1].at <= at - RATE_SPAN_MS) this.samples.shift();
  }

  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    return first === undefined || last.at === first.at ? 0 : ((last.count - first.count) * 1000) / (last.at - first.at);
  }
}

/** The live display on a terminal: rates in and out, one line per worker thread, the last complete window. */
class LiveView {
  private readonly bars: cliProgress.MultiBar;
  private readonly inBar: cliProgress.SingleBar;
  private readonly outBar: cliProgress.SingleBar;
  private readonly others: cliProgress.SingleBar[];
  private readonly inRate = new RateMeter();
  private readonly outRate = new RateMeter();
  private readonly threadIn: RateMeter[];
  private readonly threadOut: RateMeter[];
  private state = 'reading';
  /** Set when stopped: the seconds over which in and out are averaged instead. */
  private averaged: { readonly in: number; readonly out: number } | null = null;

  constructor(
    out: Output,
    events: number,
    private readonly progress: Progress,
    private readonly results: ResultsReader,
    threadOf: readonly number[],
    threads: number,
  ) {
    this.bars = new cliProgress.MultiBar({ stream: out.progressStream, hideCursor: true, barsize: 24, fps: 4, clearOnComplete: false });
    const line = (format: () => string) => this.bars.create(1, 0, {}, { format: () => format() });
    this.threadIn = Array.from({ length: threads }, () => new RateMeter());
    this.threadOut = Array.from({ length: threads }, () => new RateMeter());
    this.inBar = this.bars.create(events, 0, {}, {
      format: (options, params) =>
        `in   [${cliProgress.Format.BarFormat(params.progress, options)}] ${formatCount(this.progress.produced)} events produced  ${formatRate(this.rate(this.inRate, 'in', this.progress.produced), 'events')}`,
    });
    this.outBar = this.bars.create(events, 0, {}, {
      format: (options, params) =>
        `out  [${cliProgress.Format.BarFormat(params.progress, options)}] ${formatCount(this.progress.processed())} committed by the pipeline  ` +
        `${formatRate(this.rate(this.outRate, 'out', this.progress.processed()), 'events')}  late ${formatCount(this.progress.late)}  ${this.state}`,
    });
    this.others = [
      ...Array.from({ length: threads }, (_, thread) => {
        const partitions = partitionsOf(threadOf, thread);
        return line(
          () =>
            `thread ${thread}: partitions ${partitions.join(',') || 'none'}  in ${formatRate(this.rate(this.threadIn[thread], 'in', this.appendedOn(thread)))}  ` +
            `out ${formatRate(this.rate(this.threadOut[thread], 'out', this.committedOn(thread)))}`,
        );
      }),
      line(() => {
        const window = this.results.completeWindows().at(-1);
        return window === undefined ? 'no window closed yet' : `last closed ${windowLine(window)}`;
      }),
    ];
  }

  /** Takes the progress in and redraws. */
  draw(): void {
    const now = performance.now();
    this.inRate.add(now, this.progress.produced);
    this.outRate.add(now, this.progress.processed());
    this.threadIn.forEach((meter, thread) => meter.add(now, this.appendedOn(thread)));
    this.threadOut.forEach((meter, thread) => meter.add(now, this.committedOn(thread)));
    this.inBar.update(this.progress.produced);
    this.outBar.update(this.progress.processed());
    for (const bar of this.others) bar.update(0);
  }

  closingLastWindows(): void {
    this.state = 'closing the last windows';
  }

  /** Draws the final state, with in averaged over `inSeconds` and out over `outSeconds`. */
  stop(inSeconds: number, outSeconds: number): void {
    this.state = '';
    this.averaged = { in: inSeconds, out: outSeconds };
    this.draw();
    this.bars.stop();
  }

  private rate(meter: RateMeter, direction: 'in' | 'out', count: number): number {
    return this.averaged === null ? meter.perSecond() : count / this.averaged[direction];
  }

  private appendedOn(thread: number): number {
    return sum(partitionsOf(this.progress.threadOf, thread).map((p) => this.progress.logEnd[p] - this.progress.from[p]));
  }

  private committedOn(thread: number): number {
    return sum(partitionsOf(this.progress.threadOf, thread).map((p) => this.progress.committed[p] - this.progress.from[p]));
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
