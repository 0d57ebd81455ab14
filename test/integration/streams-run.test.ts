/**
 * `rt.run` across worker threads: a windowed count of seeded click events by two tasks on two
 * threads, compared with the count computed directly from the events; stopping and running again;
 * and a worker thread killed in the middle of a run.
 *
 * How results compare. The expected result is the number of events per (user, minute), counted
 * from the generated events in the test. The topic has one partition per thread, so each task
 * reads one partition in offset order, and the watermark's bound (5 s) exceeds the generator's
 * disorder (2 s): no record is late, in any run. With `emit: 'final'` a window is written once when
 * it closes; at-least-once allows a window to be written again after a restart (its records were
 * read again), so the comparison takes every result written, checks that all results for one
 * (user, window) agree, and that the set of (user, window, count) equals the expected one.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Tributary } from '../../src/index.js';
import { ClickStream, type ClickRecord } from '../../src/workload/click-events.js';
import { SeededRandom } from '../../src/workload/random.js';
import { integrationFixture, readTopic, sleep, threadsOf, until } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

const FIXTURES = path.join(import.meta.dirname, '..', 'streams', 'fixtures');
const PIPELINE = pathToFileURL(path.join(FIXTURES, 'click-counts.ts'));
const LIVE_PIPELINE = pathToFileURL(path.join(FIXTURES, 'click-counts-live.ts'));
const EVENTS = 20_000;
const MINUTE = 60_000;

interface Click {
  readonly user: string;
  readonly ts: number;
}

/** The seeded clicks, keyed by user: 200 s of event time, so about four one-minute windows per user. */
function clickRecords(): ClickRecord[] {
  return new ClickStream({ seed: 42, eventsPerSecond: 100, users: 300 }).records(EVENTS);
}

/** A runtime with `clicks` (one partition per thread) holding the first `seed` clicks, and an empty `click-counts`. */
async function seeded(seed = EVENTS, dir = newDir()): Promise<{ rt: Tributary; records: ClickRecord[]; clicks: Click[] }> {
  const rt = await openRuntime({ dir, threads: 2 });
  await rt.admin.createTopic('clicks', { partitions: 2 });
  await rt.admin.createTopic('click-counts', { partitions: 2 });
  const records = clickRecords();
  await send(rt, records.slice(0, seed));
  return { rt, records, clicks: records.map((r) => ({ user: r.key.toString(), ts: r.timestamp })) };
}

async function send(rt: Tributary, records: readonly ClickRecord[]): Promise<void> {
  const producer = rt.producer();
  for (let i = 0; i < records.length; i += 5_000) await producer.send({ topic: 'clicks', messages: records.slice(i, i + 5_000) });
  await producer.disconnect();
}

/** Resolves once the run's group has committed every partition of `clicks` up to its end. */
async function caughtUp(rt: Tributary, name: string): Promise<void> {
  for (;;) {
    const { partitions } = await rt.admin.describeGroup(name);
    const clicks = partitions.filter((entry) => entry.topic === 'clicks');
    if (clicks.length === 2 && clicks.every((entry) => entry.lag === 0)) return;
    await sleep(50);
  }
}

