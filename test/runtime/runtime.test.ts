import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { lockDir } from '../../src/runtime/dir-lock.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { METADATA_FILE_NAME } from '../../src/runtime/topic-store.js';
import { append, batchFor, readValues, rejection, runtimeFixture, valueAt } from './helpers.js';

const { newDir, open } = runtimeFixture();
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runtime-child.ts');
const run = promisify(execFile);

async function runChild(mode: 'lock' | 'work', dir: string): Promise<{ stdout: string; ms: number }> {
  const started = Date.now();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, mode, dir], { timeout: 20_000 });
  return { stdout, ms: Date.now() - started };
}

describe('Runtime', () => {
  it('keeps topics, settings, placement and records across close and reopen', async () => {
    const dir = newDir();
    const rt = await open({ dir, threads: 2 });
    await rt.admin.createTopic('orders', { partitions: 3, retentionMs: 3_600_000 });
    await rt.admin.createTopic('audit', { compression: 'lz4', timestampType: 'log-append', cleanupPolicy: 'compact' });
    for (let partition = 0; partition < 3; partition++) {
      for (let offset = 0; offset < 6 + partition; offset += 2) await append(rt, 'orders', partition, batchFor('orders', partition, offset, 2));
    }
    await append(rt, 'audit', 0, batchFor('audit', 0, 0, 3));
    await rt.close();
    expect(rt.closed).toBe(true);

    const again = await open({ dir, threads: 2 });
    expect(await again.admin.listTopics()).toEqual(['orders', 'audit']);
    expect(again.topic('audit')).toEqual({ name: 'audit', partitions: 1, compression: 'lz4', timestampType: 'log-append' });
    const orders = await again.admin.describeTopic('orders');
    expect(orders.config.retentionMs).toBe(3_600_000);
    expect(orders.partitions.map((p) => [p.partition, p.thread, p.logStartOffset, p.logEndOffset])).toEqual([
      [0, 0, 0, 6],
      [1, 1, 0, 8],
      [2, 0, 0, 8],
    ]);
    for (let partition = 0; partition < 3; partition++) {
      const values = await readValues(again, 'orders', partition);
      expect(values).toEqual(Array.from({ length: partition === 0 ? 6 : 8 }, (_, offset) => ({ offset, value: valueAt('orders', partition, offset) })));
    }
    expect((await readValues(again, 'audit', 0)).map((r) => r.value)).toEqual([0, 1, 2].map((o) => valueAt('audit', 0, o)));
    // New appends continue where the log ended.
    expect(await append(again, 'orders', 0, batchFor('orders', 0, 6))).toMatchObject({ baseOffset: 6, duplicate: false });
  });

  it('recomputes placement when the number of threads changes between opens', async () => {
    const dir = newDir();
    const rt = await open({ dir, threads: 2 });
    await rt.admin.createTopic('a', { partitions: 3 });
    await rt.admin.createTopic('b', { partitions: 2 });
    expect((await rt.admin.describeTopic('a')).partitions.map((p) => p.thread)).toEqual([0, 1, 0]);
    expect((await rt.admin.describeTopic('b')).partitions.map((p) => p.thread)).toEqual([1, 0]);
    expect(rt.slotLoads()).toEqual([3, 2]);
    await append(rt, 'b', 1, batchFor('b', 1, 0));
    await rt.close();

    const three = await open({ dir, threads: 3 });
    expect((await three.admin.describeTopic('a')).partitions.map((p) => p.thread)).toEqual([0, 1, 2]);
    expect((await three.admin.describeTopic('b')).partitions.map((p) => p.thread)).toEqual([0, 1]);
    expect(await readValues(three, 'b', 1)).toEqual([{ offset: 0, value: valueAt('b', 1, 0) }]);
    await three.close();

    const one = await open({ dir, threads: 1 });
    expect((await one.admin.describeTopic('a')).partitions.map((p) => p.thread)).toEqual([0, 0, 0]);
    expect(await readValues(one, 'b', 1)).toEqual([{ offset: 0, value: valueAt('b', 1, 0) }]);
  });

  it('refuses a second open of the same directory, here and from another process, until the first closes', async () => {
    const dir = newDir();
    const rt = await open({ dir, threads: 1 });
    const error = await rejection(Runtime.open({ dir, threads: 1 }), 'DIR_LOCKED');
    expect(error.message).toContain(fs.realpathSync(dir));
    const other = JSON.parse((await runChild('lock', dir)).stdout) as { opened: boolean; code?: string };
    expect(other).toMatchObject({ opened: false, code: 'DIR_LOCKED' });
    await rt.close();
    expect(JSON.parse((await runChild('lock', dir)).stdout)).toEqual({ opened: true });
  });

  it('lets the process exit on its own after close', async () => {
    const dir = newDir();
    const { stdout } = await runChild('work', dir);
    expect(JSON.parse(stdout)).toEqual({ closed: true });
    const rt = await open({ dir, threads: 1 });
    expect((await readValues(rt, 'exit', 1)).map((r) => r.value)).toEqual(['bye']);
  });

  it('rejects requests for unknown topics and partitions, bad arguments, and any request after close', async () => {
    const rt = await open({ dir: newDir(), threads: 1 });
    await rt.admin.createTopic('t', { partitions: 2 });
    expect((await rejection(append(rt, 'nope', 0, batchFor('nope', 0, 0)), 'UNKNOWN_TOPIC_OR_PARTITION')).details).toEqual({ topic: 'nope' });
    for (const partition of [2, -1, 0.5, Number.NaN]) {
      const error = await rejection(append(rt, 't', partition, batchFor('t', 0, 0)), 'UNKNOWN_TOPIC_OR_PARTITION');
      expect(error.message).toContain('0..1');
    }
    await rejection(rt.request('describePartition', null as never), 'INVALID_REQUEST');
    expect(() => rt.topic('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }));
    await rt.close();
    await rejection(rt.request('describePartition', { topic: 't', partition: 0 }), 'CLOSED');
    await rejection(rt.initProducerId(), 'CLOSED');
    await rejection(rt.admin.createTopic('u'), 'CLOSED');
    await rt.close();
  });

  it('closes promptly with a long-poll fetch parked, failing it with CLOSED', async () => {
    const rt = await open({ dir: newDir(), threads: 1 });
    await rt.admin.createTopic('quiet');
    const fetch = rt.request('fetch', { topic: 'quiet', partition: 0, offset: 0, maxBytes: 1024, maxWaitMs: 20_000, minBytes: 1 });
    const refused = rejection(fetch, 'CLOSED');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await rt.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await refused;
  });

  it.each([
    [{ threads: 0 }, 'threads'],
    [{ threads: 1.5 }, 'threads'],
    [{ dir: '' }, 'dir'],
    [{ requestTimeoutMs: 0 }, 'requestTimeoutMs'],
    [{ retentionCheckIntervalMs: -1 }, 'retentionCheckIntervalMs'],
    [{ thread: 2 }, 'thread'],
  ])('rejects option %j naming the field', async (options, field) => {
    const error = await rejection(Runtime.open(options as never), 'INVALID_CONFIG');
    expect(error.details.field).toBe(field);
  });

  it('hands out producer ids that are never reused across reopens', async () => {
    const dir = newDir();
    const rt = await open({ dir, threads: 1 });
    const first = await Promise.all(Array.from({ length: 10 }, () => rt.initProducerId()));
    expect(new Set(first.map((id) => id.producerId)).size).toBe(10);
    expect(first.every((id) => id.producerEpoch === 0)).toBe(true);
    await rt.close();
    const again = await open({ dir, threads: 1 });
    const next = await again.initProducerId();
    expect(next.producerId).toBeGreaterThan(Math.max(...first.map((id) => id.producerId)));
  });

  it('applies retention on its timer', async () => {
    const rt = await open({ dir: newDir(), threads: 1, retentionCheckIntervalMs: 50 });
    // Records stamped in 2023 are far older than a 1-second retention; small segments roll every batch or two.
    await rt.admin.createTopic('old', { segmentBytes: 200, retentionMs: 1000 });
    for (let offset = 0; offset < 10; offset += 2) await append(rt, 'old', 0, batchFor('old', 0, offset, 2));
    const deadline = Date.now() + 5000;
    let state = (await rt.admin.describeTopic('old')).partitions[0];
    while (state.logStartOffset === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await rt.admin.describeTopic('old')).partitions[0];
    }
    expect(state.logStartOffset).toBeGreaterThan(0);
    expect(state.logEndOffset).toBe(10);
  });

  it('fails to open on unreadable metadata and leaves the directory unlocked', async () => {
    const dir = newDir();
    fs.writeFileSync(path.join(dir, METADATA_FILE_NAME), '{"version": 1, "topics": [{"name": "../x", "partitions": 1, "config": {}}], "producerIdBlockEnd": 0}');
    const error = await rejection(Runtime.open({ dir, threads: 1 }), 'STORAGE_ERROR');
    expect(error.message).toContain('../x');
    lockDir(dir).release();
  });
});
