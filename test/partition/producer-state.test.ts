/**
 * Idempotent-producer dedup: a model of Kafka's rules over a producer's whole history, checked
 * against ProducerState on random sequences of batches (in order, retries, gaps, epoch bumps,
 * stale epochs, sequences wrapping past 2^31-1); and a state rebuilt from a real log answering
 * every probe exactly as the state that watched the appends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError, type ErrorCode } from '../../src/errors.js';
import { Log } from '../../src/log/index.js';
import { ProducerState, RETAINED_BATCHES, lastSequence, producerBatchAt, type AppendedBatch, type ProducerBatch } from '../../src/partition/producer-state.js';
import { maxTimestampAt } from '../../src/record/batch-header.js';
import { makeBatch, tempDirs } from './helpers.js';

const INT32_MAX = 2 ** 31 - 1;
const PRODUCERS = [100, 101, 102];

type Outcome = { kind: 'append' } | { kind: 'duplicate'; batch: AppendedBatch } | { kind: 'error'; code: ErrorCode };

interface ModelBatch extends AppendedBatch {
  readonly epoch: number;
}

/** Kafka's rules stated over a producer's full history (no 5-batch window kept, no entries). */
class Model {
  readonly history = new Map<number, ModelBatch[]>();

  expect(batch: ProducerBatch): Outcome {
    if (batch.producerId < 0) return { kind: 'append' };
    const firstSeq = batch.baseSequence;
    const lastSeq = (firstSeq + batch.lastOffsetDelta) % 2 ** 31;
    const history = this.history.get(batch.producerId) ?? [];
    if (history.length === 0) return firstSeq === 0 ? { kind: 'append' } : { kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' };
    const current = history[history.length - 1];
    if (batch.producerEpoch === current.epoch) {
      const recent = history.filter((b) => b.epoch === current.epoch).slice(-5);
      const match = recent.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
      if (match !== undefined) {
        const { epoch: _, ...original } = match;
        return { kind: 'duplicate', batch: original };
      }
    }
    if (batch.producerEpoch < current.epoch) return { kind: 'error', code: 'INVALID_PRODUCER_EPOCH' };
    const expected = batch.producerEpoch > current.epoch ? 0 : (current.lastSeq + 1) % 2 ** 31;
    return firstSeq === expected ? { kind: 'append' } : { kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE' };
  }

  append(batch: ProducerBatch, baseOffset: number, timestamp: number): void {
    if (batch.producerId < 0) return;
    const list = this.history.get(batch.producerId) ?? [];
    const lastSeq = (batch.baseSequence + batch.lastOffsetDelta) % 2 ** 31;
    list.push({ epoch: batch.producerEpoch, firstSeq: batch.baseSequence, lastSeq, baseOffset, lastOffset: baseOffset + batch.lastOffsetDelta, timestamp });
    this.history.set(batch.producerId, list);
  }
}

function outcomeOf(state: ProducerState, batch: ProducerBatch): Outcome {
  try {
    const duplicate = state.check(batch);
    return duplicate === null ? { kind: 'append' } : { kind: 'duplicate', batch: duplicate };
  } catch (error) {
    if (!TributaryError.is(error)) throw error;
    return { kind: 'error', code: error.code };
  }
}

/** What a well-behaved (or deliberately misbehaving) producer sends next. */
type Op =
  | { kind: 'next'; p: number; count: number }
  | { kind: 'nearWrap'; p: number; below: number }
  | { kind: 'retry'; p: number; back: number }
  | { kind: 'gap'; p: number; skip: number; count: number }
  | { kind: 'bump'; p: number }
  | { kind: 'stale'; p: number; count: number }
  | { kind: 'plain'; count: number };

const producerIndex = fc.integer({ min: 0, max: PRODUCERS.length - 1 });
const count = fc.integer({ min: 1, max: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('next' as const), p: producerIndex, count }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nearWrap' as const), p: producerIndex, below: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('retry' as const), p: producerIndex, back: fc.integer({ min: 1, max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('gap' as const), p: producerIndex, skip: fc.integer({ min: 1, max: 3 }), count }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('bump' as const), p: producerIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stale' as const), p: producerIndex, count }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('plain' as const), count }) },
);

interface Producer {
  epoch: number;
  nextSeq: number;
  /** Batches of the current epoch sent (accepted or not), for retries. */
  sent: ProducerBatch[];
}

