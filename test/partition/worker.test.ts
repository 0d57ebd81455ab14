/**
 * The real thing: a piscina pool loads partitionWorkerEntry() (the tsx bootstrap, from source),
 * hosts a partition on its thread, serves an append and a fetch over a MessagePort with the
 * batch's ArrayBuffer transferred both ways; then the thread is killed without closing anything,
 * and a new host on the same directory still holds the acknowledged batch and dedups its retry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { partitionWorkerEntry } from '../../src/partition/worker-entry.js';
import { decodeRecordBatches } from '../../src/record/batch-decoder.js';
import type { FetchResponse, RequestType, WorkerHostTask, WorkerRequests, WorkerResponse } from '../../src/runtime/messages.js';
import { TestHost, makeBatch, owned, tempDirs } from './helpers.js';

const tempDir = tempDirs();
const ref = { topic: 'clicks', partition: 0 };
const config = { fsync: 'never', appendBufferBytes: 1024 * 1024, flushIntervalMs: 2 ** 31 - 1 } as const;

/** The runtime's side of the port, reduced to request/answer. */
function client(port: MessagePort) {
  let nextId = 1;
  const waiting = new Map<number, (response: WorkerResponse) => void>();
  port.on('message', (response: WorkerResponse) => waiting.get(response.id)?.(response));
  return async <T extends RequestType>(type: T, args: WorkerRequests[T]['args'], transfer: ArrayBuffer[] = []): Promise<WorkerRequests[T]['result']> => {
    const id = nextId++;
    const response = await new Promise<WorkerResponse>((resolve) => {
      waiting.set(id, resolve);
      port.postMessage({ id, type, args }, transfer);
    });
    waiting.delete(id);
    if (!response.ok) throw TributaryError.fromJSON(response.error);
    return response.result as WorkerRequests[T]['result'];
  };
}

describe('partition worker thread', () => {
  it('serves append and fetch with transferred buffers, and loses no acknowledged batch when the thread dies', async () => {
    const dir = path.join(tempDir(), 'clicks-0');
    expect(partitionWorkerEntry()).toMatch(/workers[/\\]partition-worker\.dev\.mjs$/);
    const pool = new Piscina<WorkerHostTask, void>({ filename: partitionWorkerEntry(), minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
    const { port1, port2 } = new MessageChannel();
    try {
      const uplink = new MessageChannel();
      const hosting = pool.run({ slot: 0, port: port2, uplink: uplink.port2 }, { transferList: [port2, uplink.port2] });
      const ended = hosting.then(
        () => 'resolved',
        () => 'rejected',
      );
      const request = client(port1);
      await request('openPartition', { ...ref, dir, config });

      const batch = owned(makeBatch({ count: 3, producerId: 5, tag: 'w' }));
      const sent = batch.buffer;
      expect(await request('append', { ...ref, batch, acks: -1, logAppendTime: false }, [sent])).toEqual({ baseOffset: 0, lastOffset: 2, logStartOffset: 0, duplicate: false });
      expect(sent.byteLength).toBe(0); // moved to the worker, not copied

      const fetched: FetchResponse = await request('fetch', { ...ref, offset: 0, maxBytes: 65536, maxWaitMs: 0, minBytes: 1 });
      expect(fetched.bytes).toBeInstanceOf(Uint8Array);
      expect(fetched.bytes.byteLength).toBe(fetched.bytes.buffer.byteLength);
      const [decoded] = [...decodeRecordBatches(Buffer.from(fetched.bytes))];
      expect(decoded.records.map((r) => r.value!.toString())).toEqual(['w:0', 'w:1', 'w:2']);

      // Kill the thread mid-flight: no close, no flush, no clean-shutdown marker.
      await pool.threads[0].terminate();
      expect(await ended).toBe('rejected');
      expect(fs.existsSync(path.join(dir, 'clean-shutdown'))).toBe(false);
    } finally {
      port1.close();
      await pool.destroy();
    }

    const host = new TestHost();
    await host.request('openPartition', { ...ref, dir, config });
    expect(await host.request('describePartition', ref)).toMatchObject({ logEndOffset: 3 });
    const retried = await host.request('append', { ...ref, batch: owned(makeBatch({ count: 3, producerId: 5, tag: 'w' })), acks: -1, logAppendTime: false });
    expect(retried).toMatchObject({ baseOffset: 0, lastOffset: 2, duplicate: true });
    host.host.close();
  });

  it('resolves the hosting task after closing its logs cleanly when the runtime closes the port', async () => {
    const dir = path.join(tempDir(), 'clicks-0');
    const pool = new Piscina<WorkerHostTask, void>({ filename: partitionWorkerEntry(), minThreads: 1, maxThreads: 1 });
    const { port1, port2 } = new MessageChannel();
    try {
      const uplink = new MessageChannel();
      const hosting = pool.run({ slot: 0, port: port2, uplink: uplink.port2 }, { transferList: [port2, uplink.port2] });
      const request = client(port1);
      await request('openPartition', { ...ref, dir, config });
      await request('append', { ...ref, batch: owned(makeBatch({ count: 1 })), acks: 1, logAppendTime: false });
      port1.close();
      await hosting;
      expect(fs.existsSync(path.join(dir, 'clean-shutdown'))).toBe(true);
    } finally {
      await pool.destroy();
    }
  });
});