/** Events per (user, window start), as `key@start` -> count. */
function expectedCounts(clicks: readonly Click[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { user, ts } of clicks) {
    const id = `${user}@${Math.floor(ts / MINUTE) * MINUTE}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Every result written, grouped by (user, window start); fails if two results of one window disagree. */
async function writtenCounts(rt: Tributary): Promise<{ counts: Map<string, number>; written: number }> {
  const counts = new Map<string, number>();
  let written = 0;
  for (const partition of await readTopic(rt, 'click-counts')) {
    for (const record of partition) {
      const { window, value, final } = JSON.parse(record.value!.toString()) as { window: { start: number; end: number }; value: number; final: boolean };
      expect(final).toBe(true);
      expect(window.end - window.start).toBe(MINUTE);
      const id = `${record.key!.toString()}@${window.start}`;
      const earlier = counts.get(id);
      if (earlier !== undefined) expect(value, `two results for ${id}`).toBe(earlier);
      counts.set(id, value);
      written++;
    }
  }
  return { counts, written };
}

describe('rt.run', () => {
  it('counts windows in two tasks on two threads, each reading the partition of its own thread, as a direct count does', async () => {
    const { rt, clicks } = await seeded();
    const run = await rt.run(PIPELINE, { name: 'clicks-per-minute', parallelism: 2, commitIntervalMs: 200 });
    expect(run.tasks.map((task) => task.slot)).toEqual([0, 1]);
    await run.done;
    expect(run.tasks.map((task) => task.state)).toEqual(['completed', 'completed']);

    const expected = expectedCounts(clicks);
    const { counts, written } = await writtenCounts(rt);
    expect(counts).toEqual(expected);
    expect(written).toBe(expected.size);

    // Every task committed its input to the end, then left the group.
    const group = await rt.admin.describeGroup('clicks-per-minute');
    expect(group.members).toEqual([]);
    expect(group.partitions.filter((entry) => entry.topic === 'clicks').map((entry) => entry.lag)).toEqual([0, 0]);
  });

  it('tasks with a backlog ready run side by side: a task emitting batches it already has still lets its thread serve its group', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('backlog', { partitions: 2 });
    await rt.admin.createTopic('processed-at', { partitions: 2 });
    const producer = rt.producer();
    for (let i = 0; i < 60; i++) {
      await producer.send({ topic: 'backlog', messages: Array.from({ length: 20_000 }, (_, j) => ({ value: 'x', partition: j % 2 })) });
    }
    await producer.disconnect();
    await (await rt.run(pathToFileURL(path.join(FIXTURES, 'processing-times.ts')), { name: 'processing-times' })).done;
    // When each task processed its partition: the two spans overlap, rather than one task waiting for the other to finish.
    const spans = (await readTopic(rt, 'processed-at')).map((records) => {
      const times = records.map((record) => Number(record.value!.toString()));
      expect(times).toHaveLength(600_000);
      return { from: times.reduce((a, b) => Math.min(a, b)), to: times.reduce((a, b) => Math.max(a, b)) };
    });
    expect(Math.max(spans[0].from, spans[1].from)).toBeLessThan(Math.min(spans[0].to, spans[1].to));
  });

  it('a stopped run commits and leaves; run again, it resumes from its commits with its windows restored', async () => {
    const { rt, records, clicks } = await seeded(EVENTS / 2);
    const live = await rt.run(LIVE_PIPELINE, { name: 'clicks-per-minute', parallelism: 2, commitIntervalMs: 100 });
    await caughtUp(rt, 'clicks-per-minute');
    // While it runs, each task is the static member on its thread and holds the partition its thread hosts.
    const group = await rt.admin.describeGroup('clicks-per-minute');
    expect(group.state).toBe('Stable');
    for (const member of group.members) {
      const index = Number(member.groupInstanceId!.split('-').pop());
      expect(member.assignment.map((tp) => rt.runtime.slotOf(tp.topic, tp.partition))).toEqual([index]);
    }
    await live.stop();
    expect(live.tasks.map((task) => task.state)).toEqual(['stopped', 'stopped']);
    await live.done;
    const before = await writtenCounts(rt);
    expect(before.written).toBeGreaterThan(0);
    expect(before.written).toBeLessThan(expectedCounts(clicks.slice(0, EVENTS / 2)).size);

    await send(rt, records.slice(EVENTS / 2));
    const rest = await rt.run(PIPELINE, { name: 'clicks-per-minute', parallelism: 2, commitIntervalMs: 100 });
    await rest.done;
    const expected = expectedCounts(clicks);
    const { counts, written } = await writtenCounts(rt);
    expect(counts).toEqual(expected);
    // Nothing was read twice: no window was written again.
    expect(written).toBe(expected.size);
  });

  it('a worker thread killed mid-run: its task starts again on the replacement thread from its last commit, and the final counts equal an uninterrupted run', async () => {
    const { rt, records, clicks } = await seeded(EVENTS / 4);
    const restarted: number[] = [];
    rt.on('workerRestarted', (event) => restarted.push(event.slot));
    const live = await rt.run(LIVE_PIPELINE, { name: 'clicks-per-minute', parallelism: 2, commitIntervalMs: 50 });
    await caughtUp(rt, 'clicks-per-minute');
    // More clicks arrive while a thread dies: the task on it loses what it did since its last commit.
    const arriving = (async () => {
      for (let from = EVENTS / 4; from < (3 * EVENTS) / 4; from += 1_000) {
        await send(rt, records.slice(from, from + 1_000));
        await sleep(20);
      }
    })();
    await sleep(150);
    void threadsOf(rt)[0].terminate();
    await arriving;
    await until(() => restarted.length === 1);
    await until(() => live.tasks.some((task) => task.restarts === 1));
    await caughtUp(rt, 'clicks-per-minute');
    await live.stop();
    await live.done;
    // The last clicks go to a bounded run, which closes the windows still open at its end.
    await send(rt, records.slice((3 * EVENTS) / 4));
    await (await rt.run(PIPELINE, { name: 'clicks-per-minute', parallelism: 2, commitIntervalMs: 50 })).done;

    const expected = expectedCounts(clicks);
    const { counts, written } = await writtenCounts(rt);
    expect(counts).toEqual(expected);
    // Windows closed between the dead task's last commit and its death may be written twice, with equal counts.
    expect(written).toBeGreaterThanOrEqual(expected.size);
  });

  it('joins co-partitioned topics placed on different threads: partition p of both goes to one task, and a windowed join finds every pair', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('clicks', { partitions: 4 });
    // One partition between the two topics shifts the placement of the second: partition p of views is on the other thread.
    await rt.admin.createTopic('spacer', { partitions: 1 });
    await rt.admin.createTopic('views', { partitions: 4 });
    await rt.admin.createTopic('pairs', { partitions: 2 });
    for (let p = 0; p < 4; p++) expect(rt.runtime.slotOf('views', p)).not.toBe(rt.runtime.slotOf('clicks', p));

    const random = new SeededRandom(3);
    const event = (i: number) => ({ key: `u${random.int(40)}`, value: String(i), timestamp: 1_000_000 + random.int(120_000) });
    const clicks = Array.from({ length: 600 }, (_, i) => event(i));
    const views = Array.from({ length: 600 }, (_, i) => event(i));
    const producer = rt.producer();
    await producer.send({ topic: 'clicks', messages: clicks });
    await producer.send({ topic: 'views', messages: views });
    await producer.disconnect();

    const run = await rt.run(pathToFileURL(path.join(FIXTURES, 'click-view-join.ts')), { name: 'click-views', parallelism: 2, commitIntervalMs: 100 });
    await run.done;
    let expected = 0;
    for (const click of clicks) for (const view of views) if (click.key === view.key && Math.abs(click.timestamp - view.timestamp) <= 10_000) expected++;
    const pairs = (await readTopic(rt, 'pairs')).flat().map((record) => record.value!.toString());
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(pairs.length).toBe(expected);
  });

  it('the whole process killed (SIGKILL) mid-run: reopened, the run resumes from its commits with its windows restored, and the final counts equal an uninterrupted run', async () => {
    const dir = newDir();
    const { rt, records, clicks } = await seeded(EVENTS / 2, dir);
    await rt.close();
    // The child runs the live pipeline on the directory; killed once some offsets are committed, with windows still open in its stores.
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(FIXTURES, 'run-until-killed.ts'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      const safety = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        if (/^committed \d+$/m.test(chunk.toString())) child.kill('SIGKILL');
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(safety);
        if (signal === 'SIGKILL' && !stderr.includes('Error')) resolve();
        else reject(new Error(`the run's process ended by itself (code ${code}, signal ${signal}): ${stderr}`));
      });
    });

    const reopened = await openRuntime({ dir, threads: 2 });
    const { partitions } = await reopened.admin.describeGroup('clicks-per-minute');
    const committed = partitions.filter((entry) => entry.topic === 'clicks').reduce((sum, entry) => sum + (entry.committedOffset ?? 0), 0);
    expect(committed).toBeGreaterThan(0);
    await send(reopened, records.slice(EVENTS / 2));
    await (await reopened.run(PIPELINE, { name: 'clicks-per-minute', parallelism: 2, commitIntervalMs: 50 })).done;

    const expected = expectedCounts(clicks);
    const { counts, written } = await writtenCounts(reopened);
    expect(counts).toEqual(expected);
    expect(written).toBeGreaterThanOrEqual(expected.size);
  });

  it('a stream-table join loads the table before the stream flows: every click finds its user, whose table partition its task reads', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('clicks', { partitions: 4 });
    await rt.admin.createTopic('spacer', { partitions: 1 });
    await rt.admin.createTopic('users', { partitions: 4, cleanupPolicy: 'compact' });
    await rt.admin.createTopic('click-plans', { partitions: 2 });
    const plans = ['free', 'pro', 'team'];
    const users = Array.from({ length: 300 }, (_, i) => ({ key: `u${i}`, value: JSON.stringify({ plan: plans[i % 3] }) }));
    const clicks = new ClickStream({ seed: 4, eventsPerSecond: 100, users: 300 }).records(3_000);
    const producer = rt.producer();
    await producer.send({ topic: 'users', messages: users });
    await producer.send({ topic: 'clicks', messages: clicks });
    await producer.disconnect();

    await (await rt.run(pathToFileURL(path.join(FIXTURES, 'click-plans.ts')), { name: 'click-plans', parallelism: 2 })).done;
    const joined = (await readTopic(rt, 'click-plans')).flat();
    expect(joined).toHaveLength(clicks.length);
    for (const record of joined) expect(record.value!.toString()).toBe(plans[Number(record.key!.toString().slice(1)) % 3]);
  });
});
