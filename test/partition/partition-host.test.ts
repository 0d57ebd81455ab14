/**
 * A PartitionHost driven in-process: every request kind, long polls (fake timers), group commit
 * (answers leave only once the bytes are in the segment file, read back with fs), idempotent
 * retries answered with their original offsets, also after a clean reopen and after a crash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { PartitionActor } from '../../src/partition/partition-actor.js';
import { decodeRecordBatches } from '../../src/record/batch-decoder.js';
import { encodeControlBatch } from '../../src/record/control.js';
import type { FetchResponse, WorkerRequests } from '../../src/runtime/messages.js';
import { TestHost, makeBatch, nextTurn, owned, tempDirs, type Posted } from './helpers.js';

const tempDir = tempDirs();
const ref = { topic: 'clicks', partition: 3 };
const FIRST_SEGMENT = '00000000000000000000.log';
/** Nothing reaches the file unless the partition writes it: a large buffer and no timer in sight. */
const BUFFERED = { fsync: 'never', appendBufferBytes: 1024 * 1024, flushIntervalMs: 2 ** 31 - 1 } as const;

type OpenConfig = WorkerRequests['openPartition']['args']['config'];

async function openHost(dir: string, config: OpenConfig = BUFFERED, host = new TestHost()): Promise<TestHost> {
  await host.request('openPartition', { ...ref, dir, config });
  return host;
}

function append(host: TestHost, batch: Buffer, logAppendTime = false) {
  return host.request('append', { ...ref, batch: owned(batch), acks: -1, logAppendTime });
}

function fetchArgs(offset: number, extra: Partial<WorkerRequests['fetch']['args']> = {}): WorkerRequests['fetch']['args'] {
  return { ...ref, offset, maxBytes: 1024 * 1024, maxWaitMs: 0, minBytes: 1, ...extra };
}

function values(bytes: Uint8Array): string[] {
  return [...decodeRecordBatches(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))].flatMap((batch) => batch.records.map((r) => r.value!.toString()));
}

function fetchResult(posted: Posted): FetchResponse {
  if (!posted.response.ok) throw TributaryError.fromJSON(posted.response.error);
  return posted.response.result as FetchResponse;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('PartitionHost requests', () => {
  it('opens idempotently, appends, fetches, lists offsets, deletes records and describes', async () => {
    const dir = tempDir();
    const host = await openHost(dir);
    expect(await host.request('openPartition', { ...ref, dir, config: BUFFERED })).toMatchObject({ logEndOffset: 0 });
    expect(host.host.size).toBe(1);

    expect(await append(host, makeBatch({ count: 3, tag: 'a', timestamp: 1000 }))).toEqual({ baseOffset: 0, lastOffset: 2, logStartOffset: 0, duplicate: false });
    expect(await append(host, makeBatch({ count: 2, tag: 'b', timestamp: 2000 }))).toMatchObject({ baseOffset: 3, lastOffset: 4 });

    const { answer } = host.send('fetch', fetchArgs(0));
    const posted = await answer;
    const fetched = fetchResult(posted);
    expect(values(fetched.bytes)).toEqual(['a:0', 'a:1', 'a:2', 'b:0', 'b:1']);
    expect(fetched).toMatchObject({ nextOffset: 5, highWatermark: 5, logStartOffset: 0 });
    // The bytes' own ArrayBuffer travels in the transfer list, whole rather than copied.
    expect(posted.transfer).toEqual([fetched.bytes.buffer]);

    expect(await host.request('listOffsets', { ...ref, spec: 'earliest' })).toEqual({ offset: 0, timestamp: -1 });
    expect(await host.request('listOffsets', { ...ref, spec: 'latest' })).toEqual({ offset: 5, timestamp: -1 });
    expect(await host.request('listOffsets', { ...ref, spec: { timestamp: 1001 } })).toEqual({ offset: 1, timestamp: 1001 });
    expect(await host.request('listOffsets', { ...ref, spec: { timestamp: 5000 } })).toEqual({ offset: -1, timestamp: -1 });

    expect(await host.request('deleteRecords', { ...ref, beforeOffset: 3 })).toEqual({ logStartOffset: 3 });
    await expect(host.request('fetch', fetchArgs(1))).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(host.request('fetch', fetchArgs(6))).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(await host.request('describePartition', ref)).toMatchObject({ ...ref, logStartOffset: 3, logEndOffset: 5, segments: 1 });
    expect(await host.request('flush', {})).toBeNull();
    expect(await host.request('applyRetention', { now: Date.now() })).toEqual({ deletedSegments: 0 });

    expect(await host.request('closePartition', { ...ref, deleteFiles: true })).toBeNull();
    expect(fs.existsSync(dir)).toBe(false);
    await expect(host.request('describePartition', ref)).rejects.toMatchObject({ code: 'PARTITION_UNAVAILABLE' });
  });

  it('answers typed errors: unopened partition, two batches in one append, control batches, corrupt bytes before sequence errors, unknown requests', async () => {
    const host = await openHost(tempDir());
    await expect(host.request('append', { topic: 'other', partition: 0, batch: owned(makeBatch({ count: 1 })), acks: 1, logAppendTime: false })).rejects.toMatchObject({
      code: 'PARTITION_UNAVAILABLE',
    });
    await expect(append(host, Buffer.concat([makeBatch({ count: 1 }), makeBatch({ count: 1 })]))).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await expect(append(host, encodeControlBatch({ type: 'commit', producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 0 }))).rejects.toMatchObject({
      code: 'INVALID_RECORD',
    });
    const gap = makeBatch({ count: 1, producerId: 9, baseSequence: 4 });
    await expect(append(host, gap)).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
    gap[gap.length - 1] ^= 0xff;
    await expect(append(host, gap)).rejects.toMatchObject({ code: 'CORRUPT_BATCH' });
    await expect(append(host, makeBatch({ count: 1 }).subarray(0, 40))).rejects.toMatchObject({ code: 'CORRUPT_BATCH' });
    const unknown = host.send('compact' as 'flush', {});
    expect((await unknown.answer).response).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await host.request('describePartition', ref)).toMatchObject({ logEndOffset: 0 });
  });

  it('stamps LogAppendTime and answers a duplicate with the original time and offsets', async () => {
    let now = 5_000;
    const host = await openHost(tempDir(), BUFFERED, new TestHost({ clock: () => now }));
    const batch = makeBatch({ count: 2, producerId: 4, producerEpoch: 1 });
    expect(await append(host, batch, true)).toEqual({ baseOffset: 0, lastOffset: 1, logStartOffset: 0, logAppendTime: 5_000, duplicate: false });
    now = 9_000;
    expect(await append(host, batch, true)).toEqual({ baseOffset: 0, lastOffset: 1, logStartOffset: 0, logAppendTime: 5_000, duplicate: true });
    const [stored] = decodeRecordBatches(Buffer.from(fetchResult(await host.send('fetch', fetchArgs(0)).answer).bytes));
    expect(stored).toMatchObject({ timestampType: 'log-append', maxTimestamp: 5_000 });
  });
});

