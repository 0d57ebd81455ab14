import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SwapStep } from '../../src/log/cleaner.js';
import { Log, type LogConfig } from '../../src/log/index.js';
import { decodeRecordBatches } from '../../src/record/batch-decoder.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import type { CompressionName } from '../../src/record/types.js';
import { SeededRandom, tempDirs } from './helpers.js';

const newDir = tempDirs();
const open: Log[] = [];

afterEach(() => {
  for (const log of open.splice(0)) log.close();
});

const CONFIG: Partial<LogConfig> = { segmentBytes: 1200, indexIntervalBytes: 200 };
const T0 = 1_700_000_000_000;
const CODECS: CompressionName[] = ['none', 'none', 'gzip', 'lz4'];

interface Rec {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly timestamp: number;
}

function openLog(dir: string): Log {
  const log = Log.open(dir, CONFIG, { clock: () => T0 });
  open.push(log);
  return log;
}

/** Appends `batches` random batches (keys from a small set, some null keys, some tombstones, some idempotent, mixed codecs). */
function fill(log: Log, seed: number, batches: number, keys: number): Rec[] {
  const random = new SeededRandom(seed);
  const written: Rec[] = [];
  let sequence = 0;
  for (let b = 0; b < batches; b++) {
    const count = 1 + random.int(4);
    // The key space drifts, so some keys stop being written and their last record, value or
    // tombstone, ends up in an old segment.
    const drift = Math.floor(log.logEndOffset / 25);
    const records = Array.from({ length: count }, (_, i) => {
      const key = random.int(20) === 0 ? null : `key-${drift + random.int(keys)}`;
      const value = key !== null && random.int(4) === 0 ? null : `value-${random.int(1_000_000)}-${'x'.repeat(random.int(40))}`;
      return { key, value, timestamp: T0 + (log.logEndOffset + i) * 10 };
    });
    const idempotent = random.int(3) === 0;
    const batch = encodeRecordBatch(records, {
      compression: random.pick(CODECS),
      ...(idempotent ? { producerId: 7, producerEpoch: 0, baseSequence: sequence } : {}),
    });
    if (idempotent) sequence += count;
    const { baseOffset } = log.append(batch);
    records.forEach((record, i) => written.push({ offset: baseOffset + i, ...record }));
  }
  return written;
}

/** Every record the log serves, checking batches chain and offsets strictly increase. */
function readAll(log: Log): Rec[] {
  const { bytes } = log.read(log.logStartOffset, 1 << 30);
  const out: Rec[] = [];
  let expectedBase = log.logStartOffset;
  for (const batch of decodeRecordBatches(bytes)) {
    expect(batch.baseOffset).toBe(expectedBase);
    expectedBase = batch.lastOffset + 1;
    for (const r of batch.records) {
      if (out.length > 0) expect(r.offset).toBeGreaterThan(out[out.length - 1].offset);
      expect(r.offset).toBeGreaterThanOrEqual(batch.baseOffset);
      expect(r.offset).toBeLessThanOrEqual(batch.lastOffset);
      out.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp });
    }
  }
  expect(expectedBase).toBe(log.logEndOffset);
  return out;
}

/** What compaction should leave: the model of the cleaner's rules. */
function expectedAfterCompaction(records: readonly Rec[], segmentBases: readonly number[], activeBase: number, horizon: number): Rec[] {
  const latest = new Map<string, number>();
  for (const r of records) if (r.key !== null) latest.set(r.key, r.offset);
  const segmentOf = (offset: number): number => segmentBases.findLastIndex((base) => base <= offset);
  const largest = new Map<number, number>();
  for (const r of records) largest.set(segmentOf(r.offset), Math.max(largest.get(segmentOf(r.offset)) ?? -1, r.timestamp));
  return records.filter((r) => {
    if (r.offset >= activeBase || r.key === null) return true;
    if (latest.get(r.key) !== r.offset) return false;
    return !(r.value === null && largest.get(segmentOf(r.offset))! < horizon);
  });
}

