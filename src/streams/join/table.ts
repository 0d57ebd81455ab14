/**
 * `table(source, options?)`: a table read from a keyed stream of upserts and tombstones, what a
 * compacted topic read as a table gives (Kafka Streams' KTable). Each record sets its key's value;
 * a null (or undefined) value deletes the key. The table's contents live in its key-value store.
 *
 * A table is read while some join uses it: the first join to subscribe subscribes to the source,
 * later ones share that subscription and the store, and the source is unsubscribed when the last
 * join ends. Joins subscribe to the table before their own input, so a table whose source is
 * synchronous (or has already been read into the store) is complete before the first record. A
 * table made directly of a `source()` is loaded first: a join lets its stream's records through
 * only once the table has read every partition up to the end offsets seen when it started (as
 * Kafka Streams bootstraps a global table), then goes on applying updates as they come.
 *
 * Options: `key` (default `record.key`), `value` (default `record.value`), `store` (default a new
 * in-memory key-value store).
 */
import { ignoreElements, share, tap, type Observable } from 'rxjs';
import { defineOptions } from '../../runtime/options.js';
import { isFunction, recordKey } from '../extractors.js';
import { InMemoryKeyValueStore, type KeyValueStore } from '../state/key-value-store.js';
import { CAUGHT_UP, type CatchingUp } from '../source.js';
import type { DefaultKey, KeyExtractor } from '../types.js';

/** The value type of records that carry a `value` field (a `StreamRecord`), tombstones excluded. */
export type DefaultValue<T> = T extends { readonly value: infer V } ? NonNullable<V> : unknown;

export interface TableOptions<T, K, V> {
  readonly key?: KeyExtractor<T, K>;
  readonly value?: (record: T) => V | null | undefined;
  readonly store?: KeyValueStore<K, V>;
}

const isKeyValueStore = (value: unknown): value is KeyValueStore<unknown, unknown> =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'key-value';

const parseTableOptions = defineOptions('table', {
  key: { type: 'custom', expected: 'a function (record) => key', is: isFunction, default: undefined },
  value: { type: 'custom', expected: 'a function (record) => value (null deletes)', is: isFunction, default: undefined },
  store: { type: 'custom', expected: 'a key-value store', is: isKeyValueStore, default: undefined },
});

const recordValue = (record: unknown): unknown => (record as { value?: unknown }).value;

export class Table<K, V> {
  /** Applies the source's updates to the store; never emits. Joins subscribe to it. */
  readonly updates: Observable<never>;
  /** Resolves once a table made of a `source()` has been loaded (see the module comment); null for other sources, ready at once. */
  readonly loaded: Promise<void> | null;

  constructor(
    source: Observable<unknown>,
    keyOf: (record: unknown) => K,
    valueOf: (record: unknown) => V | null | undefined,
    readonly store: KeyValueStore<K, V>,
  ) {
    // Asked now, while the pipeline is built: the source then looks up the end offsets to load up to when subscribed.
    this.loaded = CAUGHT_UP in source ? (source as Observable<unknown> & CatchingUp)[CAUGHT_UP]() : null;
    this.updates = source.pipe(
      tap((record) => store.put(keyOf(record), valueOf(record) ?? null)),
      ignoreElements(),
      share(),
    );
  }

  /** The key's current value; a null or undefined key has none (it cannot join, as in Kafka). */
  get(key: K): V | undefined {
    return key === null || key === undefined ? undefined : this.store.get(key);
  }
}

export function table<T, K = DefaultKey<T>, V = DefaultValue<T>>(source: Observable<T>, options?: TableOptions<T, K, V>): Table<K, V> {
  const parsed = parseTableOptions(options);
  return new Table<K, V>(
    source,
    (parsed.key ?? recordKey) as (record: unknown) => K,
    (parsed.value ?? recordValue) as (record: unknown) => V | null | undefined,
    (parsed.store as KeyValueStore<K, V> | undefined) ?? new InMemoryKeyValueStore<K, V>('table-store'),
  );
}
