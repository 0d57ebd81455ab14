import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TributaryError, type ErrorCode } from '../../src/errors.js';
import { Log, type LogConfig, type SegmentInfo } from '../../src/log/index.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  RECORD_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  baseOffsetAt,
  batchSizeAt,
  checkBatch,
  computeBatchCrc,
  lastOffsetAt,
} from '../../src/record/batch-header.js';
import { decodeRecordBatch, decodeRecordBatches } from '../../src/record/batch-decoder.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import { SeededRandom, batchAt, checkRecords, tempDirs, timestampFor } from './helpers.js';

const newDir = tempDirs();
const open: Log[] = [];

afterEach(() => {
  for (const log of open.splice(0)) log.close();
  vi.useRealTimers();
});

function openLog(dir: string, config: Partial<LogConfig> = {}, clock?: () => number): Log {
  const log = Log.open(dir, config, clock === undefined ? {} : { clock });
  open.push(log);
  return log;
}

function reopen(log: Log, config: Partial<LogConfig> = {}, clock?: () => number): Log {
  log.close();
  return openLog(log.dir, config, clock);
}

function errorOf(fn: () => unknown): TributaryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TributaryError) return error;
    throw error;
  }
  throw new Error('expected a TributaryError');
}

function expectCode(fn: () => unknown, code: ErrorCode): TributaryError {
  const error = errorOf(fn);
  expect(error.code).toBe(code);
  return error;
}

/** Appends batches of `count` records until the log holds `batches` more batches. */
function fill(log: Log, batches: number, count = 5): void {
  for (let i = 0; i < batches; i++) log.append(batchAt(log.logEndOffset, count));
}

/** Reads the whole log sequentially in `maxBytes` steps and returns the concatenated bytes. */
function readAll(log: Log, maxBytes = 64 * 1024, from = log.logStartOffset): Buffer {
  const parts: Buffer[] = [];
  for (let offset = from; offset < log.logEndOffset; ) {
    const { bytes, nextOffset } = log.read(offset, maxBytes);
    parts.push(bytes);
    offset = nextOffset;
  }
  return Buffer.concat(parts);
}

/** A batch made of a header alone that claims `count` records: enough for offset bookkeeping, which never decodes records. */
function headerOnlyBatch(count: number, timestamp: number): Buffer {
  const batch = encodeRecordBatch([{ value: null }], { timestamp });
  const header = Buffer.from(batch.subarray(0, BATCH_HEADER_SIZE));
  header.writeInt32BE(BATCH_HEADER_SIZE - 12, 8);
  header.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  header.writeInt32BE(count, RECORD_COUNT_OFFSET);
  header.writeUInt32BE(computeBatchCrc(header, 0, BATCH_HEADER_SIZE), CRC_OFFSET);
  return header;
}

