/**
 * Window stores: per-(key, window start) values, the state of tumbling, hopping and sliding window
 * aggregations and of stream-stream join buffers (Kafka Streams' WindowStore). Windows of one store
 * share a size, so a start names a window. `put(key, start, null)` deletes.
 *
 * The in-memory store indexes entries by start: a Map of starts, each a Map of keys, plus the
 * sorted starts, which is the order in which windows close. The hot path of a windowed aggregation
 * is a get and a put of the same window of a recent start, so the store remembers the last start's
 * Map and the last entry read. Range reads of one key (sliding windows, joins) need a second index,
 * by key (each key's entries sorted by start); it is built on the first such read and kept from then.
 */
import { ChangeListeners, type ChangeListener, type StateStore } from './changes.js';
import { SortedTimes } from './sorted-times.js';
import { storeKey } from './store-key.js';

export interface WindowChange<K, V> {
  readonly key: K;
  readonly start: number;
  /** The new value; null when the window was deleted. */
  readonly value: V | null;
}

export interface WindowStoreEntry<K, V> {
  readonly key: K;
  readonly start: number;
  readonly value: V;
}

export interface WindowStore<K, V> extends StateStore<WindowChange<K, V>> {
  readonly kind: 'window';
  get(key: K, start: number): V | undefined;
  /** Sets the value of the key's window at `start`; null deletes it. */
  put(key: K, start: number, value: V | null): void;
  /** The key's windows with start in [timeFrom, timeTo], by ascending start. */
  fetch(key: K, timeFrom: number, timeTo: number): WindowStoreEntry<K, V>[];
  /** Every key's windows with start in [timeFrom, timeTo], by ascending start (keys of one start in insertion order). */
  fetchAll(timeFrom: number, timeTo: number): WindowStoreEntry<K, V>[];
  /** The earliest window start >= `from` of any key, or undefined. */
  earliestStart(from?: number): number | undefined;
}

interface Entry<K, V> {
  readonly key: K;
  readonly start: number;
  value: V;
}

export class InMemoryWindowStore<K, V> implements WindowStore<K, V> {
  readonly kind = 'window';
  private readonly byStart = new Map<number, Map<unknown, Entry<K, V>>>();
  private readonly starts = new SortedTimes();
  private byKey: Map<unknown, Entry<K, V>[]> | undefined;
  private readonly listeners = new ChangeListeners<WindowChange<K, V>>();
  private count = 0;
  /** The keys of the start last looked up (undefined when it has none). */
  private recentStart = NaN;
  private recentKeys: Map<unknown, Entry<K, V>> | undefined;
  /** The entry the last get found and the key it was asked for, so that the put after it need not look it up again. */
  private recentEntry: Entry<K, V> | undefined;
  private recentKey: K | undefined;

  constructor(readonly name = 'window-store') {}

  get size(): number {
    return this.count;
  }

  get(key: K, start: number): V | undefined {
    const entry = this.keysOf(start)?.get(storeKey(key));
    this.recentEntry = entry;
    this.recentKey = key;
    return entry?.value;
  }

  put(key: K, start: number, value: V | null): void {
    this.write(key, start, value);
    if (this.listeners.active) this.listeners.emit({ key, start, value });
  }

  fetch(key: K, timeFrom: number, timeTo: number): WindowStoreEntry<K, V>[] {
    const entries = this.keyIndex().get(storeKey(key));
    const out: WindowStoreEntry<K, V>[] = [];
    if (entries === undefined) return out;
    for (let i = firstAtOrAfter(entries, timeFrom); i < entries.length && entries[i].start <= timeTo; i++) out.push(copy(entries[i]));
    return out;
  }

  fetchAll(timeFrom: number, timeTo: number): WindowStoreEntry<K, V>[] {
    const out: WindowStoreEntry<K, V>[] = [];
    for (const start of this.starts.range(timeFrom, timeTo)) {
      for (const entry of this.byStart.get(start)!.values()) out.push(copy(entry));
    }
    return out;
  }

  earliestStart(from = -Infinity): number | undefined {
    return this.starts.first(from);
  }

  onChange(listener: ChangeListener<WindowChange<K, V>>): () => void {
    return this.listeners.add(listener);
  }

  snapshot(): WindowChange<K, V>[] {
    return this.fetchAll(-Infinity, Infinity);
  }

  restore(changes: Iterable<WindowChange<K, V>>): void {
    this.byStart.clear();
    this.starts.clear();
    this.byKey = undefined;
    this.count = 0;
    this.forgetRecent();
    for (const change of changes) this.write(change.key, change.start, change.value);
  }

  private keysOf(start: number): Map<unknown, Entry<K, V>> | undefined {
    if (start !== this.recentStart) {
      this.recentStart = start;
      this.recentKeys = this.byStart.get(start);
    }
    return this.recentKeys;
  }

  private forgetRecent(): void {
    this.recentStart = NaN;
    this.recentKeys = undefined;
    this.recentEntry = undefined;
    this.recentKey = undefined;
  }

  private keyIndex(): Map<unknown, Entry<K, V>[]> {
    if (this.byKey === undefined) {
      this.byKey = new Map();
      for (const start of this.starts.range(-Infinity, Infinity)) {
        for (const [id, entry] of this.byStart.get(start)!) {
          const ofKey = this.byKey.get(id);
          if (ofKey === undefined) this.byKey.set(id, [entry]);
          else ofKey.push(entry);
        }
      }
    }
    return this.byKey;
  }

  private write(key: K, start: number, value: V | null): void {
    const recent = this.recentEntry;
    // The same key object as the last get (a Buffer key is a new object per record, but the caller
    // reading and then writing a window passes the same one): no need to encode it again.
    if (recent !== undefined && value !== null && recent.start === start && this.recentKey === key) {
      recent.value = value;
      return;
    }
    const id = storeKey(key);
    let keys = this.keysOf(start);
    const entry = keys?.get(id);
    if (entry !== undefined) {
      if (value !== null) entry.value = value;
      else this.remove(id, entry, keys!);
      return;
    }
    if (value === null) return;
    if (keys === undefined) {
      keys = new Map();
      this.byStart.set(start, keys);
      this.starts.add(start);
      this.recentKeys = keys;
    }
    const created: Entry<K, V> = { key, start, value };
    keys.set(id, created);
    this.recentEntry = created;
    this.recentKey = key;
    const ofKey = this.byKey?.get(id);
    if (ofKey !== undefined) ofKey.splice(firstAtOrAfter(ofKey, start), 0, created);
    else this.byKey?.set(id, [created]);
    this.count++;
  }

  private remove(id: unknown, entry: Entry<K, V>, keys: Map<unknown, Entry<K, V>>): void {
    keys.delete(id);
    if (keys.size === 0) {
      this.byStart.delete(entry.start);
      this.starts.delete(entry.start);
    }
    this.forgetRecent();
    if (this.byKey !== undefined) {
      const ofKey = this.byKey.get(id)!;
      if (ofKey.length === 1) this.byKey.delete(id);
      else ofKey.splice(firstAtOrAfter(ofKey, entry.start), 1);
    }
    this.count--;
  }
}

/** Index of the first entry whose start is >= `time` in a start-sorted array. */
function firstAtOrAfter(entries: readonly { readonly start: number }[], time: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].start < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function copy<K, V>(entry: Entry<K, V>): WindowStoreEntry<K, V> {
  return { key: entry.key, start: entry.start, value: entry.value };
}
