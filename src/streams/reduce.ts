/**
 * `reduce(reducer)`: combines the records of a window or key, Kafka Streams' reduce: the first
 * record is the aggregate, each later one is folded in with `reducer(aggregate, record)`, and the
 * reducer also merges sessions.
 */
import type { OperatorFunction } from 'rxjs';
import { aggregateWith, type AggregationOptions } from './aggregation/aggregate-with.js';
import type { Aggregatable, RecordOf, ResultOf } from './events.js';

/** The aggregate before the first record; a symbol, so any record value (undefined, null) can be an aggregate. */
const NOTHING: unique symbol = Symbol('nothing');

export function reduce<E extends Aggregatable>(
  reducer: (aggregate: RecordOf<E>, record: RecordOf<E>) => RecordOf<E>,
  options?: AggregationOptions,
): OperatorFunction<E, ResultOf<E, RecordOf<E>>> {
  type T = RecordOf<E>;
  const combine = (left: T | typeof NOTHING, right: T | typeof NOTHING): T | typeof NOTHING =>
    left === NOTHING ? right : right === NOTHING ? left : reducer(left, right);
  return aggregateWith<E, T | typeof NOTHING, T>(
    { name: 'reduce', init: () => NOTHING, add: combine, merge: combine, result: (aggregate) => aggregate as T },
    options,
  );
}