describe('append', () => {
  it('assigns contiguous offsets by patching the caller’s batch, for one or several batches at once', () => {
    const log = openLog(newDir());
    const first = batchAt(0, 3);
    expect(log.append(first)).toEqual({ baseOffset: 0, lastOffset: 2 });
    expect(baseOffsetAt(first)).toBe(0);
    const second = batchAt(3, 4);
    expect(log.append(second)).toEqual({ baseOffset: 3, lastOffset: 6 });
    expect(baseOffsetAt(second)).toBe(3);
    expect(checkBatch(second, 0, second.length)).toBeNull();

    const many = Buffer.concat([batchAt(7, 2), batchAt(9, 1), batchAt(10, 5)]);
    expect(log.append(many)).toEqual({ baseOffset: 7, lastOffset: 14 });
    expect(log.logEndOffset).toBe(15);
    expect(log.size).toBe(first.length + second.length + many.length);
    const all = readAll(log);
    expect(all.equals(Buffer.concat([first, second, many]))).toBe(true);
    expect(checkRecords(all)).toEqual({ first: 0, next: 15, problems: [] });
  });

  it('rejects bad batches with typed errors and appends nothing of a rejected call', () => {
    const log = openLog(newDir(), { maxBatchBytes: 2000 });
    log.append(batchAt(0, 2));
    const before = log.logEndOffset;

    expectCode(() => log.append(Buffer.alloc(0)), 'INVALID_RECORD');
    const truncated = batchAt(2, 3).subarray(0, 70);
    expect(expectCode(() => log.append(truncated), 'CORRUPT_BATCH').details).toMatchObject({ position: 0, problem: 'TRUNCATED_BATCH' });
    const flipped = batchAt(2, 3);
    flipped[flipped.length - 1] ^= 1;
    expect(expectCode(() => log.append(flipped), 'CORRUPT_BATCH').details).toMatchObject({ problem: 'CRC_MISMATCH' });
    const badMagic = batchAt(2, 3);
    badMagic[MAGIC_OFFSET] = 1;
    expect(expectCode(() => log.append(badMagic), 'CORRUPT_BATCH').details).toMatchObject({ problem: 'INVALID_MAGIC' });
    const good = batchAt(2, 3);
    const trailing = Buffer.concat([good, Buffer.from([1, 2, 3])]);
    expect(expectCode(() => log.append(trailing), 'CORRUPT_BATCH').details).toMatchObject({ position: good.length, problem: 'TRUNCATED_HEADER' });
    const big = encodeRecordBatch([{ value: Buffer.alloc(3000) }]);
    expect(expectCode(() => log.append(Buffer.concat([good, big])), 'RECORD_TOO_LARGE').details).toMatchObject({ position: good.length, size: big.length });
    const miscounted = batchAt(2, 3);
    miscounted.writeInt32BE(7, RECORD_COUNT_OFFSET);
    miscounted.writeUInt32BE(computeBatchCrc(miscounted, 0, miscounted.length), CRC_OFFSET);
    expectCode(() => log.append(miscounted), 'INVALID_RECORD');

    expect(log.logEndOffset).toBe(before);
    expect(log.append(good)).toEqual({ baseOffset: 2, lastOffset: 4 });
  });

  it('can skip the CRC check for trusted bytes, and still never serves a bad batch', () => {
    const log = openLog(newDir());
    const bad = batchAt(0, 2);
    bad[bad.length - 1] ^= 1;
    expectCode(() => log.append(bad), 'CORRUPT_BATCH');
    const truncated = batchAt(0, 2).subarray(0, 50);
    expect(expectCode(() => log.append(truncated, { verifyCrc: false }), 'CORRUPT_BATCH').details).toMatchObject({ problem: 'TRUNCATED_HEADER' });
    expect(log.append(bad, { verifyCrc: false })).toEqual({ baseOffset: 0, lastOffset: 1 });
    log.append(batchAt(2, 3), { verifyCrc: false });
    expect(expectCode(() => log.read(0, 1000), 'CORRUPT_BATCH').details).toMatchObject({ position: 0, problem: 'CRC_MISMATCH', segment: log.segments[0].file });
    expect(checkRecords(log.read(2, 1000).bytes)).toEqual({ first: 2, next: 5, problems: [] });
  });

  it('stamps LogAppendTime when asked, keeping the batch valid', () => {
    const log = openLog(newDir(), {}, () => 1_800_000_000_000);
    const batch = batchAt(0, 3);
    expect(log.append(batch, { timestampType: 'log-append' })).toEqual({ baseOffset: 0, lastOffset: 2, logAppendTime: 1_800_000_000_000 });
    const decoded = decodeRecordBatch(log.read(0, 1000).bytes);
    expect(decoded.timestampType).toBe('log-append');
    expect(decoded.records.map((record) => record.timestamp)).toEqual([1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_000]);
    expect(batch.readInt16BE(ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_MASK).toBe(TIMESTAMP_TYPE_MASK);
    expect(log.offsetForTimestamp(1_799_000_000_000)).toEqual({ offset: 0, timestamp: 1_800_000_000_000 });
  });
});

describe('segment rolls', () => {
  it('rolls before a segment would exceed segmentBytes; a bigger batch gets a segment of its own', () => {
    const dir = newDir();
    const log = openLog(dir, { segmentBytes: 4096 });
    const sizes: number[] = [];
    const rng = new SeededRandom(3);
    for (let i = 0; i < 60; i++) {
      const batch = batchAt(log.logEndOffset, 1 + rng.int(15));
      sizes.push(batch.length);
      log.append(batch);
    }
    const huge = encodeRecordBatch([{ value: Buffer.alloc(6000, 7) }]);
    log.append(huge);
    log.append(batchAt(log.logEndOffset, 1));

    const segments = log.segments;
    expect(segments.length).toBeGreaterThan(5);
    let offset = 0;
    for (const [i, segment] of segments.entries()) {
      expect(segment.baseOffset).toBe(offset);
      expect(path.basename(segment.file)).toBe(`${String(segment.baseOffset).padStart(20, '0')}.log`);
      if (segment.size > 4096) expect(segment.nextOffset - segment.baseOffset).toBe(1);
      if (i < segments.length - 1) {
        // The first batch of the next segment did not fit.
        const next = log.read(segments[i + 1].baseOffset, 0).bytes;
        expect(segment.size + next.length).toBeGreaterThan(4096);
      }
      offset = segment.nextOffset;
    }
    expect(offset).toBe(log.logEndOffset);
    expect(segments.at(-2)!.size).toBe(huge.length);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.index')).length).toBe(segments.length);
  });

  it('rolls by time when a batch’s max timestamp is more than segmentMs past the segment’s first', () => {
    const log = openLog(newDir(), { segmentMs: 1000 });
    const at = (timestamp: number): Buffer => encodeRecordBatch([{ value: 'x', timestamp }]);
    log.append(at(10_000));
    log.append(at(10_500));
    log.append(at(11_000)); // exactly segmentMs later: no roll (Kafka rolls when it is exceeded)
    expect(log.segments.length).toBe(1);
    log.append(at(11_001));
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 3]);
    log.append(at(5_000)); // older timestamps never roll
    log.append(at(12_001));
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 3]);
    log.append(at(12_002));
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 3, 6]);
  });

  it('rolls by the clock when batches carry no timestamp', () => {
    let now = 50_000;
    const log = openLog(newDir(), { segmentMs: 1000 }, () => now);
    const untimed = (): Buffer => encodeRecordBatch([{ value: 'x', timestamp: -1 }]);
    log.append(untimed());
    now += 1000;
    log.append(untimed());
    expect(log.segments.length).toBe(1);
    now += 1;
    log.append(untimed());
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 2]);
  });

  it('rolls before a relative offset would overflow int32', () => {
    const log = openLog(newDir());
    log.append(headerOnlyBatch(2 ** 31 - 10, 1000));
    log.append(headerOnlyBatch(5, 1000));
    expect(log.segments.length).toBe(1);
    log.append(headerOnlyBatch(10, 1000));
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 2 ** 31 - 5]);
    expect(log.logEndOffset).toBe(2 ** 31 + 5);
    expect(lastOffsetAt(log.read(2 ** 31, 0).bytes)).toBe(2 ** 31 + 4);
  });

  it('rolls on request, but never an empty segment', () => {
    const log = openLog(newDir());
    log.roll();
    expect(log.segments.length).toBe(1);
    fill(log, 2);
    log.roll();
    log.roll();
    expect(log.segments.map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([
      [0, 10],
      [10, 10],
    ]);
  });
});

