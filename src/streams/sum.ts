/** `sum(selector)`: the sum of `selector(record)` per window or key. */
import type { OperatorFunction } from 'rxjs';
import { aggregateWith, type AggregationOptions } from './aggregation/aggregate-with.js';
import { identity } from './aggregation/aggregation.js';
import type { Aggregatable, RecordOf, ResultOf } from './events.js';

export function sum<E extends Aggregatable>(selector: (record: RecordOf<E>) => number, options?: AggregationOptions): OperatorFunction<E, ResultOf<E, number>> {
  return aggregateWith<E, number, number>(
    { name: 'sum', init: () => 0, add: (total, record) => total + selector(record), merge: (left, right) => left + right, result: identity },
    options,
  );
}
