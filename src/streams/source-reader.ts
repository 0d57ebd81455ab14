/**
 * The loop behind a subscribed `source()`: pulls the consumer's batches (one fetch response of
 * one partition at a time), emits their records one by one, and remembers per partition the
 * offset after the last record emitted, which is what a task's commit covers.
 *
 * Partitions are merged by timestamp, as Kafka Streams' PartitionGroup does: the next record
 * emitted is the earliest at the head of the partitions' buffered batches, and a partition known
 * to have more records (a bounded source's partition short of its end, or one whose last batch
 * stopped below the high watermark) is waited for, up to `MERGE_WAIT_MS`, before the others run
 * ahead of it. Without this a source would emit partitions a whole batch at a time each, and an
 * event-time window downstream would see the other partitions' records as late.
 *
 * A batch is pulled only while the binding's sinks have room (see flow-control.ts), so a slow sink
 * stops the reading; the consumer's own prefetch is bounded by its `maxBytes`, and the merge holds
 * at most `MAX_QUEUED_PER_PARTITION` batches per partition more.
 *
 * A bounded source (`to: 'end'`) knows the end offset of each of its partitions as of its
 * subscription and ends once each position has reached it. Positions move with batches, and also
 * past offsets that hold no record to deliver (compacted away, control records), which only the
 * consumer's positions show: those are checked every `END_CHECK_MS`.
 *
 * An unbounded source can also tell when it has caught up, which a table waits for before a join
 * lets stream records through (see join/table.ts): given the end offsets seen at its start, it
 * reports once every partition has reached them, found as a bounded source finds its end.
 *
 * The reader of a repartition topic (see repartition.ts) merges as an unbounded source does, and
 * ends once it has read every writer's end marker in each of its partitions (see end-markers.ts);
 * markers advance its positions but are not emitted.
 */
import type { Consumer, ConsumerBatch } from '../client/consumer.js';
import type { OffsetCommitEntry } from '../runtime/messages.js';
import type { RunningSource } from './context.js';
import type { EndMarkerState, EndMarkers } from './end-markers.js';
import type { FlowControl } from './flow-control.js';

type Record<K, V> = ConsumerBatch<K, V>['messages'][number];

/** How often a bounded source compares the consumer's positions with its end offsets. */
const END_CHECK_MS = 50;

/**
 * The longest a source emits without letting the event loop run. Batches already fetched come as
 * resolved promises, and awaiting those runs only microtasks: without a pause now and then, a
 * source with data ready would hold off timers and port messages (its group's heartbeats and
 * rebalances, other tasks' requests) until its input ran dry.
 */
const YIELD_EVERY_MS = 10;

/**
 * How long the merge of an unbounded source waits for a partition known to have more records
 * before the others run ahead of it (Kafka Streams' max.task.idle.ms). A bounded source waits as
 * long as it takes: it reads every partition to its end anyway, and its results should not depend
 * on which fetch came back first.
 */
const MERGE_WAIT_MS = 100;

/** Batches queued per partition by the merge; a partition with this many is paused in the consumer until they drain, so waiting for another costs no memory. */
const MAX_QUEUED_PER_PARTITION = 2;

export type ReadOutcome = 'end' | 'halted';

/** What an unbounded source catches up to, and whom it tells. */
export interface CatchUp {
  /** Each partition's end offset when the source started. */
  readonly ends: ReadonlyMap<number, number>;
  /** Called once, when every partition has reached its end. */
  reached(): void;
}

/** One batch's records and how far the merge has emitted them. */
interface Queued<K, V> {
  readonly records: readonly Record<K, V>[];
  next: number;
}

/** A partition's queued batches, oldest first, and the offset after its last record emitted since positions were last recorded (-1: none). */
interface PartitionQueue<K, V> {
  readonly partition: number;
  readonly batches: Queued<K, V>[];
  emitted: number;
}

/** The timestamp of the next record of a partition with batches queued. */
function headTime(queue: PartitionQueue<unknown, unknown>): number {
  const head = queue.batches[0];
  return head.records[head.next].timestamp;
}

