/** `min(selector)`: the smallest `selector(record)` per window or key. */
import type { OperatorFunction } from 'rxjs';
import { aggregateWith, type AggregationOptions } from './aggregation/aggregate-with.js';
import { identity } from './aggregation/aggregation.js';
import type { Aggregatable, RecordOf, ResultOf } from './events.js';

export function min<E extends Aggregatable>(selector: (record: RecordOf<E>) => number, options?: AggregationOptions): OperatorFunction<E, ResultOf<E, number>> {
  // A window or key is only ever created by a record, so the emitted minimum is never the initial Infinity.
  return aggregateWith<E, number, number>(
    { name: 'min', init: () => Infinity, add: (least, record) => Math.min(least, selector(record)), merge: (left, right) => Math.min(left, right), result: identity },
    options,
  );
}
