/**
 * An aggregation as the stateful operator applies it: Kafka Streams' initializer, aggregator and
 * session merger, plus `result`, which turns the stored aggregate into what is emitted (an average
 * stores a sum and a count and emits their quotient).
 *
 * Aggregates are values: `add` and `merge` return a new aggregate and must not change their
 * arguments, because sliding windows start a new window from a copy of another's aggregate.
 */
export interface Aggregation<T, A, R> {
  /** Names the operator in errors and its default store. */
  readonly name: string;
  init(): A;
  add(aggregate: A, record: T, key: unknown): A;
  /** Combines two sessions' aggregates when a record bridges them; required by session windows. */
  readonly merge: ((left: A, right: A, key: unknown) => A) | undefined;
  result(aggregate: A): R;
}

/** What one subscription of an aggregation does with its input. */
export interface AggregationProcessor<E> {
  process(event: E): void;
  /** End of input: close and emit every open window. */
  flush(): void;
}

export type Emit = (result: unknown) => void;

export const identity = <A>(aggregate: A): A => aggregate;
