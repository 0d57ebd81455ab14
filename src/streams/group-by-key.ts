/**
 * `groupByKey(options?)`: marks a keyed, unwindowed stream, so the aggregation after it keeps one
 * running aggregate per key (in a key-value store) and emits the key's new aggregate on every
 * record, as a KTable's changelog does. Unlike RxJS's `groupBy` there is no per-key Observable.
 *
 * Options: `key`, the grouping key; default `record.key`. It groups what this subscription sees:
 * inside `rt.run`, where a task reads its share of the partitions, grouping by anything but the
 * key the input is partitioned by needs `repartition({ key })` first (what Kafka Streams' `groupBy`
 * does by itself).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { defineOptions } from '../runtime/options.js';
import { KeyedRecord } from './events.js';
import { isFunction, recordKey } from './extractors.js';
import { subscribeOperator } from './operator.js';
import type { DefaultKey, KeyExtractor } from './types.js';

export interface GroupByKeyOptions<T, K> {
  readonly key?: KeyExtractor<T, K>;
}

const parseGroupByKeyOptions = defineOptions('groupByKey', {
  key: { type: 'custom', expected: 'a function (record) => key', is: isFunction, default: undefined },
});

export function groupByKey<T, K = DefaultKey<T>>(options?: GroupByKeyOptions<T, K>): OperatorFunction<T, KeyedRecord<T, K>> {
  const keyOf = (parseGroupByKeyOptions(options).key ?? recordKey) as KeyExtractor<T, K>;
  return (source) =>
    new Observable<KeyedRecord<T, K>>((subscriber) =>
      subscribeOperator(source, subscriber, {
        next(record) {
          subscriber.next(new KeyedRecord(record, keyOf(record)));
        },
      }),
    );
}
