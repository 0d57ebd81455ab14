/**
 * Shared pieces of the integration tests, which drive tributary only through its public facade
 * (`open()` and what it returns) with real worker threads: temporary data directories and
 * runtimes that are closed and removed after each test even when it fails, reading a whole topic
 * back with a consumer, and reaching the worker threads so that a test can kill one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach } from 'vitest';
import { open, type Tributary, type TributaryOptions } from '../../src/index.js';

/**
 * Returns `newDir()` (a fresh directory under the OS temp dir) and `openRuntime()` (the facade's
 * `open`, remembered). After each test every runtime opened is closed, then every directory is
 * removed; a close that fails fails the test after the directories are gone.
 */
export function integrationFixture(): {
  newDir: () => string;
  openRuntime: (options: TributaryOptions) => Promise<Tributary>;
} {
  const dirs: string[] = [];
  const runtimes: Tributary[] = [];
  afterEach(async () => {
    const closed = await Promise.allSettled(runtimes.splice(0).map((rt) => rt.close()));
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    const failure = closed.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  });
  return {
    newDir: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-integration-'));
      dirs.push(dir);
      return dir;
    },
    openRuntime: async (options) => {
      const rt = await open(options);
      runtimes.push(rt);
      return rt;
    },
  };
}

/** The runtime's worker threads, reached past its privacy as test/runtime/supervision.test.ts does: only a test kills them. */
export function threadsOf(rt: Tributary): Worker[] {
  return rt.runtime['pool'].threads;
}

/** A record as read back, with its bytes copied out of the fetched buffers so that it outlives them. */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
}

const copy = (bytes: Buffer | null): Buffer | null => (bytes === null ? null : Buffer.from(bytes));

/**
 * Every record of `topic`, by partition in offset order, from each partition's log start up to
 * its high watermark as `fetchTopicOffsets` reports it when the call starts. Reads with a fresh
 * consumer of the facade and a native iterator.
 */
export async function readTopic(rt: Tributary, topic: string): Promise<ReadRecord[][]> {
  const offsets = await rt.admin.fetchTopicOffsets(topic);
  const byPartition: ReadRecord[][] = offsets.map(() => []);
  const remaining = new Map<number, number>();
  for (const { partition, low, high } of offsets) if (Number(high) > Number(low)) remaining.set(partition, Number(high));
  if (remaining.size === 0) return byPartition;
  // A short long-poll: partitions read to their end wait at most this long, and the close does not wait for them anyway.
  const consumer = rt.consumer({ maxWaitTimeInMs: 100 });
  try {
    consumer.assign(offsets.filter((o) => remaining.has(o.partition)).map((o) => ({ topic, partition: o.partition, offset: o.low })));
    for await (const record of consumer) {
      byPartition[record.partition].push({
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        key: copy(record.key),
        value: copy(record.value),
        headers: record.headers.map((header) => ({ key: header.key, value: copy(header.value) })),
      });
      const high = remaining.get(record.partition);
      if (high !== undefined && record.offset + 1 >= high) {
        remaining.delete(record.partition);
        if (remaining.size === 0) break;
      }
    }
  } finally {
    await consumer.disconnect();
  }
  return byPartition;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every few milliseconds until it holds (the test's own timeout bounds the wait). */
export async function until(condition: () => boolean, everyMs = 5): Promise<void> {
  while (!condition()) await sleep(everyMs);
}
