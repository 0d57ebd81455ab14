/**
 * Running aggregates per key after `groupByKey()`: each record updates its key's aggregate in a
 * key-value store and emits `{ key, value }`, a table's changelog.
 */
import type { KeyedRecord } from '../events.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { Aggregation, AggregationProcessor, Emit } from './aggregation.js';

export class KeyedAggregator<T, K, A, R> implements AggregationProcessor<KeyedRecord<T, K>> {
  constructor(
    private readonly aggregation: Aggregation<T, A, R>,
    private readonly store: KeyValueStore<K, A>,
    private readonly emit: Emit,
  ) {}

  process(event: KeyedRecord<T, K>): void {
    const { aggregation, store } = this;
    const key = event.key;
    const previous = store.get(key);
    const aggregate = aggregation.add(previous === undefined ? aggregation.init() : previous, event.record, key);
    store.put(key, aggregate);
    this.emit({ key, value: aggregation.result(aggregate) });
  }

  flush(): void {}
}
