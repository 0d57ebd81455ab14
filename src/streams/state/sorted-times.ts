/**
 * A sorted set of integer times (window starts, session ends): the stores' index for "everything
 * before time t" in time order. Times mostly arrive near the end and leave from the front, so a
 * plain array with binary search stays cheap.
 */
export class SortedTimes {
  private readonly times: number[] = [];

  get size(): number {
    return this.times.length;
  }

  /** Index of the first time >= `time`. */
  private lowerBound(time: number): number {
    const times = this.times;
    let lo = 0;
    let hi = times.length;
    // Most inserts and lookups are at the end: check it before searching.
    if (hi > 0 && times[hi - 1] < time) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid] < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(time: number): void {
    const index = this.lowerBound(time);
    if (this.times[index] !== time) this.times.splice(index, 0, time);
  }

  delete(time: number): void {
    const index = this.lowerBound(time);
    if (this.times[index] === time) this.times.splice(index, 1);
  }

  /** The smallest time >= `from`, or undefined. */
  first(from = -Infinity): number | undefined {
    return this.times[this.lowerBound(from)];
  }

  /** The times in [from, to], ascending, as a new array (callers may change the set while using it). */
  range(from: number, to: number): number[] {
    const start = this.lowerBound(from);
    let end = start;
    while (end < this.times.length && this.times[end] <= to) end++;
    return this.times.slice(start, end);
  }

  clear(): void {
    this.times.length = 0;
  }
}
