/**
 * Seeded damage to the segment files of a closed log: byte flips and truncations anywhere. Open
 * either keeps exactly the sound prefix (damage at the end of the last segment is cut off there)
 * or fails with CORRUPT_LOG naming the damaged segment and the batch's position; a read that
 * reaches damage open did not look at fails the same way. A corrupt batch is never served.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { Log } from '../../src/log/index.js';
import { baseOffsetAt, batchSizeAt } from '../../src/record/batch-header.js';
import { SeededRandom, batchAt, batchSpans, tempDirs, type BatchSpan } from './helpers.js';

const newDir = tempDirs();
const CONFIG = { segmentBytes: 6000, indexIntervalBytes: 700 };
const SEEDS = 60;

interface Pristine {
  readonly files: Map<string, Buffer>;
  /** Segment files in offset order, with their batches. */
  readonly segments: { file: string; spans: BatchSpan[] }[];
  /** Original bytes of each batch, by base offset. */
  readonly batches: Map<number, Buffer>;
  readonly end: number;
}

function buildPristine(dir: string): Pristine {
  const rng = new SeededRandom(77);
  const log = Log.open(dir, CONFIG);
  for (let i = 0; i < 70; i++) log.append(batchAt(log.logEndOffset, 1 + rng.int(14)));
  const end = log.logEndOffset;
  log.close();
  const files = new Map(fs.readdirSync(dir).map((name) => [name, fs.readFileSync(path.join(dir, name))] as const));
  const segments = [...files.keys()].filter((name) => name.endsWith('.log')).sort().map((name) => ({ file: path.join(dir, name), spans: batchSpans(path.join(dir, name)) }));
  const batches = new Map<number, Buffer>();
  for (const { file, spans } of segments) {
    const bytes = files.get(path.basename(file))!;
    for (const span of spans) batches.set(span.baseOffset, bytes.subarray(span.position, span.position + span.size));
  }
  return { files, segments, batches, end };
}

function restore(dir: string, pristine: Pristine): void {
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name));
  for (const [name, bytes] of pristine.files) fs.writeFileSync(path.join(dir, name), bytes);
}

type Mode = 'full' | 'tail' | 'clean';

interface Damage {
  readonly segment: number;
  /** The first damaged batch of that segment. */
  readonly batch: number;
  readonly kind: 'flip' | 'truncate';
  /** Damage that only touches partitionLeaderEpoch, which Kafka's CRC does not cover. */
  readonly undetectable: boolean;
  /** Truncation exactly at a batch boundary: the file is shorter but what is left is sound. */
  readonly atBoundary: boolean;
}

function damage(dir: string, pristine: Pristine, rng: SeededRandom, mode: Mode): Damage {
  if (mode !== 'clean') fs.rmSync(path.join(dir, 'clean-shutdown'));
  if (mode === 'full') fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'));
  const segment = rng.int(pristine.segments.length);
  const { file, spans } = pristine.segments[segment];
  const bytes = fs.readFileSync(file);
  if (rng.int(3) === 0) {
    const length = rng.int(bytes.length);
    fs.truncateSync(file, length);
    const batch = spans.findIndex((span) => span.position + span.size > length);
    return { segment, batch, kind: 'truncate', undetectable: false, atBoundary: spans[batch].position === length };
  }
  const at = rng.int(bytes.length);
  bytes[at] ^= 1 + rng.int(255);
  fs.writeFileSync(file, bytes);
  const batch = spans.findIndex((span) => span.position + span.size > at);
  const inBatch = at - spans[batch].position;
  return { segment, batch, kind: 'flip', undetectable: inBatch >= 12 && inBatch < 16, atBoundary: false };
}

function corruptionOf(fn: () => unknown): TributaryError | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (TributaryError.is(error, 'CORRUPT_LOG') || TributaryError.is(error, 'CORRUPT_BATCH')) return error;
    throw error;
  }
}