describe('read', () => {
  it('returns whole batches from the one holding the offset, at least one, at most maxBytes otherwise', () => {
    const log = openLog(newDir());
    const batches = [batchAt(0, 4), batchAt(4, 4), batchAt(8, 4), batchAt(12, 4)];
    for (const batch of batches) log.append(batch);
    const sizes = batches.map((batch) => batch.length);

    expect(log.read(5, 0).bytes.equals(batches[1])).toBe(true);
    expect(log.read(5, 1).nextOffset).toBe(8);
    expect(log.read(4, sizes[1] + sizes[2] - 1).bytes.equals(batches[1])).toBe(true);
    expect(log.read(7, sizes[1] + sizes[2]).bytes.equals(Buffer.concat([batches[1], batches[2]]))).toBe(true);
    expect(log.read(0, 1 << 20)).toMatchObject({ nextOffset: 16, logStartOffset: 0, logEndOffset: 16 });
    expect(log.read(16, 1000)).toEqual({ bytes: Buffer.alloc(0), nextOffset: 16, logStartOffset: 0, logEndOffset: 16 });
  });

  it('names the valid range in OFFSET_OUT_OF_RANGE and rejects malformed arguments', () => {
    const log = openLog(newDir());
    fill(log, 3);
    log.deleteRecordsBefore(4);
    const below = expectCode(() => log.read(3, 100), 'OFFSET_OUT_OF_RANGE');
    expect(below.message).toContain('[4, 15]');
    expect(below.details).toEqual({ offset: 3, logStartOffset: 4, logEndOffset: 15 });
    expectCode(() => log.read(16, 100), 'OFFSET_OUT_OF_RANGE');
    expectCode(() => log.read(1.5, 100), 'INVALID_REQUEST');
    expectCode(() => log.read(5, -1), 'INVALID_REQUEST');
    expect(decodeRecordBatch(log.read(4, 0).bytes).baseOffset).toBe(0);
  });

  it('crosses segments and serves batches still in the appender’s buffer', () => {
    const dir = newDir();
    const log = openLog(dir, { segmentBytes: 2048, appendBufferBytes: 64 * 1024, fsync: 'never', flushIntervalMs: 3_600_000 });
    const rng = new SeededRandom(4);
    for (let i = 0; i < 40; i++) log.append(batchAt(log.logEndOffset, 1 + rng.int(8)));
    const active = log.segments.at(-1)!;
    expect(active.size).toBeGreaterThan(0);
    expect(fs.statSync(active.file).size).toBe(0);
    for (const maxBytes of [0, 100, 1000, 5000, 1 << 20]) {
      const all = readAll(log, maxBytes);
      expect(all.length).toBe(log.size);
      expect(checkRecords(all)).toEqual({ first: 0, next: log.logEndOffset, problems: [] });
    }
    for (let i = 0; i < 100; i++) {
      const offset = rng.int(log.logEndOffset);
      const { bytes, nextOffset } = log.read(offset, rng.int(6000));
      const { first, next, problems } = checkRecords(bytes);
      expect(problems).toEqual([]);
      expect(first).toBeLessThanOrEqual(offset);
      expect(next).toBe(nextOffset);
      expect(nextOffset).toBeGreaterThan(offset);
    }
    log.flush();
    expect(fs.statSync(active.file).size).toBe(active.size);
  });

  it('returns buffers the caller owns', () => {
    const log = openLog(newDir(), { appendBufferBytes: 4096 });
    fill(log, 2);
    const { bytes } = log.read(0, 1 << 20);
    const copy = Buffer.from(bytes);
    fill(log, 30);
    log.flush();
    expect(bytes.equals(copy)).toBe(true);
  });

  it('returns each read in an ArrayBuffer of its own, holding at most an eighth more than the batches', () => {
    const log = openLog(newDir());
    const batches = [batchAt(0, 2), batchAt(2, 40), batchAt(42, 2), batchAt(44, 2)];
    for (const batch of batches) log.append(batch);
    const small = [log.read(0, 0).bytes, log.read(2, 0).bytes];
    // Small reads are not slices of a shared pool, which a transfer would take from every other user.
    expect(small[0].buffer).not.toBe(small[1].buffer);
    // The first batch and the start of the big second one are read; the cut batch's bytes do not stay behind it.
    const cut = log.read(0, batches[0].length + batches[1].length - 1).bytes;
    expect(cut.equals(batches[0])).toBe(true);
    // Two whole batches and the start of a third the size of one of them: kept as read.
    const kept = log.read(42, batches[2].length * 2 + 1);
    for (const { bytes } of [...small.map((bytes) => ({ bytes })), { bytes: cut }, kept]) {
      expect(bytes.buffer.byteLength - bytes.byteOffset - bytes.length).toBeLessThanOrEqual(bytes.length >> 3);
    }
  });
});