describe('log compaction', () => {
  it('keeps exactly the latest record per key (model test over seeds)', () => {
    let tombstonesDropped = 0;
    let tombstonesKept = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const dir = newDir();
      const log = openLog(dir);
      const random = new SeededRandom(seed * 7919);
      const records = fill(log, seed, 60 + random.int(60), 3 + random.int(15));
      const bases = log.segments.map((s) => s.baseOffset);
      expect(bases.length).toBeGreaterThan(3);
      const activeBase = bases[bases.length - 1];
      const activeBefore = log.read(activeBase, 1 << 30).bytes;
      const activeFile = fs.readFileSync(log.segments[bases.length - 1].file);
      expect(readAll(log)).toEqual(records);

      const now = T0 + records.length * 10;
      const deleteRetentionMs = random.int(records.length * 10);
      const result = log.compact({ now, deleteRetentionMs });
      const expected = expectedAfterCompaction(records, bases, activeBase, now - deleteRetentionMs);

      expect(result.recordsRemoved).toBe(records.length - expected.length);
      expect(result.segmentsCleaned).toBeGreaterThan(0);
      tombstonesDropped += records.filter((r) => r.value === null && r.key !== null && !expected.includes(r) && records.findLast((o) => o.key === r.key) === r).length;
      tombstonesKept += expected.filter((r) => r.value === null && r.offset < activeBase).length;
      expect(result.bytesAfter).toBeLessThanOrEqual(result.bytesBefore);
      expect(readAll(log)).toEqual(expected);
      expect(log.segments.map((s) => s.baseOffset)).toEqual(bases);
      expect(log.read(activeBase, 1 << 30).bytes.equals(activeBefore)).toBe(true);
      expect(fs.readFileSync(log.segments[bases.length - 1].file).equals(activeFile)).toBe(true);
      expect(log.size).toBe(log.segments.reduce((sum, s) => sum + s.size, 0));

      // Compacting again can only drop tombstones (a cleaned segment's largest timestamp may have
      // fallen below the horizon); timestamp lookups and appends still work.
      log.compact({ now, deleteRetentionMs });
      const again = readAll(log);
      expect(expected.filter((r) => !again.some((o) => o.offset === r.offset)).every((r) => r.value === null)).toBe(true);
      expect(again.every((r) => expected.some((o) => o.offset === r.offset))).toBe(true);
      expect(log.offsetForTimestamp(T0)).not.toBeNull();
      log.append(encodeRecordBatch([{ key: 'after', value: 'compaction', timestamp: now }]));
      const after = readAll(log);

      // Cleanly reopened and after a crash (no clean-shutdown marker, indexes rebuilt or checked).
      log.close();
      expect(readAll(openLog(dir))).toEqual(after);
      open.pop()!.close();
      fs.rmSync(path.join(dir, 'clean-shutdown'));
      fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'));
      const recovered = openLog(dir);
      expect(recovered.recovery.cleanShutdown).toBe(false);
      expect(readAll(recovered)).toEqual(after);
    }
    // The seeds exercise both sides of the tombstone rule.
    expect(tombstonesDropped).toBeGreaterThan(0);
    expect(tombstonesKept).toBeGreaterThan(0);
  });

  it('finishes or discards a swap interrupted at every step', () => {
    const steps: SwapStep[] = ['cleaned-written', 'indexes-staged', 'log-staged', 'indexes-swapped', 'log-swapped'];
    const committed = new Set<SwapStep>(['log-staged', 'indexes-swapped', 'log-swapped']);
    const build = (dir: string): { log: Log; records: Rec[] } => {
      const log = openLog(dir);
      const records = fill(log, 99, 80, 6);
      log.flush();
      return { log, records };
    };
    const now = T0 + 1_000_000;

    // The reference: what each segment holds before and after a full compaction.
    const reference = build(newDir());
    const bases = reference.log.segments.map((s) => s.baseOffset);
    const before = readAll(reference.log);
    reference.log.compact({ now, deleteRetentionMs: 0 });
    const after = readAll(reference.log);
    const cleanedBases: number[] = [];
    for (let i = 0; i < bases.length - 1; i++) {
      const inSegment = (r: Rec): boolean => r.offset >= bases[i] && r.offset < bases[i + 1];
      if (before.filter(inSegment).length !== after.filter(inSegment).length) cleanedBases.push(bases[i]);
    }
    expect(cleanedBases.length).toBeGreaterThan(1);

    for (const crashBase of [cleanedBases[0], cleanedBases[cleanedBases.length - 1]]) {
      for (const step of steps) {
        const dir = newDir();
        const { log } = build(dir);
        expect(() =>
          log.compact({ now, deleteRetentionMs: 0 }, {
            afterStep: (at, base) => {
              if (at === step && base === crashBase) throw new Error(`simulated crash after ${at} of ${base}`);
            },
          }),
        ).toThrow(/simulated crash/);
        expect(() => log.append(encodeRecordBatch([{ key: 'k', value: 'v' }]))).toThrow(/STORAGE|failed earlier/);
        log.close(); // the log failed: this only releases its files, like a crash

        const reopened = openLog(dir);
        expect(fs.readdirSync(dir).filter((name) => name.endsWith('.cleaned') || name.endsWith('.swap'))).toEqual([]);
        const seen = readAll(reopened);
        // Segments below the crash are cleaned; the crashed one is cleaned iff the swap committed; later ones are old.
        const crashDone = committed.has(step);
        const want = [...before, ...after]
          .filter((r, i, all) => all.findIndex((o) => o.offset === r.offset) === i)
          .filter((r) => {
            const inAfter = after.some((o) => o.offset === r.offset);
            const cleaned = r.offset < crashBase || (r.offset < bases[bases.indexOf(crashBase) + 1] && crashDone);
            return cleaned ? inAfter : before.some((o) => o.offset === r.offset);
          })
          .sort((a, b) => a.offset - b.offset);
        expect(seen, `crash after ${step} of ${crashBase}`).toEqual(want);
        // Finishing the compaction then gives the reference.
        reopened.compact({ now, deleteRetentionMs: 0 });
        expect(readAll(reopened)).toEqual(after);
      }
    }
  });

  it('discards staged files of a swap that never committed', () => {
    const dir = newDir();
    const log = openLog(dir);
    const records = fill(log, 5, 40, 4);
    const first = path.basename(log.segments[0].file, '.log');
    log.close();
    fs.writeFileSync(path.join(dir, `${first}.log.cleaned`), 'torn');
    fs.writeFileSync(path.join(dir, `${first}.index.swap`), Buffer.alloc(8));
    fs.writeFileSync(path.join(dir, `${first}.timeindex.cleaned`), Buffer.alloc(3));
    const reopened = openLog(dir);
    expect(readAll(reopened)).toEqual(records);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.cleaned') || name.endsWith('.swap'))).toEqual([]);
  });
});

