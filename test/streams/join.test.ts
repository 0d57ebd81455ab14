import fc from 'fast-check';
import { BehaviorSubject, from, lastValueFrom, Observable, of, Subject, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { InMemoryKeyValueStore, InMemoryWindowStore, join, leftJoin, table, type StreamRecord } from '../../src/streams/index.js';
import { canonicalPairs, modelJoin, type Arrival, type JoinModelConfig, type JoinStep, type Pair } from './join-oracle.js';

interface Click {
  readonly key: string;
  readonly page: string;
}
interface UserUpdate {
  readonly key: string;
  readonly value: { readonly name: string } | null;
}

describe('stream-table join', () => {
  const users = (): Observable<UserUpdate> =>
    of({ key: 'u1', value: { name: 'Ada' } }, { key: 'u2', value: { name: 'Bob' } }, { key: 'u2', value: null }, { key: 'u3', value: { name: 'Cy' } });
  const clicks: Click[] = [
    { key: 'u1', page: '/a' },
    { key: 'u2', page: '/b' },
    { key: 'u3', page: '/c' },
    { key: 'u4', page: '/d' },
  ];

  it('joins each record with the current value of its key; tombstones delete; the inner join drops misses', async () => {
    const joined = await lastValueFrom(from(clicks).pipe(join(table(users()), (click, user) => `${click.page}:${user.name}`), toArray()));
    expect(joined).toEqual(['/a:Ada', '/c:Cy']);
  });

  it('the left join keeps every record, with null for a missing value', async () => {
    const joined = await lastValueFrom(from(clicks).pipe(leftJoin(table(users()), (click, user) => `${click.page}:${user?.name ?? '-'}`), toArray()));
    expect(joined).toEqual(['/a:Ada', '/b:-', '/c:Cy', '/d:-']);
  });

  it('joins with the value at the time of the record; table updates emit nothing', () => {
    const updates = new Subject<UserUpdate>();
    const input = new Subject<Click>();
    const out: string[] = [];
    input.pipe(leftJoin(table(updates), (click, user) => `${click.page}:${user?.name ?? '-'}`)).subscribe((s) => out.push(s));
    input.next({ key: 'u1', page: '/1' });
    updates.next({ key: 'u1', value: { name: 'Ada' } });
    input.next({ key: 'u1', page: '/2' });
    updates.next({ key: 'u1', value: { name: 'Ada Lovelace' } });
    input.next({ key: 'u1', page: '/3' });
    updates.next({ key: 'u1', value: null });
    input.next({ key: 'u1', page: '/4' });
    expect(out).toEqual(['/1:-', '/2:Ada', '/3:Ada Lovelace', '/4:-']);
  });

  it('reads the table once for all joins using it, into its store, and stops reading when the last ends', () => {
    let subscriptions = 0;
    let unsubscriptions = 0;
    const updates = new Subject<UserUpdate>();
    const source = new Observable<UserUpdate>((subscriber) => {
      subscriptions++;
      const s = updates.subscribe(subscriber);
      return () => {
        unsubscriptions++;
        s.unsubscribe();
      };
    });
    const store = new InMemoryKeyValueStore<string, { name: string }>('users');
    const users = table(source, { store });
    const first = new Subject<Click>().pipe(join(users, (_click, user) => user)).subscribe();
    const second = new Subject<Click>().pipe(join(users, (_click, user) => user)).subscribe();
    updates.next({ key: 'u1', value: { name: 'Ada' } });
    expect(subscriptions).toBe(1);
    expect(store.get('u1')).toEqual({ name: 'Ada' });
    first.unsubscribe();
    expect(unsubscriptions).toBe(0);
    second.unsubscribe();
    expect(unsubscriptions).toBe(1);
  });

  it('fails when the table source fails, and on a key extractor that throws', async () => {
    const failing = new Observable<UserUpdate>((s) => s.error(new Error('table down')));
    await expect(lastValueFrom(new BehaviorSubject<Click>(clicks[0]).pipe(join(table(failing), (click) => click)))).rejects.toThrow('table down');
    const badKey = join(table(users()), (c: Click) => c, {
      key: () => {
        throw new Error('no key');
      },
    });
    await expect(lastValueFrom(from(clicks).pipe(badKey))).rejects.toThrow('no key');
  });

  it('infers types from the table and the stream', () => {
    const users$ = of<StreamRecord<string, { name: string } | null>>();
    const clicks$ = of<StreamRecord<string, { page: string }>>();
    expectTypeOf(clicks$.pipe(join(table(users$), (c, u) => ({ page: c.value.page, name: u.name })))).toEqualTypeOf<Observable<{ page: string; name: string }>>();
    expectTypeOf(clicks$.pipe(leftJoin(table(users$), (_click, user) => user?.name))).toEqualTypeOf<Observable<string | undefined>>();
  });
});

/** Feeds the arrivals in order to two Subjects joined by the operator, collecting each step's output. */
function runJoin(arrivals: readonly Arrival[], config: JoinModelConfig): JoinStep[] {
  const left = new Subject<Arrival>();
  const right = new Subject<Arrival>();
  const options = { within: config.within, grace: config.grace, maxOutOfOrderness: config.maxOutOfOrderness };
  const operator = config.outer
    ? leftJoin(right, (l: Arrival, r: Arrival | null): Pair => [l.id, r?.id ?? null], options)
    : join(right, (l: Arrival, r: Arrival): Pair => [l.id, r.id], options);
  const steps: JoinStep[] = [];
  let current: JoinStep = { pairs: [], late: [] };
  let completed = false;
  operator.late$.subscribe((record) => current.late.push(record.id));
  left.pipe(operator).subscribe({ next: (pair) => current.pairs.push(pair), complete: () => (completed = true) });
  for (const arrival of arrivals) {
    (arrival.side === 'left' ? left : right).next(arrival);
    steps.push(current);
    current = { pairs: [], late: [] };
  }
  right.complete();
  expect(completed).toBe(false);
  left.complete();
  expect(completed).toBe(true);
  steps.push(current);
  return steps;
}

const arbArrivals = fc
  .array(
    fc.record({
      side: fc.constantFrom<'left' | 'right'>('left', 'right'),
      key: fc.constantFrom('a', 'b'),
      step: fc.integer({ min: 0, max: 20 }),
      lateness: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 80 }) }),
    }),
    { maxLength: 50 },
  )
  .map((draws) => {
    let now = 0;
    return draws.map(({ side, key, step, lateness }, id): Arrival => {
      now += step;
      return { side, id, key, timestamp: now - lateness };
    });
  });