describe('offsetForTimestamp', () => {
  it('finds the first record at or after a timestamp, to the record, across segments', () => {
    const log = openLog(newDir(), { segmentBytes: 3000, indexIntervalBytes: 256 });
    const rng = new SeededRandom(5);
    for (let i = 0; i < 80; i++) log.append(batchAt(log.logEndOffset, 1 + rng.int(9)));
    expect(log.segments.length).toBeGreaterThan(3);
    const end = log.logEndOffset;
    const expected = (timestamp: number): number | undefined => {
      for (let offset = 0; offset < end; offset++) if (timestampFor(offset) >= timestamp) return offset;
      return undefined;
    };
    for (let i = 0; i < 150; i++) {
      const target = timestampFor(0) - 50 + rng.int(end * 10 + 100);
      const offset = expected(target);
      expect(log.offsetForTimestamp(target)).toEqual(offset === undefined ? null : { offset, timestamp: timestampFor(offset) });
    }
  });

  it('never answers below the log start offset', () => {
    const log = openLog(newDir(), { segmentBytes: 2000 });
    fill(log, 20);
    log.deleteRecordsBefore(33);
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 33, timestamp: timestampFor(33) });
    expect(log.earliestOffset()).toBe(33);
    expect(log.latestOffset()).toBe(100);
  });
});