/** Reads from the start with a seeded mix of sizes; returns the offset reached and the error that stopped it, if any. */
function readEverything(log: Log, pristine: Pristine, rng: SeededRandom, undetectable: boolean): { reached: number; error: TributaryError | null } {
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    let result: ReturnType<Log['read']> | undefined;
    const error = corruptionOf(() => (result = log.read(offset, rng.int(4) === 0 ? 0 : rng.int(20_000))));
    if (error !== null) return { reached: offset, error };
    const bytes = result!.bytes;
    for (let p = 0; p < bytes.length; ) {
      const size = batchSizeAt(bytes, p);
      const served = bytes.subarray(p, p + size);
      const original = pristine.batches.get(baseOffsetAt(served));
      expect(original, `served batch at ${baseOffsetAt(served)} exists in the original`).toBeDefined();
      // The partitionLeaderEpoch bytes are outside Kafka's CRC, so damage there is invisible by design.
      const same = undetectable ? Buffer.from(served).fill(0, 12, 16).equals(Buffer.from(original!).fill(0, 12, 16)) : served.equals(original!);
      expect(same, `served batch at ${baseOffsetAt(served)} is the original`).toBe(true);
      p += size;
    }
    offset = result!.nextOffset;
  }
  return { reached: offset, error: null };
}

describe('corrupted segment files', () => {
  for (const mode of ['full', 'tail', 'clean'] as const) {
    it(`never serve a corrupt batch (${mode} recovery, ${SEEDS} seeded damages)`, () => {
      const dir = newDir();
      const pristine = buildPristine(dir);
      expect(pristine.segments.length).toBeGreaterThan(4);
      const rng = new SeededRandom(mode === 'full' ? 1 : mode === 'tail' ? 2 : 3);
      const outcomes = { openFailed: 0, truncated: 0, readFailed: 0, intact: 0 };
      for (let seed = 0; seed < SEEDS; seed++) {
        restore(dir, pristine);
        const hit = damage(dir, pristine, rng, mode);
        const { file, spans } = pristine.segments[hit.segment];
        const next = pristine.segments[hit.segment + 1];
        const isLast = next === undefined;
        const damaged = spans[hit.batch];
        const where = `seed ${seed}: ${hit.kind} in segment ${hit.segment} batch ${hit.batch}`;

        let log: Log | undefined;
        const openError = corruptionOf(() => (log = Log.open(dir, CONFIG)));
        if (openError !== null) {
          outcomes.openFailed++;
          expect(openError.code, where).toBe('CORRUPT_LOG');
          // A segment cut at a batch boundary is sound; the gap shows at the next segment's first batch.
          const blamed = hit.atBoundary && !isLast ? { segment: next.file, position: 0 } : { segment: file, position: damaged.position };
          expect(openError.details, where).toMatchObject(blamed);
          expect(mode === 'clean' && !isLast, `${where}: a clean open does not scan closed segments`).toBe(false);
          continue;
        }
        try {
          const opened = log!;
          if (mode === 'full' && !hit.undetectable) {
            // Every segment was scanned: only damage at the very end of the last one is survivable.
            expect(isLast && (hit.kind === 'truncate' || hit.batch === spans.length - 1), `${where}: open must fail`).toBe(true);
          }
          if (isLast && !hit.undetectable && opened.recovery.scannedSegments > 0) {
            // The torn tail was cut exactly at the damaged batch.
            expect(opened.logEndOffset, where).toBe(damaged.baseOffset);
            if (!hit.atBoundary) expect(opened.recovery.truncated, where).toMatchObject({ segment: file, position: damaged.position });
            outcomes.truncated++;
          }
          const { reached, error } = readEverything(opened, pristine, rng, hit.undetectable);
          if (error !== null) {
            outcomes.readFailed++;
            expect(hit.undetectable, where).toBe(false);
            expect(reached, where).toBe(damaged.baseOffset);
            expect(error.details.segment, where).toBe(file);
          } else {
            outcomes.intact++;
            expect(reached, where).toBe(opened.logEndOffset);
            if (!hit.undetectable) expect(opened.logEndOffset, `${where}: damage went unnoticed`).toBe(damaged.baseOffset);
          }
        } finally {
          log!.close();
        }
      }
      if (mode === 'full') expect(outcomes.openFailed, JSON.stringify(outcomes)).toBeGreaterThan(SEEDS / 2);
      else expect(outcomes.readFailed, JSON.stringify(outcomes)).toBeGreaterThan(SEEDS / 2);
      if (mode !== 'clean') expect(outcomes.truncated, JSON.stringify(outcomes)).toBeGreaterThan(0);
    });
  }
});
