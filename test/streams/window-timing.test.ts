/**
 * Timing behaviour of window() and the aggregation after it, as marble tests on RxJS's
 * TestScheduler: when the watermark closes windows, idle timeouts, emit modes, completion,
 * errors, and teardown on unsubscription. Event times come from the records; frames are
 * processing time (1 ms each), which only the idle timeout reads.
 */
import { of, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { count, hopping, session, sum, tumbling, window } from '../../src/streams/index.js';

interface Click {
  readonly key: string;
  readonly timestamp: number;
  readonly n: number;
}
const click = (key: string, timestamp: number, n = 1): Click => ({ key, timestamp, n });
const result = (key: string, start: number, end: number, value: number, final = true) => ({ key, window: { start, end }, value, final });

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('window() marbles', () => {
  it('emits a window when the watermark passes its end, and the open ones at completion', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b-c-d|', { a: click('k', 1), b: click('k', 5), c: click('k', 12), d: click('k', 25) });
      expectObservable(input.pipe(window(tumbling(10)), count())).toBe('----x-y(z|)', {
        x: result('k', 0, 10, 2),
        y: result('k', 10, 20, 1),
        z: result('k', 20, 30, 1),
      });
    });
  });

  it('keeps windows open for maxOutOfOrderness and grace, and sends records behind them to late$', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const values = { a: click('k', 1), b: click('k', 13), c: click('k', 9), d: click('k', 17), e: click('k', 4), f: click('k', 30) };
      const input = cold('a-b-c-d-e-f|', values);
      const windowed = window<Click>(tumbling(10), { maxOutOfOrderness: 3, grace: 1 });
      // [0, 10) closes at watermark 11: not after b (watermark 10), so c counts; after d (14) it
      // is closed, so e is late.
      expectObservable(windowed.late$).toBe('--------e--|', values);
      expectObservable(input.pipe(windowed, count())).toBe('------x---y(z|)', {
        x: result('k', 0, 10, 2),
        y: result('k', 10, 20, 2),
        z: result('k', 30, 40, 1),
      });
    });
  });

  it('with emit: update, emits each change at once and the final result at close', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // A group "(cd)" takes as many frames as it has characters, so the input completes later.
      const input = cold('a-b-c----|', { a: click('k', 1, 5), b: click('k', 3, 7), c: click('k', 11, 1) });
      expectObservable(input.pipe(window(tumbling(10), { emit: 'update' }), sum((c) => c.n))).toBe('a-b-(cd)-(e|)', {
        a: result('k', 0, 10, 5, false),
        b: result('k', 0, 10, 12, false),
        c: result('k', 0, 10, 12),
        d: result('k', 10, 20, 1, false),
        e: result('k', 10, 20, 1),
      });
    });
  });

  it('with idleTimeout, advances the watermark while input is idle, so windows close without new records', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // One record at event time 2, then nothing for 30 ms. Idle checks at 5, 10, 15...: after
      // being idle 5 ms the watermark is 2 + 5 = 7, after 10 ms it is 12 and [0, 10) closes.
      const input = cold('a 30ms |', { a: click('k', 2) });
      expectObservable(input.pipe(window(tumbling(10), { idleTimeout: 5 }), count())).toBe('10ms x 20ms |', { x: result('k', 0, 10, 1) });
    });
  });

  it('counts idleness from the last record, and a record behind an idle-advanced watermark is late', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // b (frame 4) closes [10, 20). The idle check at frame 10 finds the input idle for 6 ms only;
      // at frame 14 it has been idle 10 ms, the watermark becomes 20 + 10 = 30 and [20, 30) closes,
      // so c (event time 25, frame 19) is late.
      const values = { a: click('k', 10), b: click('k', 20), c: click('k', 25) };
      const input = cold('a---b 14ms c|', values);
      const windowed = window<Click>(tumbling(10), { idleTimeout: 10 });
      expectObservable(windowed.late$).toBe('19ms c|', values);
      expectObservable(input.pipe(windowed, count())).toBe('4ms x 9ms y 5ms |', { x: result('k', 10, 20, 1), y: result('k', 20, 30, 1) });
    });
  });

  it('passes an input error on without emitting open windows', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b-#', { a: click('k', 1), b: click('k', 15) }, new Error('boom'));
      expectObservable(input.pipe(window(tumbling(10)), count())).toBe('--x-#', { x: result('k', 0, 10, 1) }, new Error('boom'));
    });
  });

  it('fails on an event time that is not an integer, with INVALID_RECORD', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b-c|', { a: click('k', 1), b: click('k', Number.NaN), c: click('k', 2) });
      const error = new TributaryError('INVALID_RECORD', 'Event time must be an integer number of epoch milliseconds, got number NaN', { timestamp: 'number NaN' });
      expectObservable(input.pipe(window(tumbling(10)), count())).toBe('--#', undefined, error);
    });
  });

  it('fails when a user extractor throws, and stops reading the input', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('a-b-c|', { a: click('k', 1), b: click('x', 2), c: click('k', 3) });
      const key = (c: Click) => {
        if (c.key === 'x') throw new Error('bad key');
        return c.key;
      };
      expectObservable(input.pipe(window(tumbling(10), { key }), count())).toBe('--#', undefined, new Error('bad key'));
      expectSubscriptions(input.subscriptions).toBe('^-!');
    });
  });

  it('unsubscribes from the input and stops its idle timer when the output is unsubscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      // The input never completes: a timer left running would keep the scheduler busy forever.
      const input = cold('a-b-c-d-', { a: click('k', 1), b: click('k', 11), c: click('k', 21), d: click('k', 31) });
      const windowed = window<Click>(tumbling(10), { idleTimeout: 3 });
      // late$ completes as its window operator's last subscription ends.
      expectObservable(windowed.late$).toBe('-----|');
      expectObservable(input.pipe(windowed, count()), '^----!').toBe('--x-y-', { x: result('k', 0, 10, 1), y: result('k', 10, 20, 1) });
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
  });

  it('hopping windows: a record counts in every window holding it, each window emitted once when it closes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b-c-----|', { a: click('k', 1), b: click('k', 7), c: click('k', 40) });
      expectObservable(input.pipe(window(hopping(10, 5)), count())).toBe('--x-(yz)--(vw|)', {
        x: result('k', -5, 5, 1),
        y: result('k', 0, 10, 2),
        z: result('k', 5, 15, 1),
        v: result('k', 35, 45, 1),
        w: result('k', 40, 50, 1),
      });
    });
  });
});