describe('retention', () => {
  it('deletes closed segments whose newest record is older than retentionMs, never the active one', () => {
    const dir = newDir();
    const log = openLog(dir, { segmentBytes: 1500, retentionMs: 100 });
    fill(log, 30, 3);
    const segments = log.segments;
    expect(segments.length).toBeGreaterThan(4);
    const largestTimestamp = (segment: SegmentInfo): number => {
      let max = -1;
      for (let offset = segment.baseOffset; offset < segment.nextOffset; offset++) max = Math.max(max, timestampFor(offset));
      return max;
    };
    const now = timestampFor(45) + 100;
    const keepFrom = segments.findIndex((segment) => now - largestTimestamp(segment) <= 100 || segment === segments.at(-1));
    expect(keepFrom).toBeGreaterThan(1);
    const result = log.applyRetention(now);
    expect(result).toEqual({ deletedSegments: keepFrom, logStartOffset: segments[keepFrom].baseOffset });
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual(segments.slice(keepFrom).map((segment) => segment.baseOffset));
    for (const deleted of segments.slice(0, keepFrom)) expect(fs.existsSync(deleted.file)).toBe(false);
    const closed = log.segments.length - 1;
    expect(log.applyRetention(Number.MAX_SAFE_INTEGER).deletedSegments).toBe(closed);
    expect(log.segments.length).toBe(1);
    expect(log.logStartOffset).toBe(log.segments[0].baseOffset);
    expectCode(() => log.read(0, 10), 'OFFSET_OUT_OF_RANGE');
  });

  it('deletes the oldest segments while the log without them stays at least retentionBytes', () => {
    const log = openLog(newDir(), { segmentBytes: 1500, retentionBytes: 4000, retentionMs: -1 });
    fill(log, 40, 3);
    const segments = log.segments;
    let total = log.size;
    let expectedDeleted = 0;
    while (expectedDeleted < segments.length - 1 && total - segments[expectedDeleted].size >= 4000) total -= segments[expectedDeleted++].size;
    expect(expectedDeleted).toBeGreaterThan(2);
    expect(log.applyRetention().deletedSegments).toBe(expectedDeleted);
    expect(log.size).toBe(total);
    expect(log.size).toBeGreaterThanOrEqual(4000);
    expect(log.applyRetention().deletedSegments).toBe(0);
  });

  it('keeps everything with retentionMs -1 and retentionBytes -1', () => {
    const log = openLog(newDir(), { segmentBytes: 1000, retentionMs: -1 });
    fill(log, 20);
    expect(log.applyRetention(Number.MAX_SAFE_INTEGER).deletedSegments).toBe(0);
  });
});

