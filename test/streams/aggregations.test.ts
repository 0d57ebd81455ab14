import fc from 'fast-check';
import { from, lastValueFrom, Observable, of, toArray } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import {
  aggregate,
  avg,
  count,
  groupByKey,
  InMemoryKeyValueStore,
  InMemorySessionStore,
  InMemoryWindowStore,
  max,
  min,
  reduce,
  session,
  sliding,
  sum,
  tumbling,
  window,
  type KeyedResult,
  type StreamRecord,
  type WindowChange,
  type WindowResult,
} from '../../src/streams/index.js';
import { arbConfig, arbEvents, runWindows, collectIds } from './harness.js';
import type { Event } from './window-oracle.js';

/** A value per event derived from its id, so sums and extremes differ between windows. */
const amount = (event: Event) => ((event.id * 37) % 101) - 50;

describe('every aggregation agrees with the records of its windows', () => {
  it.each(['tumbling', 'hopping', 'sliding', 'session'] as const)('%s', (kind) => {
    fc.assert(
      fc.property(arbEvents(100, 40), arbConfig(kind, 'final'), (events, config) => {
        const finals = <R>(results: ReturnType<typeof runWindows<R>>) =>
          results.flatMap((step) => step.results).map((r) => [`${r.key}@${r.window.start}-${r.window.end}`, r.value] as const);
        const byId = new Map(events.map((e) => [e.id, e]));
        const expected = finals(runWindows(events, config, collectIds())).map(([window, ids]) => {
          const amounts = ids.map((id) => amount(byId.get(id)!));
          return { window, count: ids.length, sum: amounts.reduce((a, b) => a + b, 0), min: Math.min(...amounts), max: Math.max(...amounts), ids };
        });
        expect(finals(runWindows(events, config, count()))).toEqual(expected.map((e) => [e.window, e.count]));
        expect(finals(runWindows(events, config, sum(amount)))).toEqual(expected.map((e) => [e.window, e.sum]));
        expect(finals(runWindows(events, config, min(amount)))).toEqual(expected.map((e) => [e.window, e.min]));
        expect(finals(runWindows(events, config, max(amount)))).toEqual(expected.map((e) => [e.window, e.max]));
        const averages = finals(runWindows(events, config, avg(amount)));
        expect(averages.map(([w]) => w)).toEqual(expected.map((e) => e.window));
        averages.forEach(([, value], i) => expect(value).toBeCloseTo(expected[i].sum / expected[i].count, 9));
        // reduce keeps the record with the largest amount (ties: the earlier id), whatever the merge order.
        const largest = finals(runWindows(events, config, reduce((a, b) => (amount(b) > amount(a) || (amount(b) === amount(a) && b.id < a.id) ? b : a))));
        expect(largest.map(([w, e]) => [w, amount(e)])).toEqual(expected.map((e) => [e.window, e.max]));
      }),
      { seed: 11, numRuns: 150 },
    );
  });
});

describe('groupByKey', () => {
  it('emits every key’s running aggregate on each record, as a changelog', async () => {
    const events = fc.sample(arbEvents(10, 50), { seed: 3, numRuns: 1 })[0];
    const results = await lastValueFrom(from(events).pipe(groupByKey(), sum(amount), toArray()));
    const totals = new Map<string, number>();
    expect(results).toEqual(
      events.map((e) => {
        totals.set(e.key, (totals.get(e.key) ?? 0) + amount(e));
        return { key: e.key, value: totals.get(e.key) };
      }),
    );
  });

  it('groups by an extracted key, comparing keys by value (buffers by bytes, arrays by content)', async () => {
    const records = [Buffer.from('u1'), Buffer.from('u2'), Buffer.from('u1')].map((key, i) => ({ key, page: i % 2 === 0 ? ['/a', 'US'] : ['/b', 'US'] }));
    const byUser = await lastValueFrom(from(records).pipe(groupByKey(), count(), toArray()));
    expect(byUser.map((r) => [r.key.toString(), r.value])).toEqual([['u1', 1], ['u2', 1], ['u1', 2]]);
    const byPage = await lastValueFrom(from(records).pipe(groupByKey({ key: (r) => r.page }), count(), toArray()));
    expect(byPage.map((r) => r.value)).toEqual([1, 1, 2]);
  });

  it('keeps its state in the store passed in, whose changes replay into an equal store', async () => {
    const store = new InMemoryKeyValueStore<string, number>('clicks-per-user');
    const changes: Array<{ key: string; value: number | null }> = [];
    store.onChange((change) => changes.push(change));
    await lastValueFrom(of({ key: 'a' }, { key: 'b' }, { key: 'a' }).pipe(groupByKey(), count({ store }), toArray()));
    expect(store.all()).toEqual([{ key: 'a', value: 2 }, { key: 'b', value: 1 }]);
    const replayed = new InMemoryKeyValueStore<string, number>();
    replayed.restore(changes);
    expect(replayed.snapshot()).toEqual(store.snapshot());
    // A restored store continues: the next run counts on from it.
    const more = await lastValueFrom(of({ key: 'a' }).pipe(groupByKey(), count({ store: replayed }), toArray()));
    expect(more).toEqual([{ key: 'a', value: 3 }]);
  });
});

