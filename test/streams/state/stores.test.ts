/**
 * The in-memory stores against plain models (arrays filtered and sorted on every read), under
 * random sequences of writes; and the restore contract: replaying the observed changes, or a
 * snapshot, rebuilds an equal store.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InMemoryKeyValueStore,
  InMemorySessionStore,
  InMemoryWindowStore,
  type KeyValueChange,
  type SessionChange,
  type WindowChange,
} from '../../../src/streams/state/index.js';

// Keys of several types, including ones equal by value but not by identity.
const arbKey = fc.constantFrom<unknown>('a', 'b', 1, '1', null, ['x', 1]).map((k) => (Array.isArray(k) ? [...k] : k));
const sameKey = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b) && typeof a === typeof b;
const arbTime = fc.integer({ min: -20, max: 40 });
const arbValue = fc.option(fc.integer({ min: 0, max: 9 }), { nil: null, freq: 4 });

describe('InMemoryKeyValueStore', () => {
  it('matches a model; its changes and its snapshot restore it', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbKey, arbValue), { maxLength: 60 }), (writes) => {
        const store = new InMemoryKeyValueStore<unknown, number>();
        const changes: KeyValueChange<unknown, number>[] = [];
        store.onChange((c) => changes.push(c));
        let model: Array<{ key: unknown; value: number }> = [];
        for (const [key, value] of writes) {
          store.put(key, value);
          const at = model.findIndex((e) => sameKey(e.key, key));
          if (value === null) model = model.filter((_, i) => i !== at);
          else if (at >= 0) model[at] = { key: model[at].key, value };
          else model.push({ key, value });
          expect(store.get(key)).toEqual(at >= 0 || value !== null ? (value ?? undefined) : undefined);
        }
        expect(store.all()).toEqual(model);
        expect(store.size).toBe(model.length);
        expect(changes).toEqual(writes.map(([key, value]) => ({ key, value })));
        const replayed = new InMemoryKeyValueStore<unknown, number>();
        replayed.restore(changes);
        expect(replayed.all()).toEqual(model);
        const fromSnapshot = new InMemoryKeyValueStore<unknown, number>();
        fromSnapshot.restore(store.snapshot());
        expect(fromSnapshot.all()).toEqual(model);
      }),
      { seed: 21, numRuns: 300 },
    );
  });
});

describe('InMemoryWindowStore', () => {
  it('matches a model for get, fetch, fetchAll and earliestStart; changes and snapshots restore it', () => {
    // Reads between writes (a read then a write of the same window is the aggregations' hot path), and range reads
    // before, between or after writes (the per-key index is built on the first).
    const arbWrite = fc.tuple(arbKey, arbTime, arbValue, fc.constantFrom('write', 'read first', 'fetch first'));
    fc.assert(
      fc.property(fc.array(arbWrite, { maxLength: 80 }), arbTime, arbTime, (writes, from, to) => {
        const store = new InMemoryWindowStore<unknown, number>();
        const changes: WindowChange<unknown, number>[] = [];
        store.onChange((c) => changes.push(c));
        // Insertion order is kept per start, as fetchAll promises.
        let model: Array<{ key: unknown; start: number; value: number }> = [];
        for (const [key, start, value, kind] of writes) {
          if (kind === 'read first') expect(store.get(key, start)).toBe(model.find((e) => sameKey(e.key, key) && e.start === start)?.value);
          if (kind === 'fetch first') store.fetch(key, start, start);
          store.put(key, start, value);
          const at = model.findIndex((e) => sameKey(e.key, key) && e.start === start);
          if (value === null) model = model.filter((_, i) => i !== at);
          else if (at >= 0) model[at] = { ...model[at], value };
          else model.push({ key, start, value });
        }
        const byStart = (entries: typeof model) => [...entries].sort((a, b) => a.start - b.start);
        const inRange = (e: { start: number }) => e.start >= from && e.start <= to;
        expect(store.fetchAll(from, to)).toEqual(byStart(model).filter(inRange));
        for (const [key] of writes) {
          expect(store.fetch(key, from, to)).toEqual(byStart(model.filter((e) => sameKey(e.key, key))).filter(inRange));
          for (const start of [from, to]) expect(store.get(key, start)).toBe(model.find((e) => sameKey(e.key, key) && e.start === start)?.value);
        }
        const starts = model.map((e) => e.start);
        expect(store.earliestStart()).toBe(starts.length === 0 ? undefined : Math.min(...starts));
        const after = starts.filter((s) => s >= from);
        expect(store.earliestStart(from)).toBe(after.length === 0 ? undefined : Math.min(...after));
        expect(store.size).toBe(model.length);
        const replayed = new InMemoryWindowStore<unknown, number>();
        replayed.restore(changes);
        expect(replayed.snapshot()).toEqual(store.snapshot());
        const fromSnapshot = new InMemoryWindowStore<unknown, number>();
        fromSnapshot.restore(store.snapshot());
        expect(fromSnapshot.fetchAll(-Infinity, Infinity)).toEqual(byStart(model));
      }),
      { seed: 22, numRuns: 300 },
    );
  });

  it('hands out copies: a later write does not change an entry already read', () => {
    const store = new InMemoryWindowStore<string, number>();
    store.put('k', 0, 1);
    const [entry] = store.fetch('k', 0, 0);
    store.put('k', 0, 2);
    expect(entry.value).toBe(1);
  });
});

describe('InMemorySessionStore', () => {
  it('matches a model for findSessions, fetchEndingBetween and earliestEnd; changes restore it', () => {
    const arbSession = fc.tuple(arbKey, arbTime, fc.integer({ min: 0, max: 15 }), arbValue).map(([key, start, length, value]) => ({ key, start, end: start + length, value }));
    fc.assert(
      fc.property(fc.array(arbSession, { maxLength: 80 }), arbTime, arbTime, (writes, earliestEnd, latestStart) => {
        const store = new InMemorySessionStore<unknown, number>();
        const changes: SessionChange<unknown, number>[] = [];
        store.onChange((c) => changes.push(c));
        let model: Array<{ key: unknown; start: number; end: number; value: number }> = [];
        for (const { key, start, end, value } of writes) {
          store.put(key, start, end, value);
          const at = model.findIndex((e) => sameKey(e.key, key) && e.start === start && e.end === end);
          if (value === null) model = model.filter((_, i) => i !== at);
          else if (at >= 0) model[at] = { ...model[at], value };
          else model.push({ key, start, end, value });
        }
        for (const { key, start, end } of writes) {
          const mine = model.filter((e) => sameKey(e.key, key));
          expect(store.findSessions(key, earliestEnd, latestStart)).toEqual(
            mine.filter((e) => e.end >= earliestEnd && e.start <= latestStart).sort((a, b) => a.start - b.start || a.end - b.end),
          );
          expect(store.fetchSession(key, start, end)).toBe(mine.find((e) => e.start === start && e.end === end)?.value);
        }
        const ending = store.fetchEndingBetween(earliestEnd, latestStart);
        expect(ending.map((e) => e.end)).toEqual([...ending.map((e) => e.end)].sort((a, b) => a - b));
        expect(new Set(ending)).toEqual(new Set(model.filter((e) => e.end >= earliestEnd && e.end <= latestStart)));
        expect(store.earliestEnd()).toBe(model.length === 0 ? undefined : Math.min(...model.map((e) => e.end)));
        const replayed = new InMemorySessionStore<unknown, number>();
        replayed.restore(changes);
        expect(replayed.snapshot()).toEqual(store.snapshot());
        expect(replayed.size).toBe(model.length);
      }),
      { seed: 23, numRuns: 300 },
    );
  });
});
