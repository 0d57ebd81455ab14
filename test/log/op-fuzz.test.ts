/**
 * Model-based fuzzing: seeded random sequences of append, read, roll, flush, retention,
 * deleteRecordsBefore, offsetForTimestamp and close/reopen (clean, or with the shutdown marker
 * removed so recovery runs), checked after every step against a plain in-memory model of batches
 * and segments that restates the spec: Kafka's roll and retention rules and read semantics.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { Log, type FsyncPolicy, type LogConfig } from '../../src/log/index.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import { SeededRandom, tempDirs } from './helpers.js';

const newDir = tempDirs();
const SEEDS = 40;
const STEPS = 120;

interface ModelBatch {
  readonly base: number;
  readonly last: number;
  readonly bytes: Buffer;
  readonly maxTs: number;
  readonly timestamps: readonly number[];
}

interface ModelSegment {
  readonly base: number;
  size: number;
  maxTs: number;
  readonly firstTs: number;
  /** Offset after its last batch. */
  next: number;
}

class Model {
  batches: ModelBatch[] = [];
  segments: ModelSegment[] = [{ base: 0, size: 0, maxTs: -1, firstTs: -1, next: 0 }];
  logStart = 0;

  constructor(private readonly config: Pick<LogConfig, 'segmentBytes' | 'segmentMs' | 'retentionBytes' | 'retentionMs'>) {}

  get end(): number {
    return this.segments[this.segments.length - 1].next;
  }

  get size(): number {
    return this.segments.reduce((sum, segment) => sum + segment.size, 0);
  }

  append(batch: ModelBatch): void {
    const active = this.segments[this.segments.length - 1];
    if (active.size > 0 && (active.size + batch.bytes.length > this.config.segmentBytes || batch.maxTs - active.firstTs > this.config.segmentMs)) {
      this.segments.push({ base: batch.base, size: 0, maxTs: -1, firstTs: batch.maxTs, next: batch.base });
    }
    const target = this.segments[this.segments.length - 1];
    if (target.size === 0) (target as { firstTs: number }).firstTs = batch.maxTs;
    target.size += batch.bytes.length;
    target.maxTs = Math.max(target.maxTs, batch.maxTs);
    target.next = batch.last + 1;
    this.batches.push(batch);
  }

  roll(): void {
    const active = this.segments[this.segments.length - 1];
    if (active.size > 0) this.segments.push({ base: active.next, size: 0, maxTs: -1, firstTs: -1, next: active.next });
  }

  /** Kafka's three rules in order, never the active segment. */
  retention(now: number): number {
    const closed = this.segments.length - 1;
    let count = 0;
    while (count < closed && this.segments[count + 1].base <= this.logStart) count++;
    if (this.config.retentionBytes >= 0) {
      let size = this.segments.slice(count).reduce((sum, segment) => sum + segment.size, 0);
      while (count < closed && size - this.segments[count].size >= this.config.retentionBytes) size -= this.segments[count++].size;
    }
    if (this.config.retentionMs >= 0) while (count < closed && now - this.segments[count].maxTs > this.config.retentionMs) count++;
    this.dropSegments(count);
    return count;
  }

  deleteRecordsBefore(offset: number): void {
    if (offset <= this.logStart) return;
    this.logStart = offset;
    let count = 0;
    while (count < this.segments.length - 1 && this.segments[count + 1].base <= offset) count++;
    this.dropSegments(count);
  }

  /** What read(offset, maxBytes) returns: whole batches from the one holding offset, the first always. */
  read(offset: number, maxBytes: number): { bytes: Buffer; nextOffset: number } {
    const first = this.batches.findIndex((batch) => batch.last >= offset);
    if (offset === this.end) return { bytes: Buffer.alloc(0), nextOffset: offset };
    let last = first;
    let total = this.batches[first].bytes.length;
    while (last + 1 < this.batches.length && total + this.batches[last + 1].bytes.length <= maxBytes) total += this.batches[++last].bytes.length;
    return { bytes: Buffer.concat(this.batches.slice(first, last + 1).map((batch) => batch.bytes)), nextOffset: this.batches[last].last + 1 };
  }

  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    for (const batch of this.batches) {
      for (let i = 0; i < batch.timestamps.length; i++) {
        if (batch.base + i >= this.logStart && batch.timestamps[i] >= timestamp) return { offset: batch.base + i, timestamp: batch.timestamps[i] };
      }
    }
    return null;
  }

  private dropSegments(count: number): void {
    if (count === 0) return;
    this.segments.splice(0, count);
    this.logStart = Math.max(this.logStart, this.segments[0].base);
    this.batches = this.batches.filter((batch) => batch.base >= this.segments[0].base);
  }
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (error instanceof TributaryError) return error.code;
    throw error;
  }
}

