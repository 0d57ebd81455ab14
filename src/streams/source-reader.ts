/**
 * The loop behind a subscribed `source()`: pulls the consumer's batches (one fetch response of
 * one partition at a time), emits their records one by one, and remembers per partition the
 * offset after the last record emitted, which is what a task's commit covers.
 *
 * A batch is pulled only while the binding's sinks have room (see flow-control.ts), so a slow sink
 * stops the reading; the consumer's own prefetch is bounded by its `maxBytes`.
 *
 * A bounded source (`to: 'end'`) knows the end offset of each of its partitions as of its
 * subscription and ends once each position has reached it. Positions move with batches, and also
 * past offsets that hold no record to deliver (compacted away, control records), which only the
 * consumer's positions show: those are checked every `END_CHECK_MS` while the source waits.
 */
import type { Consumer, ConsumerBatch } from '../client/consumer.js';
import type { OffsetCommitEntry } from '../runtime/messages.js';
import type { RunningSource } from './context.js';
import type { FlowControl } from './flow-control.js';

/** How often a bounded source compares the consumer's positions with its end offsets while waiting. */
const END_CHECK_MS = 50;

/**
 * The longest a source emits without letting the event loop run. Batches already fetched come as
 * resolved promises, and awaiting those runs only microtasks: without a pause now and then, a
 * source with data ready would hold off timers and port messages (its group's heartbeats and
 * rebalances, other tasks' requests) until its input ran dry.
 */
const YIELD_EVERY_MS = 10;

export type ReadOutcome = 'end' | 'halted';

export class SourceReader<K, V> implements RunningSource {
  private readonly positionByPartition = new Map<number, number>();
  private halted = false;
  /** Wakes the loop from a wait: halted, or the end was found by the timer. */
  private wake: (() => void) | null = null;
  private endFound = false;
  private batches: AsyncIterableIterator<ConsumerBatch<K, V>> | null = null;

  constructor(
    readonly topic: string,
    private readonly consumer: Consumer<K, V>,
    private readonly emit: (record: ConsumerBatch<K, V>['messages'][number]) => void,
    private readonly flow: FlowControl,
    /** End offset of each partition a bounded source reads; null for an unbounded source. */
    private readonly ends: ReadonlyMap<number, number> | null,
    /** False for a group member whose task commits. */
    private readonly autoCommit: boolean,
  ) {}

  /** Reads until halted or, bounded, until every partition reached its end. Rejects with the consumer's failure. */
  async read(): Promise<ReadOutcome> {
    const batches = this.consumer.batches({ autoCommit: this.autoCommit });
    this.batches = batches;
    const timer = this.ends === null ? null : setInterval(() => void this.checkEnd(), END_CHECK_MS);
    let pending: Promise<IteratorResult<ConsumerBatch<K, V>, undefined>> | null = null;
    let yielded = performance.now();
    try {
      for (;;) {
        if (performance.now() - yielded >= YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          yielded = performance.now();
        }
        if (this.halted) return 'halted';
        if (this.endFound || this.reachedEnd()) return 'end';
        if (!this.flow.open) {
          await this.waitFor(this.flow.whenOpen());
          continue;
        }
        pending ??= batches.next();
        const result = await this.waitFor(pending);
        if (result === undefined) continue;
        pending = null;
        if (result.done) return this.halted ? 'halted' : 'end';
        if (this.halted) return 'halted';
        this.deliver(result.value);
      }
    } finally {
      if (timer !== null) clearInterval(timer);
    }
  }

  halt(): void {
    this.halted = true;
    this.wake?.();
  }

  /**
   * Ends the consumer's iteration. Until then the last batch pulled stays claimed (as the batch
   * iterator holds a batch until its next call), and a rebalance waits for it: call this once the
   * source is done with its consumer, before disconnecting it.
   */
  async release(): Promise<void> {
    this.halt();
    await this.batches?.return?.();
  }

  positions(): OffsetCommitEntry[] {
    return [...this.positionByPartition].map(([partition, offset]) => ({ topic: this.topic, partition, offset }));
  }

  forget(partitions: readonly number[]): void {
    for (const partition of partitions) this.positionByPartition.delete(partition);
  }

  private deliver(batch: ConsumerBatch<K, V>): void {
    const records = batch.messages;
    let emitted = 0;
    // A subscriber may unsubscribe while a batch is emitted (take(n)), which halts the reader.
    while (emitted < records.length && !this.halted) this.emit(records[emitted++]);
    if (emitted > 0) this.positionByPartition.set(batch.partition, records[emitted - 1].offset + 1);
  }

  /** The value of `promise`, or undefined if the loop was woken first. */
  private waitFor<T>(promise: Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      this.wake = () => resolve(undefined);
      promise.then(resolve, reject);
    }).finally(() => {
      this.wake = null;
    });
  }

  private reachedEnd(): boolean {
    if (this.ends === null) return false;
    for (const [partition, end] of this.ends) {
      if ((this.positionByPartition.get(partition) ?? -1) < end) return false;
    }
    return true;
  }

  /** The timer's check, with the consumer's positions, which also move past offsets without records. */
  private async checkEnd(): Promise<void> {
    if (this.endFound || this.halted) return;
    let lags;
    try {
      lags = await this.consumer.lag();
    } catch {
      return; // Closing; the loop finds out by itself.
    }
    const reached = new Map(lags.map((lag) => [lag.partition, lag.position ?? -1]));
    for (const [partition, end] of this.ends!) {
      const position = Math.max(reached.get(partition) ?? -1, this.positionByPartition.get(partition) ?? -1);
      if (position < end) return;
    }
    this.endFound = true;
    this.wake?.();
  }
}
