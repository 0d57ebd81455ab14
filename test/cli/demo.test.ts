/**
 * `tributary demo` end to end, small: the same program as `npm start`, run on one directory fresh,
 * reused, after events an interrupted run left unread, after a run stopped midway (as Ctrl-C
 * stops it), and reset. Each JSON summary is checked against what the run did, and against what
 * it left behind: the pipeline's consumer group (committed offsets, no members) and every result
 * in `page-views`, whose views add up to the clicks read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoSummary } from '../../examples/demo.js';
import type { PageViews } from '../../examples/pipelines/page-views.js';
import { Output } from '../../src/cli/output.js';
import { open } from '../../src/index.js';
import { source } from '../../src/streams/index.js';
import { ClickStream } from '../../src/workload/click-events.js';
import { runCli } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cli-demo-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const EVENTS = 5_000;
const MINUTE = 60_000;

async function demo(...args: string[]): Promise<DemoSummary> {
  const result = await runCli(['demo', '--events', String(EVENTS), '--threads', '1', '--dir', dir, '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as DemoSummary;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
const windowViews = (summary: DemoSummary) => sum(summary.windows.map((w) => w.views));

/** A clean run: every click produced was read and committed, and counted in exactly one closed window. */
function expectCountedExactly(summary: DemoSummary): void {
  expect(summary).toMatchObject({ interrupted: false, produced: EVENTS, processed: EVENTS, late: 0, tasks: 8 });
  expect(windowViews(summary)).toBe(EVENTS);
  for (const w of summary.windows) {
    expect(Date.parse(w.start) % MINUTE).toBe(0);
    expect(Date.parse(w.end) - Date.parse(w.start)).toBe(MINUTE);
    expect(w.top.length).toBeGreaterThan(0);
    expect(w.top.map((t) => t.views)).toEqual([...w.top.map((t) => t.views)].sort((a, b) => b - a));
  }
  expect(summary.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  for (const p of summary.partitions) expect(p.committedOffset).toBe(p.logEndOffset);
}

/** What the runs left: the group's committed offsets on `clicks` and its members, the views in all of `page-views`, the records in `clicks-late`. */
async function leftBehind(): Promise<{ committed: number; logEnd: number; members: number; views: number; late: number }> {
  const rt = await open({ dir, threads: 1 });
  try {
    const group = await rt.admin.describeGroup('page-views');
    const clicks = group.partitions.filter((p) => p.topic === 'clicks');
    const results = await lastValueFrom(source<PageViews>('page-views', { serde: 'json', to: 'end' }).pipe(toArray()));
    return {
      committed: sum(clicks.map((p) => p.committedOffset ?? 0)),
      logEnd: sum(clicks.map((p) => p.logEndOffset)),
      members: group.members.length,
      views: sum(results.map((r) => r.value.views)),
      late: sum((await rt.admin.fetchTopicOffsets('clicks-late')).map((p) => Number(p.high))),
    };
  } finally {
    await rt.close();
  }
}

describe('tributary demo', () => {
  it('streams the events through the pipeline run across the worker threads, each counted in exactly one closed window', async () => {
    const first = await demo();
    expectCountedExactly(first);
    expect(first).toMatchObject({ keptFromEarlierRuns: 0, skippedFromEarlierRuns: 0 });
    expect(await leftBehind()).toEqual({ committed: EVENTS, logEnd: EVENTS, members: 0, views: EVENTS, late: 0 });
  });

  it("a second run reuses the data: the group resumes from its commits, so the pipeline counts only this run's events", async () => {
    const second = await demo();
    expectCountedExactly(second);
    expect(second).toMatchObject({ keptFromEarlierRuns: EVENTS, skippedFromEarlierRuns: 0 });
    expect(sum(second.partitions.map((p) => p.logEndOffset))).toBe(2 * EVENTS);
    expect(await leftBehind()).toEqual({ committed: 2 * EVENTS, logEnd: 2 * EVENTS, members: 0, views: 2 * EVENTS, late: 0 });
  });

  it('events an interrupted run left unread are skipped, with a word, rather than counted with this run', async () => {
    const rt = await open({ dir, threads: 1 });
    const producer = rt.producer();
    await producer.send({ topic: 'clicks', messages: new ClickStream({ seed: 7, startTime: Date.now() + 3_600_000 }).records(1_000) });
    await producer.disconnect();
    await rt.close();

    const result = await runCli(['demo', '--events', String(EVENTS), '--threads', '1', '--dir', dir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/consumer group was 1,000 events behind the end of clicks/);
    const summary = JSON.parse(result.stdout) as DemoSummary;
    expectCountedExactly(summary);
    expect(summary).toMatchObject({ keptFromEarlierRuns: 2 * EVENTS + 1_000, skippedFromEarlierRuns: 1_000 });
    expect(await leftBehind()).toMatchObject({ committed: 3 * EVENTS + 1_000, views: 3 * EVENTS, members: 0 });
  });

  it('stopped midway, as Ctrl-C stops it, the run commits what it read and leaves; the next run skips what it did not read', async () => {
    const stopping = new AbortController();
    const stderr = new PassThrough();
    // Stop once the pipeline has started and the producer is well under way.
    stderr.on('data', (line: Buffer) => {
      if (line.toString().includes("run 'page-views'")) setTimeout(() => stopping.abort(), 1_000);
    });
    const before = await leftBehind();
    const stopped = await runDemo({ dir, threads: 1, events: 2_000_000, signal: stopping.signal, out: new Output(new PassThrough(), stderr, true) });
    expect(stopped.interrupted).toBe(true);
    expect(stopped.produced).toBeLessThan(2_000_000);
    expect(stopped.processed).toBeLessThanOrEqual(stopped.produced);
    // Only windows every task had closed are reported, each from clicks the pipeline read.
    expect(windowViews(stopped) + stopped.late).toBeLessThanOrEqual(stopped.processed);
    const after = await leftBehind();
    expect(after).toMatchObject({ committed: before.committed + stopped.processed, logEnd: before.logEnd + stopped.produced, members: 0 });

    const next = await demo();
    expectCountedExactly(next);
    expect(next.skippedFromEarlierRuns).toBe(stopped.produced - stopped.processed);
  });

  it('--reset deletes the topics and the consumer group first', async () => {
    const reset = await demo('--reset');
    expectCountedExactly(reset);
    expect(reset).toMatchObject({ keptFromEarlierRuns: 0, skippedFromEarlierRuns: 0 });
    expect(await leftBehind()).toEqual({ committed: EVENTS, logEnd: EVENTS, members: 0, views: EVENTS, late: 0 });
  });
});
