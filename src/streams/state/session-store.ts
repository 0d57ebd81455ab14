/**
 * Session stores: per-(key, session) values, the state of session window aggregations (Kafka
 * Streams' SessionStore). A session is named by its key, start and end (first and last event
 * time); merging sessions deletes the old ones and puts the merged one. `put(..., null)` deletes.
 */
import { ChangeListeners, type ChangeListener, type StateStore } from './changes.js';
import { SortedTimes } from './sorted-times.js';
import { storeKey } from './store-key.js';

export interface SessionChange<K, V> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
  /** The new value; null when the session was deleted. */
  readonly value: V | null;
}

export interface SessionStoreEntry<K, V> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
  readonly value: V;
}

export interface SessionStore<K, V> extends StateStore<SessionChange<K, V>> {
  readonly kind: 'session';
  fetchSession(key: K, start: number, end: number): V | undefined;
  /** Sets the value of the key's session [start, end]; null deletes it. */
  put(key: K, start: number, end: number, value: V | null): void;
  /** The key's sessions with end >= earliestSessionEnd and start <= latestSessionStart, by ascending start. */
  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): SessionStoreEntry<K, V>[];
  /** Every key's sessions with end in [earliestEnd, latestEnd], by ascending end. */
  fetchEndingBetween(earliestEnd: number, latestEnd: number): SessionStoreEntry<K, V>[];
  /** The earliest session end of any key, or undefined. */
  earliestEnd(): number | undefined;
}

interface Entry<K, V> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
  value: V;
}

export class InMemorySessionStore<K, V> implements SessionStore<K, V> {
  readonly kind = 'session';
  /** Each key's sessions, sorted by start then end. */
  private readonly byKey = new Map<unknown, Entry<K, V>[]>();
  private readonly byEnd = new Map<number, Set<Entry<K, V>>>();
  private readonly ends = new SortedTimes();
  private readonly listeners = new ChangeListeners<SessionChange<K, V>>();
  private count = 0;

  constructor(readonly name = 'session-store') {}

  get size(): number {
    return this.count;
  }

  fetchSession(key: K, start: number, end: number): V | undefined {
    return this.byKey.get(storeKey(key))?.find((e) => e.start === start && e.end === end)?.value;
  }

  put(key: K, start: number, end: number, value: V | null): void {
    this.write(key, start, end, value);
    if (this.listeners.active) this.listeners.emit({ key, start, end, value });
  }

  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): SessionStoreEntry<K, V>[] {
    const out: SessionStoreEntry<K, V>[] = [];
    for (const entry of this.byKey.get(storeKey(key)) ?? []) {
      if (entry.start > latestSessionStart) break;
      if (entry.end >= earliestSessionEnd) out.push(copy(entry));
    }
    return out;
  }

  fetchEndingBetween(earliestEnd: number, latestEnd: number): SessionStoreEntry<K, V>[] {
    const out: SessionStoreEntry<K, V>[] = [];
    for (const end of this.ends.range(earliestEnd, latestEnd)) {
      for (const entry of this.byEnd.get(end)!) out.push(copy(entry));
    }
    return out;
  }

  earliestEnd(): number | undefined {
    return this.ends.first();
  }

  onChange(listener: ChangeListener<SessionChange<K, V>>): () => void {
    return this.listeners.add(listener);
  }

  snapshot(): SessionChange<K, V>[] {
    return this.fetchEndingBetween(-Infinity, Infinity);
  }

  restore(changes: Iterable<SessionChange<K, V>>): void {
    this.byKey.clear();
    this.byEnd.clear();
    this.ends.clear();
    this.count = 0;
    for (const change of changes) this.write(change.key, change.start, change.end, change.value);
  }

  private write(key: K, start: number, end: number, value: V | null): void {
    const id = storeKey(key);
    let sessions = this.byKey.get(id);
    const index = sessions === undefined ? 0 : position(sessions, start, end);
    const existing = sessions?.[index];
    if (existing !== undefined && existing.start === start && existing.end === end) {
      if (value !== null) {
        existing.value = value;
        return;
      }
      sessions!.splice(index, 1);
      if (sessions!.length === 0) this.byKey.delete(id);
      const ending = this.byEnd.get(end)!;
      ending.delete(existing);
      if (ending.size === 0) {
        this.byEnd.delete(end);
        this.ends.delete(end);
      }
      this.count--;
      return;
    }
    if (value === null) return;
    const created: Entry<K, V> = { key, start, end, value };
    if (sessions === undefined) {
      sessions = [];
      this.byKey.set(id, sessions);
    }
    sessions.splice(index, 0, created);
    let ending = this.byEnd.get(end);
    if (ending === undefined) {
      ending = new Set();
      this.byEnd.set(end, ending);
      this.ends.add(end);
    }
    ending.add(created);
    this.count++;
  }
}

/** Index of the first session not ordered before (start, end). */
function position(sessions: readonly Entry<unknown, unknown>[], start: number, end: number): number {
  let lo = 0;
  let hi = sessions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const s = sessions[mid];
    if (s.start < start || (s.start === start && s.end < end)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function copy<K, V>(entry: Entry<K, V>): SessionStoreEntry<K, V> {
  return { key: entry.key, start: entry.start, end: entry.end, value: entry.value };
}
