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
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Tributary } from '../../src/index.js';
import { ClickStream } from '../../src/workload/click-events.js';
import { integrationFixture, readTopic } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

const PIPELINE = pathToFileURL(path.join(import.meta.dirname, '..', 'streams', 'fixtures', 'click-counts.ts'));
const EVENTS = 20_000;
const MINUTE = 60_000;

interface Click {
  readonly user: string;
  readonly ts: number;
}

/** A runtime with the seeded clicks in `clicks` (one partition per thread, keyed by user) and an empty `click-counts`. */
async function seeded(dir = newDir()): Promise<{ rt: Tributary; clicks: Click[] }> {
  const rt = await openRuntime({ dir, threads: 2 });
  await rt.admin.createTopic('clicks', { partitions: 2 });
  await rt.admin.createTopic('click-counts', { partitions: 2 });
  const stream = new ClickStream({ seed: 42, eventsPerSecond: 100, users: 300 });
  const records = stream.records(EVENTS);
  const producer = rt.producer();
  for (let i = 0; i < records.length; i += 5_000) await producer.send({ topic: 'clicks', messages: records.slice(i, i + 5_000) });
  await producer.disconnect();
  return { rt, clicks: records.map((r) => ({ user: r.key.toString(), ts: r.timestamp })) };
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
});