describe('window() timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('leaves no timer behind after completion, error or unsubscription', () => {
    vi.useFakeTimers();
    const endings: Array<(input: Subject<Click>, unsubscribe: () => void) => void> = [
      (input) => input.complete(),
      (input) => input.error(new Error('x')),
      (_, unsubscribe) => unsubscribe(),
    ];
    for (const end of endings) {
      const input = new Subject<Click>();
      const subscription = input.pipe(window(session(10), { idleTimeout: 100 }), count()).subscribe({ error: () => {} });
      input.next(click('k', 1));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(250);
      end(input, () => subscription.unsubscribe());
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('closes windows in real time once input stops, with the default scheduler', () => {
    vi.useFakeTimers();
    const results: unknown[] = [];
    const input = new Subject<Click>();
    input.pipe(window(tumbling(1000), { idleTimeout: 200 }), count()).subscribe((r) => results.push(r));
    input.next(click('k', 5_000));
    vi.advanceTimersByTime(800);
    expect(results).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(results).toEqual([result('k', 5_000, 6_000, 1)]);
    input.complete();
  });

  it('late$ completes when the last subscription of its window operator ends, and follows the next one', () => {
    const windowed = window<Click>(tumbling(10));
    const seen: string[] = [];
    windowed.late$.subscribe({ next: (c) => seen.push(`late ${c.timestamp}`), complete: () => seen.push('complete') });
    of(click('k', 20), click('k', 1)).pipe(windowed, count()).subscribe();
    windowed.late$.subscribe({ next: (c) => seen.push(`late again ${c.timestamp}`), complete: () => seen.push('complete again') });
    of(click('k', 30), click('k', 2)).pipe(windowed, count()).subscribe();
    expect(seen).toEqual(['late 1', 'complete', 'late again 2', 'complete again']);
  });
});