describe('state stores of windowed aggregations', () => {
  const clicks = [0, 10, 20, 65, 70, 130].map((timestamp, i) => ({ key: i % 2 === 0 ? 'a' : 'b', timestamp }));

  it('writes every window change, then deletes each window as it closes', async () => {
    const store = new InMemoryWindowStore<string, number>('counts');
    const log: string[] = [];
    store.onChange(({ key, start, value }) => log.push(`${key}@${start}=${value}`));
    const results = await lastValueFrom(from(clicks).pipe(window(tumbling(60)), count({ store }), toArray()));
    expect(results.map((r) => `${r.key}@${r.window.start}=${r.value}`)).toEqual(['a@0=2', 'b@0=1', 'b@60=1', 'a@60=1', 'b@120=1']);
    // The record at 65 moves the watermark past the end of [0, 60): the window closes before 65 is added.
    expect(log).toEqual(['a@0=1', 'b@0=1', 'a@0=2', 'a@0=null', 'b@0=null', 'b@60=1', 'a@60=1', 'b@60=null', 'a@60=null', 'b@120=1', 'b@120=null']);
    expect(store.size).toBe(0);
  });

  it('continues from a restored store: windows open at a restart close with their earlier records', async () => {
    const store = new InMemoryWindowStore<string, number>('counts');
    const firstRun = new Observable<{ key: string; timestamp: number }>((subscriber) => {
      for (const click of clicks.slice(0, 3)) subscriber.next(click);
      // The process dies here: no completion, so nothing is flushed.
    });
    const changes: WindowChange<string, number>[] = [];
    store.onChange((change) => changes.push(change));
    firstRun.pipe(window(tumbling(60)), count({ store })).subscribe().unsubscribe();
    const restored = new InMemoryWindowStore<string, number>('counts');
    restored.restore(changes);
    const results = await lastValueFrom(from(clicks.slice(3)).pipe(window(tumbling(60)), count({ store: restored }), toArray()));
    expect(results.map((r) => `${r.key}@${r.window.start}=${r.value}`)).toEqual(['a@0=2', 'b@0=1', 'b@60=1', 'a@60=1', 'b@120=1']);
  });

  it('uses a session store for session windows and refuses a store of the wrong kind', async () => {
    const sessions = new InMemorySessionStore<string, number>('sessions');
    await lastValueFrom(from(clicks).pipe(window(session(30), { grace: 1000 }), count({ store: sessions }), toArray()));
    await expect(lastValueFrom(from(clicks).pipe(window(session(30)), count({ store: new InMemoryWindowStore('w') })))).rejects.toThrow(
      /count\(\) after session windows keeps its state in a session store, got the window store 'w'/,
    );
    await expect(lastValueFrom(from(clicks).pipe(groupByKey(), count({ store: sessions })))).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(() => count({ store: {} as never })).toThrow(TributaryError);
    expect(() => count({ stroe: sessions } as never)).toThrow(/did you mean 'store'/);
  });

  it('needs a merge function for aggregate() over session windows, as Kafka needs a session merger', async () => {
    const noMerge = from(clicks).pipe(window(session(30)), aggregate(() => 0, (n) => n + 1));
    await expect(lastValueFrom(noMerge)).rejects.toThrow(/aggregate\(\) after session windows needs a merge function/);
    const withMerge = from(clicks).pipe(window(sliding(30)), aggregate(() => 0, (n) => n + 1));
    expect((await lastValueFrom(withMerge.pipe(toArray()))).length).toBeGreaterThan(0);
  });
});

describe('types', () => {
  it('infers record, key and result types through pipe', () => {
    const clicks$ = of<StreamRecord<string, { page: string; dur: number }>>();
    expectTypeOf(clicks$.pipe(window(tumbling('1m'), { key: (c) => c.value.page }), count())).toEqualTypeOf<Observable<WindowResult<string, number>>>();
    expectTypeOf(clicks$.pipe(window(tumbling('1m')), sum((c) => c.value.dur))).toEqualTypeOf<Observable<WindowResult<string, number>>>();
    expectTypeOf(clicks$.pipe(groupByKey({ key: (c) => c.value.dur }), max((c) => c.value.dur))).toEqualTypeOf<Observable<KeyedResult<number, number>>>();
    expectTypeOf(
      clicks$.pipe(
        window(session('5m')),
        aggregate(
          () => [] as string[],
          (pages, click, user) => [...pages, `${user}:${click.value.page}`],
          (a, b) => [...a, ...b],
        ),
      ),
    ).toEqualTypeOf<Observable<WindowResult<string, string[]>>>();
    expectTypeOf(clicks$.pipe(groupByKey(), reduce((a, b) => (a.value.dur > b.value.dur ? a : b)))).toEqualTypeOf<
      Observable<KeyedResult<string, StreamRecord<string, { page: string; dur: number }>>>
    >();
  });
});