describe('group commit', () => {
  it('posts append answers only once their bytes are in the segment file, all of a turn together', async () => {
    const dir = tempDir();
    const file = path.join(dir, FIRST_SEGMENT);
    const seen: { id: number; fileBytes: Buffer }[] = [];
    const host = await openHost(dir, BUFFERED, new TestHost({}, ({ response }) => seen.push({ id: response.id, fileBytes: fs.readFileSync(file) })));
    seen.length = 0;

    const batches = [0, 1, 2].map((i) => owned(makeBatch({ count: 2, tag: `t${i}`, producerId: 1, baseSequence: i * 2 })));
    const sent = batches.map((batch) => host.send('append', { ...ref, batch, acks: 1, logAppendTime: false }));
    const fetch = host.send('fetch', fetchArgs(0));
    // Handled, readable, but nothing answered and nothing in the file yet.
    expect(sent.some(({ id }) => host.answered(id))).toBe(false);
    expect(host.answered(fetch.id)).toBe(false);
    expect(fs.statSync(file).size).toBe(0);

    await Promise.all(sent.map(({ answer }) => answer));
    const expected = Buffer.concat(batches); // patched in place with their offsets
    expect(seen.map(({ id }) => id)).toEqual([...sent.map(({ id }) => id), fetch.id]);
    for (const { fileBytes } of seen) expect(fileBytes.equals(expected)).toBe(true);
    expect(values(fetchResult(await fetch.answer).bytes)).toHaveLength(6);
  });

  it('turns the queued answers of a partition whose commit failed into the error', async () => {
    const host = await openHost(tempDir());
    vi.spyOn(PartitionActor.prototype, 'commit').mockImplementationOnce(() => {
      throw new Error('EIO: i/o error, write');
    });
    const appended = host.send('append', { ...ref, batch: owned(makeBatch({ count: 1 })), acks: -1, logAppendTime: false });
    const described = host.send('describePartition', ref);
    expect((await appended.answer).response).toMatchObject({ ok: false, error: { code: 'STORAGE_ERROR', message: expect.stringContaining('EIO') } });
    expect((await described.answer).response).toMatchObject({ ok: false, error: { code: 'STORAGE_ERROR' } });
    // Fixed on the next turn: later answers are untouched.
    expect(await host.request('describePartition', ref)).toMatchObject({ logEndOffset: 1 });
  });
});

