/**
 * State stores that survive a restart, for the `store` option of aggregations and tables:
 *
 * ```ts
 * source('clicks').pipe(window(tumbling('1m')), count({ store: windowStore('clicks-per-minute') }), sink('counts'));
 * ```
 *
 * Inside a stream task (`rt.run`), a store is backed by a compacted changelog topic,
 * `<run name>-<store name>-changelog`, one partition per task: every change is written to the
 * task's partition, and when the task starts (after a stop, or on a replacement thread after its
 * thread died) the store is rebuilt from it up to the task's last commit before any record is
 * read (see changelog.ts). Elsewhere it is an in-memory store like the default one: nothing
 * commits input positions outside a task, so there is no point to restore to.
 */
import { taskBinding } from './context.js';
import { checkStreamName } from './names.js';
import type { AggregationStore } from './aggregation/aggregate-with.js';
import { InMemoryKeyValueStore, type KeyValueStore } from './state/key-value-store.js';
import { InMemorySessionStore, type SessionStore } from './state/session-store.js';
import { InMemoryWindowStore, type WindowStore } from './state/window-store.js';

/** A window store (tumbling, hopping and sliding window aggregations). */
export function windowStore<K, V>(name: string): WindowStore<K, V> {
  return registered(new InMemoryWindowStore<K, V>(checkName(name)));
}

/** A key-value store (aggregations after `groupByKey()`, tables). */
export function keyValueStore<K, V>(name: string): KeyValueStore<K, V> {
  return registered(new InMemoryKeyValueStore<K, V>(checkName(name)));
}

/** A session store (session window aggregations). */
export function sessionStore<K, V>(name: string): SessionStore<K, V> {
  return registered(new InMemorySessionStore<K, V>(checkName(name)));
}

function registered<S extends AggregationStore>(store: S): S {
  taskBinding()?.registerStore(store);
  return store;
}

function checkName(name: string): string {
  return checkStreamName(name, 'store', 'a changelog topic');
}
