/** `max(selector)`: the largest `selector(record)` per window or key. */
import type { OperatorFunction } from 'rxjs';
import { aggregateWith, type AggregationOptions } from './aggregation/aggregate-with.js';
import { identity } from './aggregation/aggregation.js';
import type { Aggregatable, RecordOf, ResultOf } from './events.js';

export function max<E extends Aggregatable>(selector: (record: RecordOf<E>) => number, options?: AggregationOptions): OperatorFunction<E, ResultOf<E, number>> {
  // A window or key is only ever created by a record, so the emitted maximum is never the initial -Infinity.
  return aggregateWith<E, number, number>(
    { name: 'max', init: () => -Infinity, add: (greatest, record) => Math.max(greatest, selector(record)), merge: (left, right) => Math.max(left, right), result: identity },
    options,
  );
}