/** The merge checks the clock (to let the event loop run) once per this many runs of records. */
const RUNS_PER_CLOCK_CHECK = 64;

const TIMED_OUT: unique symbol = Symbol('timed out');

export class SourceReader<K, V> implements RunningSource {
  private readonly positionByPartition = new Map<number, number>();
  /** Batches pulled and not yet wholly emitted, per partition, oldest first. */
  private readonly queues = new Map<number, PartitionQueue<K, V>>();
  /** The values of `queues`, for the merge's scan. */
  private active: PartitionQueue<K, V>[] = [];
  private queuedBatches = 0;
  /** A bounded source's partitions short of their end; a repartition reader's partitions short of some writer's end marker. */
  private readonly unfinished = new Set<number>();
  /** An unbounded source's partitions whose newest batch stopped below the high watermark. */
  private readonly lagging = new Set<number>();
  /** Partitions an unbounded source's merge waited for in vain (paused, or not assigned yet): not waited for again until a batch of theirs comes. */
  private readonly stalled = new Set<number>();
  /** Partitions this reader paused because their queues are full. */
  private readonly full = new Set<number>();
  /** A catching-up source's partitions short of their end at its start. */
  private readonly behind = new Set<number>();
  /** Partitions the end check found at their end with nothing queued, and the position emitted then: found so twice, they have reached it. */
  private readonly seemFinished = new Map<number, number>();
  private endTimer: NodeJS.Timeout | null = null;
  private halted = false;
  /** Wakes the loop from a wait: halted, or the end was found by the timer. */
  private wake: (() => void) | null = null;
  private batches: AsyncIterableIterator<ConsumerBatch<K, V>> | null = null;
  private yieldedAt = performance.now();

  constructor(
    readonly topic: string,
    private readonly consumer: Consumer<K, V>,
    private readonly emit: (record: Record<K, V>) => void,
    private readonly flow: FlowControl,
    /** The partitions it reads; an unbounded source waits for each (up to MERGE_WAIT_MS) until it knows how far behind they are. */
    partitions: readonly number[],
    /** End offset of each partition a bounded source reads; null for an unbounded source. */
    private readonly ends: ReadonlyMap<number, number> | null,
    /** The end markers a repartition reader has read; null for other sources. */
    private readonly markers: EndMarkers | null,
    /** False for a group member whose task commits. */
    private readonly autoCommit: boolean,
    /** For an unbounded source whose catching up is awaited; null otherwise. */
    private readonly catchUp: CatchUp | null = null,
  ) {
    if (ends !== null) for (const partition of ends.keys()) this.unfinished.add(partition);
    else for (const partition of partitions) this.lagging.add(partition);
    if (markers !== null) for (const partition of partitions) if (!markers.finished(partition)) this.unfinished.add(partition);
    if (ends === null && catchUp !== null) {
      for (const partition of catchUp.ends.keys()) this.behind.add(partition);
      if (this.behind.size === 0) catchUp.reached();
    }
  }

  /** Reads until halted or, bounded, until every partition reached its end. Rejects with the consumer's failure. */
  async read(): Promise<ReadOutcome> {
    const batches = this.consumer.batches({ autoCommit: this.autoCommit });
    this.batches = batches;
    if (this.ends !== null || this.behind.size > 0) this.endTimer = setInterval(() => void this.checkEnd(), END_CHECK_MS);
    let pending: Promise<IteratorResult<ConsumerBatch<K, V>, undefined>> | null = null;
    try {
      for (;;) {
        if (performance.now() - this.yieldedAt >= YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          this.yieldedAt = performance.now();
        }
        if (this.halted) return 'halted';
        if ((this.ends !== null || this.markers !== null) && this.unfinished.size === 0 && this.queuedBatches === 0) {
          this.park(pending ?? batches.next());
          return 'end';
        }
        if (!this.flow.open) {
          await this.waitFor(this.flow.whenOpen());
          continue;
        }
        if (this.shouldPull()) {
          pending ??= batches.next();
          const result = await this.waitFor(pending, this.queuedBatches > 0 && this.ends === null ? MERGE_WAIT_MS : undefined);
          if (result === TIMED_OUT) for (const partition of this.waitedFor()) this.stalled.add(partition);
          if (result === undefined || result === TIMED_OUT) continue;
          pending = null;
          if (result.done) return this.halted ? 'halted' : 'end';
          this.enqueue(result.value);
          continue;
        }
        this.emitInOrder();
      }
    } finally {
      this.stopEndChecks();
    }
  }