describe('deleteRecordsBefore', () => {
  it('advances the log start offset, deletes segments wholly below it, and survives a reopen', () => {
    const dir = newDir();
    let log = openLog(dir, { segmentBytes: 1500 });
    fill(log, 30, 3);
    const segments = log.segments;
    const target = segments[3].baseOffset + 1;
    expect(log.deleteRecordsBefore(target)).toBe(target);
    expect(log.segments[0].baseOffset).toBe(segments[3].baseOffset);
    expect(log.deleteRecordsBefore(target - 5)).toBe(target);
    expectCode(() => log.read(target - 1, 10), 'OFFSET_OUT_OF_RANGE');
    expect(decodeRecordBatch(log.read(target, 10).bytes).baseOffset).toBe(segments[3].baseOffset);
    expectCode(() => log.deleteRecordsBefore(log.logEndOffset + 1), 'OFFSET_OUT_OF_RANGE');

    log = reopen(log, { segmentBytes: 1500 });
    expect(log.logStartOffset).toBe(target);
    expectCode(() => log.read(target - 1, 10), 'OFFSET_OUT_OF_RANGE');

    // Through a recovery too (the marker of a clean close removed, as after a crash).
    log.append(batchAt(log.logEndOffset, 2));
    log.close();
    fs.rmSync(path.join(dir, 'clean-shutdown'));
    log = openLog(dir, { segmentBytes: 1500 });
    expect(log.recovery.cleanShutdown).toBe(false);
    expect(log.logStartOffset).toBe(target);
  });

  it('can empty the log up to its end, keeping the active segment', () => {
    let log = openLog(newDir(), { segmentBytes: 1000 });
    fill(log, 10);
    log.deleteRecordsBefore(50);
    expect(log.logStartOffset).toBe(50);
    expect(log.read(50, 100).bytes.length).toBe(0);
    log = reopen(log, { segmentBytes: 1000 });
    expect([log.logStartOffset, log.logEndOffset]).toEqual([50, 50]);
    expect(log.append(batchAt(50, 1)).baseOffset).toBe(50);
  });
});

