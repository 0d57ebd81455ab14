/**
 * Key-value stores: the state of keyed aggregations (`groupByKey()`) and of tables. As in Kafka
 * Streams, `put(key, null)` deletes, so a store holds no null values and every change maps onto a
 * compacted changelog record (a null value is a tombstone).
 */
import { ChangeListeners, type ChangeListener, type StateStore } from './changes.js';
import { storeKey } from './store-key.js';

export interface KeyValueChange<K, V> {
  readonly key: K;
  /** The new value; null when the key was deleted. */
  readonly value: V | null;
}

export interface KeyValueStore<K, V> extends StateStore<KeyValueChange<K, V>> {
  readonly kind: 'key-value';
  get(key: K): V | undefined;
  /** Sets the key's value; null deletes it. */
  put(key: K, value: V | null): void;
  /** Every entry, in insertion order. */
  all(): Array<{ readonly key: K; readonly value: V }>;
}

interface Entry<K, V> {
  key: K;
  value: V;
}

export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly kind = 'key-value';
  private readonly entries = new Map<unknown, Entry<K, V>>();
  private readonly listeners = new ChangeListeners<KeyValueChange<K, V>>();

  constructor(readonly name = 'key-value-store') {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(storeKey(key))?.value;
  }

  put(key: K, value: V | null): void {
    this.write(key, value);
    if (this.listeners.active) this.listeners.emit({ key, value });
  }

  all(): Array<{ readonly key: K; readonly value: V }> {
    return [...this.entries.values()].map(({ key, value }) => ({ key, value }));
  }

  onChange(listener: ChangeListener<KeyValueChange<K, V>>): () => void {
    return this.listeners.add(listener);
  }

  snapshot(): KeyValueChange<K, V>[] {
    return this.all();
  }

  restore(changes: Iterable<KeyValueChange<K, V>>): void {
    this.entries.clear();
    for (const change of changes) this.write(change.key, change.value);
  }

  private write(key: K, value: V | null): void {
    const id = storeKey(key);
    if (value === null) {
      this.entries.delete(id);
      return;
    }
    const entry = this.entries.get(id);
    if (entry === undefined) this.entries.set(id, { key, value });
    else entry.value = value;
  }
}