  private stopEndChecks(): void {
    if (this.endTimer !== null) clearInterval(this.endTimer);
    this.endTimer = null;
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

  endMarkers(): EndMarkerState | null {
    return this.markers?.state() ?? null;
  }

  forget(partitions: readonly number[]): void {
    for (const partition of partitions) {
      this.positionByPartition.delete(partition);
      this.queuedBatches -= this.queues.get(partition)?.batches.length ?? 0;
      this.queues.delete(partition);
      this.active = this.active.filter((queue) => queue.partition !== partition);
      this.lagging.delete(partition);
      this.stalled.delete(partition);
      // The consumer keeps a pause across assignments: the partition must not come back paused.
      if (this.full.delete(partition)) this.consumer.resume([{ topic: this.topic, partitions: [partition] }]);
    }
  }

  /**
   * At its end, a source in a task stays its group's member until the task closes (its commits go
   * through it), but reads nothing more: its topic is paused, and the pull `next` lets go of the
   * last batch delivered, which would otherwise hold up a rebalance (as when another source of the
   * task joins later) until the task closes. The pull waits until `release()`.
   */
  private park(next: Promise<unknown>): void {
    this.consumer.pause([{ topic: this.topic }]);
    next.catch(() => undefined);
  }

  /** Whether the merge must have the partition's next records before emitting past them: it has more to read, nothing queued, and has not stalled. */
  private isWaitedFor(partition: number): boolean {
    return (this.ends === null ? this.lagging : this.unfinished).has(partition) && !this.queues.has(partition) && !this.stalled.has(partition);
  }

  private waitedFor(): number[] {
    return [...(this.ends === null ? this.lagging : this.unfinished)].filter((partition) => this.isWaitedFor(partition));
  }

  /** Pull when nothing is queued, or when a partition is waited for. */
  private shouldPull(): boolean {
    if (this.queuedBatches === 0) return true;
    for (const partition of this.ends === null ? this.lagging : this.unfinished) if (this.isWaitedFor(partition)) return true;
    return false;
  }

  private enqueue(batch: ConsumerBatch<K, V>): void {
    const { partition, messages } = batch;
    if (this.ends === null) {
      if (messages[messages.length - 1].offset + 1 < batch.highWatermark) this.lagging.add(partition);
      else this.lagging.delete(partition);
    }
    let queue = this.queues.get(partition);
    if (queue === undefined) {
      queue = { partition, batches: [], emitted: -1 };
      this.queues.set(partition, queue);
      this.active.push(queue);
    }
    queue.batches.push({ records: messages, next: 0 });
    this.queuedBatches++;
    this.stalled.delete(partition);
    if (queue.batches.length >= MAX_QUEUED_PER_PARTITION && !this.full.has(partition)) {
      this.full.add(partition);
      this.consumer.pause([{ topic: this.topic, partitions: [partition] }]);
    }
  }

  /**
   * Emits queued records in timestamp order until a partition known to have more runs out of
   * queued records, the sinks fill up, or it is time to let the event loop run. Each run emits
   * the records of the partition with the earliest head up to the next head of another.
   */
  private emitInOrder(): void {
    const active = this.active;
    try {
      for (let runs = 1; active.length > 0; runs++) {
        let first = active[0];
        let firstTime = headTime(first);
        let secondTime = Infinity;
        for (let i = 1; i < active.length; i++) {
          const time = headTime(active[i]);
          if (time < firstTime) {
            secondTime = firstTime;
            firstTime = time;
            first = active[i];
          } else if (time < secondTime) {
            secondTime = time;
          }
        }
        const batch = first.batches[0];
        const { records } = batch;
        let next = batch.next;
        // A subscriber may unsubscribe while records are emitted (take(n)), which halts the reader.
        if (this.markers === null) {
          while (next < records.length && records[next].timestamp <= secondTime && !this.halted) this.emit(records[next++]);
        } else {
          for (; next < records.length && records[next].timestamp <= secondTime && !this.halted; next++) {
            if (!this.markers.take(first.partition, records[next].headers)) this.emit(records[next]);
          }
        }
        if (next > batch.next) first.emitted = records[next - 1].offset + 1;
        batch.next = next;
        if (next === records.length) {
          first.batches.shift();
          this.queuedBatches--;
          if (this.full.delete(first.partition)) this.consumer.resume([{ topic: this.topic, partitions: [first.partition] }]);
          if (first.batches.length === 0) {
            this.queues.delete(first.partition);
            active.splice(active.indexOf(first), 1);
            this.recordPosition(first);
            if (this.isWaitedFor(first.partition)) return;
          }
        }
        if (this.halted || !this.flow.open) return;
        if (runs % RUNS_PER_CLOCK_CHECK === 0 && performance.now() - this.yieldedAt >= YIELD_EVERY_MS) return;
      }
    } finally {
      for (const queue of active) this.recordPosition(queue);
    }
  }

  /** Records the position a partition's emitted records reached; a bounded source's partition at its end is finished. */
  private recordPosition(queue: PartitionQueue<K, V>): void {
    if (queue.emitted < 0) return;
    this.advance(queue.partition, queue.emitted);
    queue.emitted = -1;
  }

  private advance(partition: number, position: number): void {
    this.positionByPartition.set(partition, position);
    if (this.ends !== null ? position >= this.ends.get(partition)! : this.markers?.finished(partition)) this.unfinished.delete(partition);
    if (this.behind.has(partition) && position >= this.catchUp!.ends.get(partition)!) this.caughtUp(partition);
  }

  private caughtUp(partition: number): void {
    this.behind.delete(partition);
    if (this.behind.size > 0) return;
    this.stopEndChecks();
    this.catchUp!.reached();
  }

  /** The value of `promise`; undefined if the loop was woken first, TIMED_OUT after `timeoutMs`. */
  private waitFor<T>(promise: Promise<T>, timeoutMs?: number): Promise<T | undefined | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    return new Promise<T | undefined | typeof TIMED_OUT>((resolve, reject) => {
      this.wake = () => resolve(undefined);
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
      promise.then(resolve, reject);
    }).finally(() => {
      this.wake = null;
      clearTimeout(timer);
    });
  }