describe('durability and lifecycle', () => {
  it('writes every append before returning under fsync always, and with no append buffer', () => {
    for (const config of [{ fsync: 'always' as const }, { fsync: 'never' as const, appendBufferBytes: 0 }]) {
      const log = openLog(newDir(), config);
      for (let i = 0; i < 5; i++) {
        log.append(batchAt(log.logEndOffset, 3));
        expect(fs.statSync(log.segments[0].file).size).toBe(log.size);
      }
    }
  });

  it('writes the buffer every flushIntervalMs under interval, on multiples of it in wall-clock time', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const log = openLog(newDir(), { fsync: 'interval', flushIntervalMs: 500 });
    fill(log, 3);
    const file = log.segments[0].file;
    expect(fs.statSync(file).size).toBe(0);
    vi.advanceTimersByTime(499);
    expect(fs.statSync(file).size).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fs.statSync(file).size).toBe(log.size);

    // A log opened between two multiples ticks with the first: at the next multiple, not 500 ms after its open.
    vi.advanceTimersByTime(200);
    const later = openLog(newDir(), { fsync: 'interval', flushIntervalMs: 500 });
    fill(later, 2);
    fill(log, 2);
    vi.advanceTimersByTime(299);
    expect(fs.statSync(later.segments[0].file).size).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fs.statSync(later.segments[0].file).size).toBe(later.size);
    expect(fs.statSync(file).size).toBe(log.size);

    // A tick that runs late by the clock (1,250 ms) is followed by one at the next multiple, not by several catching up.
    fill(log, 1);
    vi.setSystemTime(Date.now() + 1_250);
    vi.advanceTimersByTime(500);
    expect(fs.statSync(file).size).toBe(log.size);
    fill(log, 1);
    vi.advanceTimersByTime(249);
    expect(fs.statSync(file).size).toBeLessThan(log.size);
    vi.advanceTimersByTime(1);
    expect(fs.statSync(file).size).toBe(log.size);

    // A clock set back an hour does not hold the ticks after it back: they still come within flushIntervalMs.
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(500);
    fill(log, 1);
    vi.advanceTimersByTime(500);
    expect(fs.statSync(file).size).toBe(log.size);
  });

  it('arms its flush timer only while it has bytes to write or sync', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const log = openLog(newDir(), { fsync: 'interval', flushIntervalMs: 100 });
    expect(vi.getTimerCount()).toBe(0);
    fill(log, 2);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fs.statSync(log.segments[0].file).size).toBe(log.size);
    // Written and handed to fdatasync: nothing left, so no more ticks until the next append.
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    fill(log, 1);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fs.statSync(log.segments[0].file).size).toBe(log.size);
    expect(vi.getTimerCount()).toBe(0);

    // Under `never` the timer only writes: once the buffer is in the file, nothing is left for it.
    const unsynced = openLog(newDir(), { fsync: 'never', flushIntervalMs: 100 });
    fill(unsynced, 2);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fs.statSync(unsynced.segments[0].file).size).toBe(unsynced.size);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writes the buffer without fdatasync on flush({ fsync: false })', () => {
    const log = openLog(newDir(), { fsync: 'interval', flushIntervalMs: 3_600_000 });
    fill(log, 3);
    expect(fs.statSync(log.segments[0].file).size).toBe(0);
    log.flush({ fsync: false });
    expect(fs.statSync(log.segments[0].file).size).toBe(log.size);
  });

  it('writes the buffer when it fills', () => {
    const log = openLog(newDir(), { appendBufferBytes: 1000, flushIntervalMs: 3_600_000 });
    const file = log.segments[0].file;
    let written = 0;
    while (written === 0) {
      log.append(batchAt(log.logEndOffset, 4));
      written = fs.statSync(file).size;
    }
    expect(written).toBeLessThanOrEqual(1000);
    expect(written).toBeLessThan(log.size);
  });

  it('throws LOG_CLOSED after close, and close is idempotent', () => {
    const log = Log.open(newDir());
    fill(log, 1);
    log.close();
    log.close();
    expectCode(() => log.append(batchAt(5, 1)), 'LOG_CLOSED');
    expectCode(() => log.read(0, 10), 'LOG_CLOSED');
    expectCode(() => log.flush(), 'LOG_CLOSED');
    expectCode(() => log.offsetForTimestamp(0), 'LOG_CLOSED');
    expectCode(() => log.applyRetention(), 'LOG_CLOSED');
    expectCode(() => log.deleteRecordsBefore(1), 'LOG_CLOSED');
    expectCode(() => log.roll(), 'LOG_CLOSED');
  });

  it('reopens after a clean close without rescanning, and keeps appending where it left off', () => {
    const dir = newDir();
    let log = openLog(dir, { segmentBytes: 3000 });
    fill(log, 25);
    const end = log.logEndOffset;
    log = reopen(log, { segmentBytes: 3000 });
    expect(log.recovery).toEqual({ cleanShutdown: true, scannedSegments: 0, rebuiltIndexes: 0, truncated: null });
    expect(log.logEndOffset).toBe(end);
    fill(log, 25);
    expect(checkRecords(readAll(log))).toEqual({ first: 0, next: log.logEndOffset, problems: [] });
    expect(fs.existsSync(path.join(dir, 'clean-shutdown'))).toBe(false);
  });

  it('truncates a torn tail after a crash and reports it', () => {
    const dir = newDir();
    let log = openLog(dir, { segmentBytes: 3000 });
    fill(log, 12);
    const lastSegment = log.segments.at(-1)!;
    const lastBatch = log.read(log.logEndOffset - 1, 0).bytes;
    log.close();
    fs.rmSync(path.join(dir, 'clean-shutdown'));
    fs.truncateSync(lastSegment.file, lastSegment.size - 10);
    log = openLog(dir, { segmentBytes: 3000 });
    expect(log.recovery.truncated).toEqual({ segment: lastSegment.file, position: lastSegment.size - lastBatch.length, bytes: lastBatch.length - 10, problem: 'TRUNCATED_BATCH' });
    expect(log.logEndOffset).toBe(baseOffsetAt(lastBatch));
    expect(fs.statSync(lastSegment.file).size).toBe(lastSegment.size - lastBatch.length);
    fill(log, 3);
    expect(checkRecords(readAll(log))).toEqual({ first: 0, next: log.logEndOffset, problems: [] });
  });

  it('starts over at the log start offset when a torn tail took the log end below it, as Kafka does', () => {
    const dir = newDir();
    let log = openLog(dir, { segmentBytes: 2000 });
    fill(log, 10);
    log.deleteRecordsBefore(50);
    const active = log.segments.at(-1)!;
    log.close();
    fs.rmSync(path.join(dir, 'clean-shutdown'));
    fs.truncateSync(active.file, active.size - 1);
    log = openLog(dir, { segmentBytes: 2000 });
    expect([log.logStartOffset, log.logEndOffset, log.size]).toEqual([50, 50, 0]);
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([50]);
    expect(log.append(batchAt(50, 2)).baseOffset).toBe(50);
  });

  it('refuses to open a log corrupt in the middle, naming segment and position', () => {
    const dir = newDir();
    const log = openLog(dir, { segmentBytes: 3000 });
    fill(log, 12);
    const victim = log.segments[1];
    const second = batchSizeAt(log.read(victim.baseOffset, 0).bytes);
    log.close();
    fs.rmSync(path.join(dir, 'clean-shutdown'));
    fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'));
    const bytes = fs.readFileSync(victim.file);
    bytes[second + 70] ^= 0x10;
    fs.writeFileSync(victim.file, bytes);
    const error = expectCode(() => Log.open(dir, { segmentBytes: 3000 }), 'CORRUPT_LOG');
    expect(error.details).toMatchObject({ segment: victim.file, position: second, problem: 'CRC_MISMATCH' });
    expect(error.message).toContain(victim.file);
    expect(error.message).toContain(`byte ${second}`);
  });

  it('keeps refusing writes after a storage failure until reopened', () => {
    const dir = newDir();
    const log = Log.open(dir, { segmentBytes: 1000 });
    fill(log, 2);
    fs.rmSync(dir, { recursive: true });
    const error = expectCode(() => fill(log, 10), 'STORAGE_ERROR');
    expect(error.message).toContain(dir);
    expectCode(() => log.append(batchAt(log.logEndOffset, 1)), 'STORAGE_ERROR');
    expect(decodeRecordBatches(log.read(0, 100).bytes).next().value?.baseOffset).toBe(0);
    log.close();
  });

  it('reports every batch written byte for byte after reopen with random sizes and policies', () => {
    const rng = new SeededRandom(9);
    for (const fsync of ['never', 'interval', 'always'] as const) {
      const dir = newDir();
      const config = { fsync, segmentBytes: 2000 + rng.int(3000), appendBufferBytes: rng.int(4000), indexIntervalBytes: rng.int(800) };
      let log = openLog(dir, config);
      const written: Buffer[] = [];
      for (let i = 0; i < 40; i++) {
        const batch = batchAt(log.logEndOffset, 1 + rng.int(20));
        log.append(batch);
        written.push(batch);
      }
      log = reopen(log, config);
      expect(readAll(log, rng.int(3000)).equals(Buffer.concat(written))).toBe(true);
    }
  });
});
