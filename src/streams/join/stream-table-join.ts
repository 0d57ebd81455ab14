/**
 * Stream-table join (Kafka Streams' KStream-KTable join): each stream record is joined with the
 * table's current value for its key when the record arrives; table updates emit nothing. The
 * inner join drops records whose key has no value; the left join calls the joiner with null.
 * The stream is subscribed once the table is loaded (see table.ts).
 */
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { subscribeOperator } from '../operator.js';
import type { Table } from './table.js';

export function streamTableJoin<T, K, V, O>(
  table: Table<K, V>,
  joiner: (record: T, value: V | null) => O,
  keyOf: (record: T) => K,
  left: boolean,
): OperatorFunction<T, O> {
  return (source) =>
    new Observable<O>((subscriber) => {
      const tableSubscription = table.updates.subscribe({ error: (error: unknown) => subscriber.error(error) });
      let subscription: Subscription | undefined;
      const joinStream = (): void => {
        subscription = subscribeOperator(source, subscriber, {
          next(record) {
            const value = table.get(keyOf(record));
            if (value !== undefined) subscriber.next(joiner(record, value));
            else if (left) subscriber.next(joiner(record, null));
          },
        });
      };
      // Synchronously when nothing needs loading, so that a join over in-memory streams keeps their timing.
      if (table.loaded === null) joinStream();
      else void table.loaded.then(() => subscriber.closed || joinStream());
      return () => {
        subscription?.unsubscribe();
        tableSubscription.unsubscribe();
      };
    });
}