describe('windowed stream-stream join', () => {
  it.each([false, true])('matches the model (left join: %s)', (outer) => {
    const arbConfig = fc.record({
      within: fc.integer({ min: 0, max: 40 }),
      grace: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
      maxOutOfOrderness: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
      outer: fc.constant(outer),
    });
    fc.assert(
      fc.property(arbArrivals, arbConfig, (arrivals, config) => {
        const expected = modelJoin(arrivals, config);
        const actual = runJoin(arrivals, config);
        expect(actual.map((s) => s.late)).toEqual(expected.map((s) => s.late));
        expect(actual.map((s) => canonicalPairs(s.pairs))).toEqual(expected.map((s) => canonicalPairs(s.pairs)));
      }),
      { seed: outer ? 41 : 42, numRuns: 400 },
    );
  });

  it('is checked on runs that join, emit nulls and see late records', () => {
    let pairs = 0;
    let nulls = 0;
    let late = 0;
    for (const arrivals of fc.sample(arbArrivals, { seed: 41, numRuns: 200 })) {
      for (const step of modelJoin(arrivals, { within: 10, grace: 5, maxOutOfOrderness: 5, outer: true })) {
        pairs += step.pairs.filter(([, r]) => r !== null).length;
        nulls += step.pairs.filter(([, r]) => r === null).length;
        late += step.late.length;
      }
    }
    expect(Math.min(pairs, nulls, late)).toBeGreaterThan(100);
  });

  it('emits a left-join null when the other side moves the watermark past the window, not before', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const lefts = cold('a----------|', { a: { key: 'k', timestamp: 100, side: 'L' } });
      const rights = cold('-b-c-d-----|', {
        b: { key: 'x', timestamp: 105 },
        c: { key: 'x', timestamp: 110 },
        d: { key: 'x', timestamp: 111 },
      });
      // within 5, grace 5: the window [95, 105] of the left record closes at watermark 111.
      const joined = lefts.pipe(leftJoin(rights, (l, r) => `${l.key}@${l.timestamp}+${r?.timestamp ?? 'null'}`, { within: 5, grace: 5 }));
      expectObservable(joined).toBe('-----x-----|', { x: 'k@100+null' });
    });
  });

  it('emits the nulls of windows still open at the end of both inputs, and with idleTimeout when input stops', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const lefts = cold('a--|', { a: { key: 'k', timestamp: 100 } });
      const rights = cold('-----|');
      expectObservable(lefts.pipe(leftJoin(rights, (l, r) => r ?? l.timestamp, { within: 5 }))).toBe('-----(x|)', { x: 100 });
      const idleLefts = cold('a 20ms |', { a: { key: 'k', timestamp: 100 } });
      // Idle for 6 ms, the watermark is 106 = 100 + within + 1: the window is closed.
      // (An input that never completed would keep the idle timer, and so the test scheduler, running.)
      const idleJoin = idleLefts.pipe(leftJoin(cold('30ms |'), (l, r) => r ?? l.timestamp, { within: 5, idleTimeout: 6 }));
      expectObservable(idleJoin).toBe('6ms x 23ms |', { x: 100 });
    });
  });

  it('never joins records with a null key; the left join emits them with null at once', async () => {
    const lefts = of({ key: null, timestamp: 1 }, { key: 'k', timestamp: 2 });
    const rights = of({ key: null, timestamp: 1 }, { key: 'k', timestamp: 2 });
    const joined = await lastValueFrom(lefts.pipe(leftJoin(rights, (l, r) => `${l.key}-${r?.key ?? 'none'}`, { within: 10 }), toArray()));
    expect(joined).toEqual(['null-none', 'k-k']);
  });

  it('keeps its buffers in the stores passed in and empties them as windows close', async () => {
    const left = new InMemoryWindowStore<string, readonly { key: string; timestamp: number }[]>('left');
    const writes: number[] = [];
    left.onChange((c) => writes.push(c.start));
    const lefts = of({ key: 'k', timestamp: 1 }, { key: 'k', timestamp: 50 });
    await lastValueFrom(lefts.pipe(join(of<{ key: string; timestamp: number }>(), (l, r) => [l, r], { within: 10, stores: { left } }), toArray()));
    expect(writes).toEqual([1, 1, 50, 50]);
    expect(left.size).toBe(0);
  });

  it('validates its options', () => {
    expect(() => join(of(), (l, r) => [l, r], {} as never)).toThrow(/needs the option within/);
    expect(() => join(of(), (l, r) => [l, r], { within: '5 minutes' as never })).toThrow(TributaryError);
    expect(() => join(of(), (l, r) => [l, r], { within: 5, withn: 3 } as never)).toThrow(/Unknown join option 'withn'/);
    expect(() => join(of(), (l, r) => [l, r], { within: 5, stores: { lefty: new InMemoryWindowStore() } } as never)).toThrow(/stores/);
    expect(() => join({} as never, (l: unknown) => l)).toThrow(/expects a table \(from table\(\)\) or an Observable/);
    expect(() => leftJoin(of(), 'joiner' as never, { within: 5 })).toThrow(/leftJoin\(\) expects a joiner function/);
  });

  it('infers types', () => {
    const clicks$ = of<StreamRecord<string, { page: string }>>();
    const views$ = of<StreamRecord<string, { ms: number }>>();
    const inner = clicks$.pipe(join(views$, (c, v) => ({ page: c.value.page, ms: v.value.ms }), { within: '1m' }));
    expectTypeOf(inner).toEqualTypeOf<Observable<{ page: string; ms: number }>>();
    const outer = leftJoin(views$, (_click: StreamRecord<string, { page: string }>, view) => view?.value.ms ?? 0, { within: '1m' });
    expectTypeOf(outer.late$).toEqualTypeOf<Observable<StreamRecord<string, { page: string }> | StreamRecord<string, { ms: number }>>>();
  });
});
