/**
 * Backpressure from sinks to sources. A sink whose producer holds more unacknowledged bytes than
 * it may buffer (`bufferMemory`) marks itself full; while any sink of a binding (one runtime on
 * the main thread, or one stream task) is full, that binding's sources stop pulling batches from
 * their consumers, whose prefetch is bounded too. So a slow sink slows reading from the log and
 * memory stays bounded, instead of records piling up in the producer's waiting sends.
 *
 * RxJS pushes; it has no demand signal. Stages that buffer by themselves (`delay`, a `mergeMap`
 * over slow promises) are outside this loop: only what reaches a sink is counted.
 */
export class FlowControl {
  private readonly full = new Set<object>();
  private waiters: Array<() => void> = [];

  /** True while no sink is full: sources may pull. */
  get open(): boolean {
    return this.full.size === 0;
  }

  /** Marks `sink` full or not; the last one to drain wakes the waiting sources. */
  setFull(sink: object, full: boolean): void {
    if (full) {
      this.full.add(sink);
      return;
    }
    if (!this.full.delete(sink) || this.full.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once no sink is full. */
  whenOpen(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
