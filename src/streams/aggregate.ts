/**
 * `aggregate(init, add, merge?)`: Kafka Streams' aggregate. `init()` starts a window's or key's
 * aggregate, `add(aggregate, record, key)` folds a record in, and `merge(left, right, key)`
 * combines two sessions' aggregates (required after session windows, as Kafka's session merger).
 * Return new aggregates rather than changing the one passed in: sliding windows copy aggregates.
 */
import type { OperatorFunction } from 'rxjs';
import { aggregateWith, type AggregationOptions } from './aggregation/aggregate-with.js';
import { identity } from './aggregation/aggregation.js';
import type { Aggregatable, KeyOf, RecordOf, ResultOf } from './events.js';

export function aggregate<E extends Aggregatable, A>(
  init: () => A,
  add: (aggregate: A, record: RecordOf<E>, key: KeyOf<E>) => A,
  merge?: (left: A, right: A, key: KeyOf<E>) => A,
  options?: AggregationOptions,
): OperatorFunction<E, ResultOf<E, A>> {
  return aggregateWith<E, A, A>(
    {
      name: 'aggregate',
      init,
      add: add as (aggregate: A, record: RecordOf<E>, key: unknown) => A,
      merge: merge as ((left: A, right: A, key: unknown) => A) | undefined,
      result: identity,
    },
    options,
  );
}