describe('compactIfDirty (the cleanup pass of a compacted log)', () => {
  const openCompacted = (dir: string, minCleanableDirtyRatio: number) => {
    const log = Log.open(dir, { ...CONFIG, cleanupPolicy: 'compact', minCleanableDirtyRatio, retentionMs: 1 }, { clock: () => T0 });
    open.push(log);
    return log;
  };
  const writeRounds = (log: Log, rounds: number) => {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < 5; k++) log.append(encodeRecordBatch([{ key: `k${k}`, value: `round-${round}-${'x'.repeat(30)}`, timestamp: T0 }]));
    }
  };

  it('compacts once the closed segments are dirty enough, and not again until new closed bytes reach the ratio', () => {
    const log = openCompacted(newDir(), 0.5);
    writeRounds(log, 30);
    expect(log.segments.length).toBeGreaterThan(3);
    const first = log.compactIfDirty(T0);
    expect(first).not.toBeNull();
    expect(first!.recordsRemoved).toBeGreaterThan(0);
    // Nothing new was closed: the closed segments are all clean.
    expect(log.compactIfDirty(T0)).toBeNull();
    // Closing one segment at a time, each pass compacts exactly when the dirty share reaches the ratio.
    let cleanedUpTo = log.segments.at(-1)!.baseOffset;
    const decisions: boolean[] = [];
    for (let step = 0; step < 12; step++) {
      const segments = log.segments.length;
      while (log.segments.length === segments) writeRounds(log, 1);
      const closed = log.segments.slice(0, -1);
      const dirty = closed.filter((segment) => segment.baseOffset >= cleanedUpTo).reduce((sum, segment) => sum + segment.size, 0);
      const total = closed.reduce((sum, segment) => sum + segment.size, 0);
      const compacted = log.compactIfDirty(T0) !== null;
      expect(compacted).toBe(dirty / total >= 0.5);
      if (compacted) cleanedUpTo = log.segments.at(-1)!.baseOffset;
      decisions.push(compacted);
    }
    expect(decisions).toContain(true);
    expect(decisions).toContain(false);
  });

  it('keeps every key\'s latest value, and applies no retention to a compacted log', () => {
    const log = openCompacted(newDir(), 0);
    writeRounds(log, 30);
    expect(log.applyRetention(T0 + 10 * 86_400_000).deletedSegments).toBe(0);
    log.compactIfDirty(T0);
    const latest = new Map<string, string>();
    const { bytes } = log.read(log.logStartOffset, 1 << 20);
    for (const batch of decodeRecordBatches(bytes)) for (const record of batch.records) latest.set(record.key!.toString(), record.value!.toString());
    expect([...latest.keys()].sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    for (const value of latest.values()) expect(value).toMatch(/^round-29-/);
  });
});
