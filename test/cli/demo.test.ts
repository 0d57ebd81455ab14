/**
 * `tributary demo` end to end, small: the same program as `npm start`, run three times on one
 * directory (fresh, reused, reset), its JSON summary checked against what it did and against the
 * topics it leaves behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { runCli } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cli-demo-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const EVENTS = 5_000;

interface Summary {
  interrupted: boolean;
  produced: number;
  processed: number;
  late: number;
  keptFromEarlierRuns: number;
  windows: Array<{ start: string; end: string; views: number; top: Array<{ page: string; views: number }> }>;
  partitions: Array<{ partition: number; thread: number; logEndOffset: number }>;
}

async function demo(...args: string[]): Promise<Summary> {
  const result = await runCli(['demo', '--events', String(EVENTS), '--threads', '1', '--dir', dir, '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Summary;
}

describe('tributary demo', () => {
  it('streams the events through the windowed pipeline, and reuses or resets the data on later runs', async () => {
    const first = await demo();
    expect(first).toMatchObject({ interrupted: false, produced: EVENTS, processed: EVENTS, late: 0, keptFromEarlierRuns: 0 });
    // Every event counted in exactly one closed one-minute window; each window's top pages in order.
    expect(first.windows.reduce((sum, w) => sum + w.views, 0)).toBe(EVENTS);
    for (const w of first.windows) {
      expect(Date.parse(w.end) - Date.parse(w.start)).toBe(60_000);
      expect(w.top.map((t) => t.views)).toEqual([...w.top.map((t) => t.views)].sort((a, b) => b - a));
    }
    expect(first.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(first.partitions.reduce((sum, p) => sum + p.logEndOffset, 0)).toBe(EVENTS);

    const second = await demo();
    expect(second).toMatchObject({ produced: EVENTS, processed: EVENTS, keptFromEarlierRuns: EVENTS });
    expect(second.partitions.reduce((sum, p) => sum + p.logEndOffset, 0)).toBe(2 * EVENTS);

    const reset = await demo('--reset');
    expect(reset).toMatchObject({ produced: EVENTS, processed: EVENTS, keptFromEarlierRuns: 0 });
    expect(reset.partitions.reduce((sum, p) => sum + p.logEndOffset, 0)).toBe(EVENTS);

    // The pipeline's sink: each closed window's top pages in page-views.
    const rt = await open({ dir, threads: 1 });
    try {
      const written = (await rt.admin.fetchTopicOffsets('page-views')).reduce((sum, p) => sum + Number(p.high), 0);
      expect(written).toBe(reset.windows.reduce((sum, w) => sum + w.top.length, 0));
    } finally {
      await rt.close();
    }
  });
});
