/** `count()`: the number of records per window (after `window()`) or per key (after `groupByKey()`). */
import type { OperatorFunction } from 'rxjs';
import { aggregateWith, type AggregationOptions } from './aggregation/aggregate-with.js';
import { identity, type Aggregation } from './aggregation/aggregation.js';
import type { Aggregatable, ResultOf } from './events.js';

const COUNT: Aggregation<unknown, number, number> = {
  name: 'count',
  init: () => 0,
  add: (count) => count + 1,
  merge: (left, right) => left + right,
  result: identity,
};

export function count<E extends Aggregatable>(options?: AggregationOptions): OperatorFunction<E, ResultOf<E, number>> {
  return aggregateWith<E, number, number>(COUNT, options);
}
