/**
 * The one stateful operator behind `count()`, `sum()`, `min()`, `max()`, `avg()`, `reduce()` and
 * `aggregate()`: it applies an `Aggregation` to the output of `window()` (per key and window) or of
 * `groupByKey()` (per key). Which of the four processors runs is known from the first event, since
 * the window spec travels with the records.
 *
 * State lives only in the store: the option `store` (a key-value store after `groupByKey()`, a
 * session store after session windows, a window store after the other windows), by default a new
 * in-memory one per subscription. A store restored from a changelog before the subscription
 * continues where it left off.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { TributaryError } from '../../errors.js';
import { defineOptions } from '../../runtime/options.js';
import type { Aggregatable, KeyedRecord, RecordOf, ResultOf, WindowEvent } from '../events.js';
import { subscribeOperator } from '../operator.js';
import { InMemoryKeyValueStore, type KeyValueStore } from '../state/key-value-store.js';
import { InMemorySessionStore, type SessionStore } from '../state/session-store.js';
import { InMemoryWindowStore, type WindowStore } from '../state/window-store.js';
import type { Aggregation, AggregationProcessor, Emit } from './aggregation.js';
import { FixedWindowAggregator } from './fixed-window-aggregator.js';
import { KeyedAggregator } from './keyed-aggregator.js';
import { SessionWindowAggregator } from './session-window-aggregator.js';
import { SlidingWindowAggregator } from './sliding-window-aggregator.js';

/** Any store an aggregation can keep its state in. */
export type AggregationStore = KeyValueStore<any, any> | WindowStore<any, any> | SessionStore<any, any>;

export interface AggregationOptions {
  /** Where the aggregates live; default a new in-memory store of the right kind per subscription. */
  readonly store?: AggregationStore;
}

function isAggregationStore(value: unknown): value is AggregationStore {
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  return kind === 'key-value' || kind === 'window' || kind === 'session';
}

const parseAggregationOptions = defineOptions('aggregation', {
  store: { type: 'custom', expected: 'a state store (key-value, window or session)', is: isAggregationStore, default: undefined },
});

export function aggregateWith<E extends Aggregatable, A, R>(
  aggregation: Aggregation<RecordOf<E>, A, R>,
  options?: AggregationOptions,
): OperatorFunction<E, ResultOf<E, R>> {
  const { store } = parseAggregationOptions(options);
  return (source) =>
    new Observable<ResultOf<E, R>>((subscriber) => {
      const emit: Emit = (result) => subscriber.next(result as ResultOf<E, R>);
      let processor: AggregationProcessor<Aggregatable> | undefined;
      return subscribeOperator<Aggregatable>(source, subscriber, {
        next(event) {
          (processor ??= createProcessor(event, aggregation, store, emit)).process(event);
        },
        complete() {
          processor?.flush();
        },
      });
    });
}

function createProcessor<T, A, R>(
  first: Aggregatable,
  aggregation: Aggregation<T, A, R>,
  store: AggregationStore | undefined,
  emit: Emit,
): AggregationProcessor<Aggregatable> {
  if (first.type === 'keyed') {
    const kv = storeOfKind(store, 'key-value', aggregation.name, 'groupByKey()') ?? new InMemoryKeyValueStore(`${aggregation.name}-store`);
    return new KeyedAggregator(aggregation, kv, emit) as AggregationProcessor<KeyedRecord<unknown, unknown>> as AggregationProcessor<Aggregatable>;
  }
  const { windowing } = first;
  const spec = windowing.spec;
  let processor: AggregationProcessor<WindowEvent<unknown, unknown>>;
  switch (spec.kind) {
    case 'session': {
      const sessions = storeOfKind(store, 'session', aggregation.name, 'session windows') ?? new InMemorySessionStore(`${aggregation.name}-store`);
      processor = new SessionWindowAggregator(aggregation, sessions, windowing, spec, emit);
      break;
    }
    case 'sliding': {
      const windows = storeOfKind(store, 'window', aggregation.name, 'sliding windows') ?? new InMemoryWindowStore(`${aggregation.name}-store`);
      processor = new SlidingWindowAggregator(aggregation, windows, windowing, spec, emit);
      break;
    }
    default: {
      const windows = storeOfKind(store, 'window', aggregation.name, `${spec.kind} windows`) ?? new InMemoryWindowStore(`${aggregation.name}-store`);
      processor = new FixedWindowAggregator(aggregation, windows, windowing, spec, emit);
    }
  }
  return processor as AggregationProcessor<Aggregatable>;
}

function storeOfKind<S extends AggregationStore['kind']>(
  store: AggregationStore | undefined,
  kind: S,
  operator: string,
  input: string,
): Extract<AggregationStore, { kind: S }> | undefined {
  if (store === undefined) return undefined;
  if (store.kind !== kind) {
    throw new TributaryError('INVALID_CONFIG', `${operator}() after ${input} keeps its state in a ${kind} store, got the ${store.kind} store '${store.name}'`, {
      options: 'aggregation',
      field: 'store',
      value: store.name,
    });
  }
  return store as Extract<AggregationStore, { kind: S }>;
}
