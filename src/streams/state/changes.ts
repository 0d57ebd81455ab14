/**
 * What makes a store restorable: every write is observable as a key/value change (a deletion is
 * a change with value null, a tombstone in a compacted changelog topic), and replaying the
 * changes in order rebuilds the store. `snapshot()` is the shortest such list, one change per entry.
 */

export type ChangeListener<C> = (change: C) => void;

/** What every state store has besides its own reads and writes. */
export interface StateStore<C> {
  /** Names the store in errors, and (later) its changelog topic. */
  readonly name: string;
  /** Number of entries. */
  readonly size: number;
  /** Calls `listener` after every change made through `put` (not through `restore`); returns the unsubscribe. */
  onChange(listener: ChangeListener<C>): () => void;
  /** The changes that rebuild the current contents, in the store's order. */
  snapshot(): C[];
  /** Replaces the contents by replaying `changes` (from `snapshot()` or a changelog); no listener is called. */
  restore(changes: Iterable<C>): void;
}

/** A store's listeners; `active` lets writes skip building a change object nobody reads. */
export class ChangeListeners<C> {
  private listeners: ChangeListener<C>[] = [];

  get active(): boolean {
    return this.listeners.length > 0;
  }

  add(listener: ChangeListener<C>): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(change: C): void {
    for (const listener of this.listeners) listener(change);
  }
}