/** Turns ops into batches, as producers keeping their own sequence numbers would send them. */
class Simulator {
  private readonly producers = PRODUCERS.map((): Producer => ({ epoch: 0, nextSeq: 0, sent: [] }));

  /** The batch for `op`, or null when the op makes no batch (a bump, a retry with nothing to retry). */
  batch(op: Op, huge: boolean): ProducerBatch | null {
    if (op.kind === 'plain') return { producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: op.count - 1 };
    const producer = this.producers[op.p];
    const producerId = PRODUCERS[op.p];
    switch (op.kind) {
      case 'bump':
        producer.epoch += 1;
        producer.nextSeq = 0;
        producer.sent = [];
        return null;
      case 'retry':
        return producer.sent.length >= op.back ? producer.sent[producer.sent.length - op.back] : null;
      case 'stale':
        return producer.epoch === 0 ? null : { producerId, producerEpoch: producer.epoch - 1, baseSequence: 0, lastOffsetDelta: op.count - 1 };
      case 'gap':
        return { producerId, producerEpoch: producer.epoch, baseSequence: (producer.nextSeq + op.skip) % 2 ** 31, lastOffsetDelta: op.count - 1 };
      case 'next':
      case 'nearWrap': {
        const batch = { producerId, producerEpoch: producer.epoch, baseSequence: producer.nextSeq, lastOffsetDelta: 0 };
        if (op.kind === 'next') batch.lastOffsetDelta = op.count - 1;
        // With huge batches allowed, one batch so large that its last sequence lands just below
        // 2^31-1; otherwise (real records) a fresh producer starting just below it.
        else if (huge) batch.lastOffsetDelta = Math.max(0, INT32_MAX - op.below - producer.nextSeq);
        else if (producer.sent.length === 0 && producer.epoch === 0) batch.baseSequence = INT32_MAX - op.below;
        const lastSeq = lastSequence(batch.baseSequence, batch.lastOffsetDelta);
        producer.nextSeq = lastSeq === INT32_MAX ? 0 : lastSeq + 1;
        producer.sent.push(batch);
        return batch;
      }
    }
  }
}

