/**
 * `repartition()` inside `rt.run`: seeded clicks keyed by user, counted per page by tasks on two
 * threads after a repartition by page. Without it each task would count its share of every page;
 * with it each page is counted by one task, and the results equal a direct count. Bounded runs
 * complete through the end markers; the repartition topic is emptied as tasks commit; a second run
 * of the same name is not fooled by the first run's markers; a thread killed mid-run loses nothing.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Tributary } from '../../src/index.js';
import { END_MARKER_HEADER } from '../../src/streams/end-markers.js';
import { ClickStream, type ClickEvent, type ClickRecord } from '../../src/workload/click-events.js';
import { integrationFixture, readTopic, sleep, threadsOf, until } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

const FIXTURES = path.join(import.meta.dirname, '..', 'streams', 'fixtures');
// The pipeline of examples/page-counts.ts: a repartition by page (named 'by-page'), then a count per page.
const PAGE_COUNTS = pathToFileURL(path.join(import.meta.dirname, '..', '..', 'examples', 'pipelines', 'page-counts.ts'));
const PAGE_WINDOWS = pathToFileURL(path.join(FIXTURES, 'page-windows.ts'));
const EVENTS = 12_000;
const MINUTE = 60_000;

function clickRecords(seed = 7): ClickRecord[] {
  return new ClickStream({ seed, eventsPerSecond: 100, users: 500 }).records(EVENTS);
}

async function seeded(records: readonly ClickRecord[]): Promise<Tributary> {
  const rt = await openRuntime({ dir: newDir(), threads: 2 });
  await rt.admin.createTopic('clicks', { partitions: 4 });
  await rt.admin.createTopic('page-counts', { partitions: 3 });
  await rt.admin.createTopic('page-windows', { partitions: 3 });
  await send(rt, records);
  return rt;
}

async function send(rt: Tributary, records: readonly ClickRecord[]): Promise<void> {
  const producer = rt.producer();
  for (let i = 0; i < records.length; i += 4_000) await producer.send({ topic: 'clicks', messages: records.slice(i, i + 4_000) });
  await producer.disconnect();
}

const pageOf = (record: ClickRecord): string => (JSON.parse(record.value.toString()) as ClickEvent).page;

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

/** Every count written to `page-counts`, per page in the order written. */
async function writtenPageCounts(rt: Tributary): Promise<Map<string, number[]>> {
  const byPage = new Map<string, number[]>();
  for (const partition of await readTopic(rt, 'page-counts')) {
    for (const record of partition) {
      const page = record.key!.toString();
      byPage.set(page, [...(byPage.get(page) ?? []), Number(record.value!.toString())]);
    }
  }
  return byPage;
}

