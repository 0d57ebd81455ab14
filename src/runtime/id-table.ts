/**
 * A table of entries keyed by integer ids, for registries whose entries come and go at the rate
 * of requests: the calls a slot or a thread client has made and not yet seen answered.
 *
 * Not a `Map`, because of how V8 grows and shrinks one. A Map's entries live in a hash table that
 * V8 replaces with a fresh one whenever deletions and insertions have filled it, and the replaced
 * table keeps a pointer to its successor and the entries it held then, for iterators still walking
 * it. Once one replaced table has been promoted to the old generation and died there, every
 * scavenge (which treats old-to-young pointers as roots until a full collection) keeps its
 * successor alive through it; the successor is promoted in turn, and so on down the chain, each
 * holding the calls that were waiting when it was replaced: their answers, and through them the
 * fetched bytes. So every fetch response's ArrayBuffer outlived its use until the next full
 * collection, which V8 then ran every ~60 MB of fetched bytes. A consuming thread fell into this
 * state in about two runs of three, at half the speed (4.5-5.3M records/s against 8-9M, with
 * 8-13 full collections per 4M records against none). A plain object's integer-keyed elements
 * have no such links: a replaced backing store is garbage at once.
 *
 * Ids are non-negative integers. `values()` lists entries in the order of their ids for ids below
 * 2^32 - 1 (array indices), and after those, larger ids in the order they were added: for ids
 * handed out in sequence, the order the calls were made either way.
 */
export class IdTable<T> {
  private entries: Record<number, T> = Object.create(null) as Record<number, T>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    return this.entries[id];
  }

  set(id: number, value: T): void {
    if (this.entries[id] === undefined) this.count++;
    this.entries[id] = value;
  }

  /** Removes the entry; false if there was none. */
  delete(id: number): boolean {
    if (this.entries[id] === undefined) return false;
    delete this.entries[id];
    this.count--;
    return true;
  }

  /** The entries in id order (see the class comment); a copy, so the table may change while it is walked. */
  values(): T[] {
    return Object.values(this.entries);
  }

  clear(): void {
    this.entries = Object.create(null) as Record<number, T>;
    this.count = 0;
  }
}