describe('ProducerState rules', () => {
  const state = (): ProducerState => new ProducerState('t-0');
  const batch = (baseSequence: number, records = 1, producerEpoch = 0, producerId = 7): ProducerBatch => ({ producerId, producerEpoch, baseSequence, lastOffsetDelta: records - 1 });

  it('answers a retry of one of the last five batches with its original offsets, and not of the sixth', () => {
    const s = state();
    for (let i = 0; i < 6; i++) s.record(batch(i * 2, 2), 100 + i * 2, 101 + i * 2, 1000 + i);
    expect(s.entry(7)!.batches).toHaveLength(RETAINED_BATCHES);
    expect(s.check(batch(2, 2))).toEqual({ firstSeq: 2, lastSeq: 3, baseOffset: 102, lastOffset: 103, timestamp: 1001 });
    expect(s.check(batch(10, 2))).toMatchObject({ baseOffset: 110 });
    expect(() => s.check(batch(0, 2))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE', details: expect.objectContaining({ expectedSequence: 12, receivedSequence: 0 }) }));
    // Same first sequence, different length: not the same batch.
    expect(() => s.check(batch(10, 1))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE' }));
  });

  it('names expected and received sequence on a gap', () => {
    const s = state();
    s.record(batch(0, 3), 0, 2, 0);
    expect(() => s.check(batch(4))).toThrow(/sent sequence 4 to t-0: expected sequence 3/);
    expect(s.check(batch(3))).toBeNull();
  });

  it('fences an older epoch, restarts the sequence on a newer one', () => {
    const s = state();
    s.record(batch(0, 1, 3), 0, 0, 0);
    expect(() => s.check(batch(1, 1, 2))).toThrow(expect.objectContaining({ code: 'INVALID_PRODUCER_EPOCH', details: expect.objectContaining({ currentEpoch: 3 }) }));
    expect(() => s.check(batch(1, 1, 4))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE', details: expect.objectContaining({ expectedSequence: 0 }) }));
    expect(s.check(batch(0, 1, 4))).toBeNull();
    s.record(batch(0, 1, 4), 1, 1, 0);
    expect(s.entry(7)).toEqual({ epoch: 4, batches: [{ firstSeq: 0, lastSeq: 0, baseOffset: 1, lastOffset: 1, timestamp: 0 }] });
    // The old epoch's batch is no longer a duplicate: it is fenced.
    expect(() => s.check(batch(0, 1, 3))).toThrow(expect.objectContaining({ code: 'INVALID_PRODUCER_EPOCH' }));
  });

  it('wraps sequences from 2^31-1 to 0', () => {
    expect(lastSequence(INT32_MAX - 1, 3)).toBe(1);
    const s = state();
    s.record(batch(0, INT32_MAX), 0, INT32_MAX - 1, 0);
    expect(s.entry(7)!.batches[0].lastSeq).toBe(INT32_MAX - 1);
    expect(s.check(batch(INT32_MAX - 1 + 1, 3))).toBeNull();
    s.record(batch(INT32_MAX, 3), INT32_MAX, INT32_MAX + 2, 0);
    expect(s.entry(7)!.batches[1]).toMatchObject({ firstSeq: INT32_MAX, lastSeq: 1 });
    expect(s.check(batch(2))).toBeNull();
    expect(s.check(batch(INT32_MAX, 3))).toMatchObject({ baseOffset: INT32_MAX });
  });

  it('wants sequence 0 from an unknown producer: OUT_OF_ORDER_SEQUENCE if nothing was forgotten, UNKNOWN_PRODUCER_ID if it may have been', () => {
    expect(state().check(batch(0))).toBeNull();
    expect(() => state().check(batch(5))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE' }));
    expect(() => new ProducerState('t-0', 40).check(batch(5))).toThrow(expect.objectContaining({ code: 'UNKNOWN_PRODUCER_ID', details: expect.objectContaining({ forgottenBefore: 40 }) }));
  });

  it('ignores non-idempotent batches and rejects idempotent ones without a sequence or epoch', () => {
    const s = state();
    expect(s.check({ producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 0 })).toBeNull();
    s.record({ producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 0 }, 0, 0, 0);
    expect(s.size).toBe(0);
    expect(() => s.check(batch(-1))).toThrow(expect.objectContaining({ code: 'INVALID_RECORD' }));
    expect(() => s.check(batch(0, 1, -1))).toThrow(expect.objectContaining({ code: 'INVALID_RECORD' }));
  });
});

describe('ProducerState against a model of Kafka rules', () => {
  it('answers every batch of random producer histories as the model does', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 80 }), (ops) => {
        const state = new ProducerState('t-0');
        const model = new Model();
        const sim = new Simulator();
        const wrapped = new Set<number>();
        let logEnd = 0;
        for (const o of ops) {
          const batch = sim.batch(o, true);
          if (o.kind === 'bump') wrapped.delete(PRODUCERS[o.p]);
          if (batch === null) continue;
          const expected = model.expect(batch);
          const actual = outcomeOf(state, batch);
          expect(actual, JSON.stringify({ op: o, batch })).toEqual(expected);
          // Independently of the model: a well-behaved producer's next batch is appended, a recent
          // retry is a duplicate. Not after a batch spanning ~2^31 sequences: then a later batch
          // can have exactly the sequences of a retained one, and Kafka (and the model) call it a duplicate.
          if (o.kind === 'nearWrap') wrapped.add(batch.producerId);
          if (!wrapped.has(batch.producerId)) {
            if (o.kind === 'next') expect(actual.kind).toBe('append');
            if (o.kind === 'retry' && o.back <= RETAINED_BATCHES) expect(actual.kind).toBe('duplicate');
          }
          if (actual.kind === 'append') {
            state.record(batch, logEnd, logEnd + batch.lastOffsetDelta, logEnd);
            model.append(batch, logEnd, logEnd);
            logEnd += batch.lastOffsetDelta + 1;
          }
        }
        for (const [producerId, history] of model.history) {
          const current = history[history.length - 1].epoch;
          const retained = history.filter((b) => b.epoch === current).slice(-RETAINED_BATCHES).map(({ epoch: _, ...b }) => b);
          expect(state.entry(producerId)).toEqual({ epoch: current, batches: retained });
        }
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });
});

describe('ProducerState.rebuild', () => {
  const tempDir = tempDirs();

  /** Every probe a producer might send: retries of its last seven batches, the next batch, a gap, its epoch ±1. */
  function probes(entry: { epoch: number; batches: readonly AppendedBatch[] } | undefined, producerId: number, sent: readonly ProducerBatch[]): ProducerBatch[] {
    const epoch = entry?.epoch ?? 0;
    const next = entry === undefined ? 0 : (entry.batches[entry.batches.length - 1].lastSeq + 1) % 2 ** 31;
    return [
      ...sent.slice(-7),
      { producerId, producerEpoch: epoch, baseSequence: next, lastOffsetDelta: 0 },
      { producerId, producerEpoch: epoch, baseSequence: next + 1, lastOffsetDelta: 0 },
      { producerId, producerEpoch: epoch + 1, baseSequence: 0, lastOffsetDelta: 1 },
      { producerId, producerEpoch: Math.max(0, epoch - 1), baseSequence: 0, lastOffsetDelta: 0 },
    ];
  }

  it('rebuilds from a log the same state, with the same answers, as watching the appends', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 30 }), fc.boolean(), (ops, logAppendTime) => {
        const dir = tempDir();
        const log = Log.open(dir, { fsync: 'never' });
        try {
          const watched = new ProducerState('t-0');
          const sim = new Simulator();
          const sent = new Map<number, ProducerBatch[]>();
          let time = 1_700_000_000_000;
          for (const o of ops) {
            const identity = sim.batch(o, false);
            if (identity === null) continue;
            sent.set(identity.producerId, [...(sent.get(identity.producerId) ?? []), identity]);
            const bytes = makeBatch({ count: identity.lastOffsetDelta + 1, ...(identity.producerId < 0 ? {} : identity), timestamp: (time += 1000) });
            // A fresh producer starting just below the wrap is seeded into the log as is, bypassing the checks.
            const seeded = o.kind === 'nearWrap' && identity.baseSequence > INT32_MAX - 4 && watched.entry(identity.producerId) === undefined;
            const header = producerBatchAt(bytes)!;
            if (!seeded && outcomeOf(watched, header).kind !== 'append') continue;
            const result = log.append(bytes, logAppendTime ? { timestampType: 'log-append' } : {});
            watched.record(header, result.baseOffset, result.lastOffset, maxTimestampAt(bytes));
          }
          const rebuilt = ProducerState.rebuild(log, 't-0');
          expect(rebuilt.forgottenBefore).toBe(0);
          expect(rebuilt.size).toBe(watched.size);
          for (const producerId of [...PRODUCERS, -1]) {
            expect(rebuilt.entry(producerId)).toEqual(watched.entry(producerId));
            for (const probe of probes(watched.entry(producerId), producerId, sent.get(producerId) ?? [])) {
              expect(outcomeOf(rebuilt, probe)).toEqual(outcomeOf(watched, probe));
            }
          }
        } finally {
          log.close();
        }
      }),
      { seed: 7041, numRuns: 40 },
    );
  });

  it('scans only the active segment and the one before; producers below are forgotten and get UNKNOWN_PRODUCER_ID', () => {
    const dir = tempDir();
    // Small segments: every batch rolls a new one.
    const log = Log.open(dir, { fsync: 'never', segmentBytes: 100 });
    try {
      log.append(makeBatch({ count: 2, producerId: 1 }));
      for (let i = 0; i < 4; i++) log.append(makeBatch({ count: 1, producerId: 2, baseSequence: i }));
      expect(log.segments.length).toBeGreaterThanOrEqual(4);
      const rebuilt = ProducerState.rebuild(log, 't-0');
      const segments = log.segments;
      expect(rebuilt.forgottenBefore).toBe(segments[segments.length - 2].baseOffset);
      expect(rebuilt.entry(1)).toBeUndefined();
      expect(() => rebuilt.check({ producerId: 1, producerEpoch: 0, baseSequence: 2, lastOffsetDelta: 0 })).toThrow(expect.objectContaining({ code: 'UNKNOWN_PRODUCER_ID' }));
      // The last batch of producer 2 (in the tail) is still recognised.
      expect(rebuilt.check({ producerId: 2, producerEpoch: 0, baseSequence: 3, lastOffsetDelta: 0 })).toMatchObject({ baseOffset: 5, lastOffset: 5 });
    } finally {
      log.close();
    }
  });

  it('starts at the log start offset when records were deleted', () => {
    const dir = tempDir();
    const log = Log.open(dir, { fsync: 'never' });
    try {
      log.append(makeBatch({ count: 2, producerId: 1 }));
      log.append(makeBatch({ count: 2, producerId: 2 }));
      log.deleteRecordsBefore(2);
      const rebuilt = ProducerState.rebuild(log, 't-0');
      expect(rebuilt.forgottenBefore).toBe(2);
      expect(rebuilt.entry(2)).toMatchObject({ epoch: 0 });
      expect(rebuilt.entry(1)).toBeUndefined();
    } finally {
      log.close();
    }
  });
});