describe('repartition in rt.run', () => {
  it('two tasks on two threads count clicks per page as a direct count does, each page counted by one task', async () => {
    const records = clickRecords();
    const rt = await seeded(records);
    const run = await rt.run(PAGE_COUNTS, { name: 'pages', parallelism: 2, commitIntervalMs: 100 });
    await run.done;
    expect(run.tasks.map((task) => task.state)).toEqual(['completed', 'completed']);

    // The internal topic: as many partitions as the input, named after the run and the repartition.
    const internal = rt.runtime.storedTopic('pages-by-page-repartition')!;
    expect(internal.partitions).toBe(4);

    const expected = countBy(records, pageOf);
    const written = await writtenPageCounts(rt);
    expect(new Map([...written].map(([page, counts]) => [page, counts[counts.length - 1]]))).toEqual(expected);
    // One task counted each page: its counts went up one by one, with no second task's partial count interleaved.
    for (const [page, counts] of written) expect(counts, page).toEqual(Array.from({ length: expected.get(page)! }, (_, i) => i + 1));

    // Records read and committed were deleted from the repartition topic, end markers included.
    const offsets = await rt.admin.fetchTopicOffsets('pages-by-page-repartition');
    for (const { low, high } of offsets) expect(low).toBe(high);
    expect(offsets.reduce((sum, { high }) => sum + Number(high), 0)).toBe(EVENTS + 2 * 4);
  });

  it('windows after a repartition close at the end of a bounded run, with per-page counts equal to a direct count', async () => {
    const records = clickRecords(11);
    const rt = await seeded(records);
    await (await rt.run(PAGE_WINDOWS, { name: 'page-minutes', parallelism: 3, commitIntervalMs: 100 })).done;
    expect(rt.runtime.storedTopic('page-minutes-repartition-0-repartition')?.partitions).toBe(4);

    const expected = countBy(records, (record) => `${pageOf(record)}@${Math.floor(record.timestamp / MINUTE) * MINUTE}`);
    const written = new Map<string, number>();
    for (const partition of await readTopic(rt, 'page-windows')) {
      for (const record of partition) {
        const { window, value } = JSON.parse(record.value!.toString()) as { window: { start: number }; value: number };
        const id = `${record.key!.toString()}@${window.start}`;
        expect(written.has(id), `${id} written twice`).toBe(false);
        written.set(id, value);
      }
    }
    expect(written).toEqual(expected);
  });

  it("a second run of the same name waits for its own end markers, not the first run's", async () => {
    const records = clickRecords(3);
    const rt = await seeded(records.slice(0, EVENTS / 2));
    await (await rt.run(PAGE_COUNTS, { name: 'pages', parallelism: 2, commitIntervalMs: 100 })).done;
    // The first run's markers are still in the topic of a run stopped before reading them; here they are all read and purged,
    // so write stale ones by hand: a second run must ignore them.
    const producer = rt.producer();
    for (const writer of [0, 1]) {
      await producer.send({
        topic: 'pages-by-page-repartition',
        messages: [0, 1, 2, 3].map((partition) => ({ value: null, partition, headers: [{ key: END_MARKER_HEADER, value: `stale-run/${writer}` }] })),
      });
    }
    await producer.disconnect();
    await send(rt, records.slice(EVENTS / 2));
    await (await rt.run(PAGE_COUNTS, { name: 'pages', parallelism: 2, commitIntervalMs: 100 })).done;

    const expected = countBy(records, pageOf);
    const written = await writtenPageCounts(rt);
    expect(new Map([...written].map(([page, counts]) => [page, counts[counts.length - 1]]))).toEqual(expected);
  });

  it('a worker thread killed mid-run: the run still completes, and every click is counted (at least once)', async () => {
    const records = clickRecords(5);
    const rt = await seeded(records);
    const restarted: number[] = [];
    rt.on('workerRestarted', (event) => restarted.push(event.slot));
    const run = await rt.run(PAGE_COUNTS, { name: 'pages', parallelism: 2, commitIntervalMs: 20 });
    await sleep(100);
    void threadsOf(rt)[1].terminate();
    await until(() => restarted.length === 1);
    await run.done;
    expect(run.tasks.map((task) => task.state)).toEqual(['completed', 'completed']);
    expect(run.tasks[1].restarts).toBe(1);

    const expected = countBy(records, pageOf);
    const written = await writtenPageCounts(rt);
    expect([...written.keys()].sort()).toEqual([...expected.keys()].sort());
    // At-least-once: clicks the dead task had repartitioned since its last commit are repartitioned again, and may be counted twice.
    for (const [page, counts] of written) expect(counts[counts.length - 1], page).toBeGreaterThanOrEqual(expected.get(page)!);
  });

  it('a task killed after committing some end markers restores them: it does not wait for markers already read and deleted', async () => {
    const records = new ClickStream({ seed: 9, eventsPerSecond: 100, users: 500 }).records(4 * EVENTS);
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('clicks', { partitions: 4 });
    await rt.admin.createTopic('page-counts', { partitions: 3 });
    // The killed thread must not host the group's coordinator: that would make every task start over, writing its markers again.
    const coordinator = await rt.runtime.groupCoordinator('pages');
    const slow = 1 - rt.runtime.slotOf(coordinator.topic, coordinator.partition)!;
    const fast = 1 - slow;
    // The fast task's input is small and ends at once; the slow task's is large, so it reads the fast one's markers while still repartitioning its own.
    const producer = rt.producer();
    const onThread = (thread: number, i: number): number => [0, 1, 2, 3].filter((p) => rt.runtime.slotOf('clicks', p) === thread)[i % 2];
    for (let i = 0; i < records.length; i += 4_000) {
      await producer.send({ topic: 'clicks', messages: records.slice(i, i + 4_000).map((record, j) => ({ ...record, partition: onThread(i + j < 400 ? fast : slow, j) })) });
    }
    await producer.disconnect();

    const restarted: number[] = [];
    rt.on('workerRestarted', (event) => restarted.push(event.slot));
    const run = await rt.run(PAGE_COUNTS, { name: 'pages', parallelism: 2, commitIntervalMs: 10 });
    // Wait for a commit of the slow task (task i runs on thread i) that records the fast task's markers in some partition, then kill its thread.
    const internal = 'pages-by-page-repartition';
    const fastMarker = (1 << fast).toString(16);
    for (;;) {
      const [{ partitions }] = await rt.admin.fetchOffsets({ groupId: 'pages', topics: [internal] });
      const recorded = partitions.some(({ partition, metadata }) => {
        // Tasks read partition p of every topic of the run (co-partitioning), so the task of the thread hosting partition p of clicks reads this one.
        if (metadata === null || rt.runtime.slotOf('clicks', partition) !== slow) return false;
        const ended = (JSON.parse(metadata) as { ended?: Record<string, Record<string, string>> }).ended?.[internal] ?? {};
        return Object.values(ended).includes(fastMarker);
      });
      if (recorded) break;
      expect(run.tasks[slow].state).toBe('running');
      await sleep(2);
    }
    void threadsOf(rt)[slow].terminate();
    await until(() => restarted.length === 1);
    await run.done;
    expect(run.tasks.map((task) => task.state)).toEqual(['completed', 'completed']);
    expect(run.tasks[slow].restarts).toBe(1);

    const expected = countBy(records, pageOf);
    for (const [page, counts] of await writtenPageCounts(rt)) expect(counts[counts.length - 1], page).toBeGreaterThanOrEqual(expected.get(page)!);
  });
});