describe('long-poll fetches', () => {
  it('parks a fetch at the log end until an append brings minBytes, or answers what there is when the wait expires', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const host = await openHost(tempDir());

    const woken = host.send('fetch', fetchArgs(0, { maxWaitMs: 500 }));
    vi.advanceTimersByTime(499);
    expect(host.answered(woken.id)).toBe(false);
    await append(host, makeBatch({ count: 2, tag: 'x' }));
    expect(values(fetchResult(await woken.answer).bytes)).toEqual(['x:0', 'x:1']);

    const expired = host.send('fetch', fetchArgs(2, { maxWaitMs: 500 }));
    vi.advanceTimersByTime(499);
    expect(host.answered(expired.id)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(fetchResult(await expired.answer)).toMatchObject({ nextOffset: 2, highWatermark: 2 });
    expect(fetchResult(await expired.answer).bytes.byteLength).toBe(0);

    // minBytes counts bytes from the fetch offset: one small batch is not enough, the wait answers with it.
    const hungry = host.send('fetch', fetchArgs(2, { maxWaitMs: 300, minBytes: 10_000 }));
    await append(host, makeBatch({ count: 1, tag: 'y' }));
    await nextTurn();
    expect(host.answered(hungry.id)).toBe(false);
    vi.advanceTimersByTime(300);
    expect(values(fetchResult(await hungry.answer).bytes)).toEqual(['y:0']);

    // maxWaitMs 0 never waits.
    expect(fetchResult(await host.send('fetch', fetchArgs(3)).answer).bytes.byteLength).toBe(0);
  });

  it('answers parked fetches when the partition or the host closes, and CLOSED afterwards', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const host = await openHost(tempDir());
    const parked = host.send('fetch', fetchArgs(0, { maxWaitMs: 60_000 }));
    await host.request('closePartition', { ...ref, deleteFiles: false });
    expect(fetchResult(await parked.answer)).toMatchObject({ nextOffset: 0 });

    await openHost(tempDir(), BUFFERED, host);
    const parkedAgain = host.send('fetch', fetchArgs(0, { maxWaitMs: 60_000 }));
    host.host.close();
    expect(fetchResult(await parkedAgain.answer)).toMatchObject({ nextOffset: 0 });
    await expect(host.request('describePartition', ref)).rejects.toMatchObject({ code: 'CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('idempotent retries', () => {
  const batchOf = (seq: number, tag: string) => makeBatch({ count: 2, producerId: 77, producerEpoch: 2, baseSequence: seq, tag });

  it('answers a retry with the original offsets and appends nothing', async () => {
    const host = await openHost(tempDir());
    await append(host, batchOf(0, 'a'));
    await append(host, makeBatch({ count: 1, tag: 'plain' }));
    expect(await append(host, batchOf(0, 'a'))).toEqual({ baseOffset: 0, lastOffset: 1, logStartOffset: 0, duplicate: true });
    // The retry and its original in the same turn: both answered after the commit.
    const original = host.send('append', { ...ref, batch: owned(batchOf(2, 'b')), acks: -1, logAppendTime: false });
    const retry = host.send('append', { ...ref, batch: owned(batchOf(2, 'b')), acks: -1, logAppendTime: false });
    expect((await original.answer).response).toMatchObject({ ok: true, result: { baseOffset: 3, duplicate: false } });
    expect((await retry.answer).response).toMatchObject({ ok: true, result: { baseOffset: 3, lastOffset: 4, duplicate: true } });
    expect(await host.request('describePartition', ref)).toMatchObject({ logEndOffset: 5 });
  });

  it('still recognises a retry after a clean close and reopen', async () => {
    const dir = tempDir();
    const first = await openHost(dir);
    await append(first, batchOf(0, 'a'));
    await append(first, batchOf(2, 'b'));
    first.host.close();

    const second = await openHost(dir);
    expect(await append(second, batchOf(2, 'b'))).toMatchObject({ baseOffset: 2, lastOffset: 3, duplicate: true });
    expect(await append(second, batchOf(4, 'c'))).toMatchObject({ baseOffset: 4, duplicate: false });
    await expect(append(second, batchOf(8, 'd'))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' });
    second.host.close();
  });

  it('recovers every answered append, and recognises its retry, from the files as a crash leaves them', async () => {
    const dir = tempDir();
    const host = await openHost(dir);
    await append(host, batchOf(0, 'a'));
    await append(host, batchOf(2, 'b'));
    // The directory as it is now, with the log still open: what a killed worker leaves behind.
    const crashed = tempDir();
    fs.cpSync(dir, crashed, { recursive: true });
    host.host.close();
    expect(fs.existsSync(path.join(crashed, 'clean-shutdown'))).toBe(false);

    const reopened = await openHost(crashed);
    expect(values(fetchResult(await reopened.send('fetch', fetchArgs(0)).answer).bytes)).toEqual(['a:0', 'a:1', 'b:0', 'b:1']);
    expect(await append(reopened, batchOf(2, 'b'))).toMatchObject({ baseOffset: 2, duplicate: true });
    reopened.host.close();
  });
});