  /**
   * The timer's check, with the consumer's positions, which also move past offsets without
   * records. A partition whose consumer position is at its end with nothing queued may still have
   * its last batch on the way to the queue (handed over, not yet taken): only a second check that
   * finds it so, with nothing emitted in between, finishes it (bounded) or finds it caught up.
   */
  private async checkEnd(): Promise<void> {
    const waiting = this.ends !== null ? this.unfinished : this.behind;
    const ends = this.ends ?? this.catchUp?.ends;
    if (this.halted || waiting.size === 0 || ends === undefined) return;
    let lags;
    try {
      lags = await this.consumer.lag();
    } catch {
      return; // Closing; the loop finds out by itself.
    }
    let finished = false;
    for (const lag of lags) {
      const { partition, position } = lag;
      if (!waiting.has(partition)) continue;
      const emitted = this.positionByPartition.get(partition) ?? -1;
      if (position === null || position < ends.get(partition)! || this.queues.has(partition)) {
        this.seemFinished.delete(partition);
      } else if (this.seemFinished.get(partition) !== emitted) {
        this.seemFinished.set(partition, emitted);
      } else if (this.ends === null) {
        this.caughtUp(partition);
      } else {
        this.unfinished.delete(partition);
        finished = true;
      }
    }
    if (finished) this.wake?.();
  }
}
