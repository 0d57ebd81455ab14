/** `avg(selector)`: the mean of `selector(record)` per window or key; stored as a sum and a count. */
import type { OperatorFunction } from 'rxjs';
import { aggregateWith, type AggregationOptions } from './aggregation/aggregate-with.js';
import type { Aggregatable, RecordOf, ResultOf } from './events.js';

/** An average's stored state. */
export interface SumAndCount {
  readonly sum: number;
  readonly count: number;
}

export function avg<E extends Aggregatable>(selector: (record: RecordOf<E>) => number, options?: AggregationOptions): OperatorFunction<E, ResultOf<E, number>> {
  return aggregateWith<E, SumAndCount, number>(
    {
      name: 'avg',
      init: () => ({ sum: 0, count: 0 }),
      add: (state, record) => ({ sum: state.sum + selector(record), count: state.count + 1 }),
      merge: (left, right) => ({ sum: left.sum + right.sum, count: left.count + right.count }),
      result: (state) => state.sum / state.count,
    },
    options,
  );
}
