/**
 * Shared pieces of the runtime tests: temporary data directories and runtimes closed after each
 * test, record batches whose contents follow their offsets, and error capture.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { TributaryError, type ErrorCode } from '../../src/errors.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/record/index.js';
import { Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';

/**
 * Returns a function that makes a fresh temporary directory and opens runtimes on it; whatever it
 * made is closed and removed after each test (or after all tests, with `scope: 'file'`).
 */
export function runtimeFixture(scope: 'test' | 'file' = 'test'): {
  newDir: () => string;
  open: (options: RuntimeOptions) => Promise<Runtime>;
} {
  const dirs: string[] = [];
  const runtimes: Runtime[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(runtimes.splice(0).map((rt) => rt.close()));
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  };
  if (scope === 'test') afterEach(cleanup);
  else afterAll(cleanup);
  return {
    newDir: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-runtime-'));
      dirs.push(dir);
      return dir;
    },
    open: async (options) => {
      const rt = await Runtime.open(options);
      runtimes.push(rt);
      return rt;
    },
  };
}

/** The value of the record at `offset` of a partition in these tests. */
export function valueAt(topic: string, partition: number, offset: number): string {
  return `${topic}/${partition}@${offset}`;
}

/** A batch of `count` records meant to land at `baseOffset`, so a reader can check each record against its offset. */
export function batchFor(topic: string, partition: number, baseOffset: number, count = 1): Buffer {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({ key: `k${baseOffset + i}`, value: valueAt(topic, partition, baseOffset + i), timestamp: 1_700_000_000_000 + baseOffset + i })),
  );
}

/** Appends a batch (acks 1) through the runtime, transferring its bytes as a producer does. */
export function append(rt: Runtime, topic: string, partition: number, batch: Uint8Array) {
  return rt.request('append', { topic, partition, batch, acks: 1, logAppendTime: false });
}

/** Every record value of a partition, read from its start with fetches, in offset order. */
export async function readValues(rt: Runtime, topic: string, partition: number): Promise<Array<{ offset: number; value: string }>> {
  const records: Array<{ offset: number; value: string }> = [];
  let offset = (await rt.request('listOffsets', { topic, partition, spec: 'earliest' })).offset;
  for (;;) {
    const answer = await rt.request('fetch', { topic, partition, offset, maxBytes: 1 << 20, maxWaitMs: 0, minBytes: 1 });
    if (answer.bytes.length === 0) return records;
    for (const batch of decodeRecordBatches(Buffer.from(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength))) {
      for (const record of batch.records) if (record.offset >= offset) records.push({ offset: record.offset, value: record.value!.toString() });
    }
    offset = answer.nextOffset;
  }
}

/** The TributaryError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown> | (() => unknown), code?: ErrorCode): Promise<TributaryError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (!TributaryError.is(error)) throw error;
    if (code !== undefined && error.code !== code) throw new Error(`expected ${code}, got ${error.code}: ${error.message}`, { cause: error });
    return error;
  }
  throw new Error(`expected a rejection${code === undefined ? '' : ` with ${code}`}`);
}