function runSeed(seed: number): void {
  const rng = new SeededRandom(seed);
  const pick = <T>(items: readonly T[]): T => rng.pick(items);
  const config: Partial<LogConfig> = {
    segmentBytes: 600 + rng.int(5000),
    segmentMs: pick([7 * 24 * 3600 * 1000, 300 + rng.int(3000)]),
    indexIntervalBytes: pick([0, 1, 100 + rng.int(1500), 4096]),
    appendBufferBytes: pick([0, 500, 4096, 65536]),
    fsync: pick<FsyncPolicy>(['never', 'interval', 'always']),
    flushIntervalMs: 3_600_000,
    retentionMs: pick([-1, 200 + rng.int(3000)]),
    retentionBytes: pick([-1, 2000 + rng.int(20_000)]),
  };
  const model = new Model(config as LogConfig);
  const dir = newDir();
  let now = 1_700_000_000_000;
  const clock = (): number => now;
  let log = Log.open(dir, config, { clock });
  const trail: string[] = [];

  try {
    for (let step = 0; step < STEPS; step++) {
      now += rng.int(120);
      const op = rng.int(100);
      if (op < 40) {
        const count = 1 + (rng.int(4) === 0 ? rng.int(3) : 0);
        const encoded: Buffer[] = [];
        const timestamps: number[][] = [];
        for (let b = 0; b < count; b++) {
          const stamps = Array.from({ length: 1 + rng.int(8) }, () => now + rng.int(60) - 30);
          timestamps.push(stamps);
          encoded.push(encodeRecordBatch(stamps.map((timestamp) => ({ key: `k${rng.int(50)}`, value: 'x'.repeat(rng.int(300)), timestamp }))));
        }
        trail.push(`append ${count}`);
        const base = model.end;
        const input = Buffer.concat(encoded);
        const result = log.append(input);
        // The log patched the offsets into `input`: the model keeps copies of the patched batches.
        let offset = base;
        let position = 0;
        for (const [b, stamps] of timestamps.entries()) {
          const bytes = Buffer.from(input.subarray(position, position + encoded[b].length));
          model.append({ base: offset, last: offset + stamps.length - 1, bytes, maxTs: Math.max(...stamps), timestamps: stamps });
          offset += stamps.length;
          position += bytes.length;
        }
        expect(result).toEqual({ baseOffset: base, lastOffset: offset - 1 });
      } else if (op < 65) {
        const offset = model.logStart - 2 + rng.int(model.end - model.logStart + 5);
        const maxBytes = pick([0, 1, 100, 1000, 5000, 1 << 20]);
        trail.push(`read ${offset} ${maxBytes}`);
        if (offset < model.logStart || offset > model.end) {
          expect(codeOf(() => log.read(offset, maxBytes))).toBe('OFFSET_OUT_OF_RANGE');
        } else {
          const { bytes, nextOffset } = log.read(offset, maxBytes);
          const expected = model.read(offset, maxBytes);
          expect(bytes.equals(expected.bytes), `read ${offset} ${maxBytes}`).toBe(true);
          expect(nextOffset).toBe(expected.nextOffset);
        }
      } else if (op < 70) {
        trail.push('roll');
        log.roll();
        model.roll();
      } else if (op < 75) {
        trail.push('flush');
        log.flush();
      } else if (op < 82) {
        now += rng.int(1500);
        trail.push(`retention at ${now}`);
        expect(log.applyRetention().deletedSegments).toBe(model.retention(now));
      } else if (op < 88) {
        const offset = model.logStart - 3 + rng.int(model.end - model.logStart + 6);
        trail.push(`deleteRecordsBefore ${offset}`);
        if (offset > model.end) {
          expect(codeOf(() => log.deleteRecordsBefore(offset))).toBe('OFFSET_OUT_OF_RANGE');
        } else {
          model.deleteRecordsBefore(offset);
          expect(log.deleteRecordsBefore(offset)).toBe(model.logStart);
        }
      } else if (op < 93) {
        const timestamp = now - rng.int(3000) + 100;
        trail.push(`offsetForTimestamp ${timestamp}`);
        expect(log.offsetForTimestamp(timestamp)).toEqual(model.offsetForTimestamp(timestamp));
      } else {
        const clean = rng.int(2) === 0;
        trail.push(`reopen ${clean ? 'clean' : 'after removing the clean-shutdown marker'}`);
        log.close();
        if (!clean) fs.rmSync(path.join(dir, 'clean-shutdown'));
        log = Log.open(dir, config, { clock });
        expect(log.recovery.cleanShutdown).toBe(clean);
        expect(log.recovery.truncated).toBeNull();
      }
      expect([log.logStartOffset, log.logEndOffset, log.size]).toEqual([model.logStart, model.end, model.size]);
      expect(log.segments.map((segment) => [segment.baseOffset, segment.nextOffset, segment.size])).toEqual(
        model.segments.map((segment) => [segment.base, segment.next, segment.size]),
      );
    }
  } catch (error) {
    throw new Error(`seed ${seed} config ${JSON.stringify(config)} failed after: ${trail.slice(-12).join('; ')}`, { cause: error });
  } finally {
    log.close();
  }
}

describe('log operations against a model', () => {
  it(`agree for ${SEEDS} seeded sequences of ${STEPS} operations`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) runSeed(seed);
  });
});
