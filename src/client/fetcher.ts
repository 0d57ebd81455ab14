/**
 * The consumer's fetch engine: which partitions it reads (the assignment), where each one stands
 * (its position), and the fetches that keep a bounded amount of data ready for delivery.
 *
 * ## Assignment
 *
 * `assign()` replaces the set of partitions read. The consumer fills it from `subscribe` (every
 * partition of the topics, or in a group, the partitions the group assigns) or `assign` (manual).
 * A partition that stays assigned keeps its position and buffers.
 *
 * ## Positions and epochs
 *
 * A partition's `position` is the next offset to hand to the application; it is authoritative.
 * Fetched bytes are only a cache of what lies after it: a seek, a pause, a reset or a failed
 * handler drops them and bumps the partition's `epoch`, and anything in flight for an older epoch
 * (a fetch, a listOffsets, a delivery) is ignored when it comes back. So a seek never waits for a
 * long-poll at the log end to expire: the abandoned fetch stays pending at the partition while a
 * new one goes out.
 *
 * ## Memory bound
 *
 * Per partition, at most one current fetch is in flight and at most two responses are held: the
 * one being delivered and one prefetched behind it. Every byte is counted from the moment a fetch
 * asks for it (its `maxBytes` is reserved) until the application has been handed the records of
 * the batch holding it (`release`). A fetch goes out only when its request fits both budgets:
 * `maxBytesPerPartition` for the partition and the consumer's budget (`budgetBytes`), so
 * `bufferedBytes + reservedBytes` stays within min(budget, partitions × maxBytesPerPartition).
 * The consumer's budget is `maxBytes`, except when every assigned partition lives on the
 * consumer's own thread (a thread task's consumer, a stream task's source): then it is
 * min(maxBytes, maxBytesPerPartition). Such a fetch is answered within a turn of the event loop,
 * so reading further ahead hides no latency; it only makes fetched bytes wait longer for their
 * turn, out of the CPU's caches and, past two scavenges, promoted to the old generation with
 * their ArrayBuffer, which only a full collection then frees. With 32 partitions and the 10 MiB
 * of KafkaJS's default, a consuming thread ran 8-10 full collections per 4M records at
 * 4.6-5.0M records/s; with 1 MiB, none, at 8.1-8.2M.
 * The one excess is Kafka's own: a partition answers with at least one whole batch, so a batch
 * larger than what a fetch asked for comes back whole (see `fetchSize` for how much fetches ask
 * for). Partitions waiting for consumer-wide budget are served first come, first served,
 * and a paused partition drops its data, so that it holds none of the budget the others need.
 *
 * ## Failures
 *
 * OFFSET_OUT_OF_RANGE resets the partition per its policy (Kafka's auto.offset.reset); 'none'
 * fails the consumer. Retriable errors (PARTITION_UNAVAILABLE, REQUEST_TIMED_OUT...) back off per
 * the retry options and fail the consumer once retries run out; other errors fail it at once.
 * Failing stops the fetcher and calls `onFailure`.
 */
import { TributaryError } from '../errors.js';
import type { OffsetSpec } from '../runtime/messages.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import type { OffsetResetPolicy } from './consumer-options.js';
import { retryDelayMs, type RetryOptions } from './retry.js';

export interface FetcherSettings {
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
  readonly minBytes: number;
  readonly maxWaitTimeInMs: number;
  readonly retry: RetryOptions;
}

/** One entry of an assignment. */
export interface PartitionAssignment {
  readonly topic: string;
  readonly partition: number;
  /** Where to start: an offset, or 'earliest'/'latest'; left out, the position is kept if it had one, else found per `resetPolicy`. */
  readonly start?: number | 'earliest' | 'latest';
  /** Used when there is no position, and when the position falls outside the log. */
  readonly resetPolicy: OffsetResetPolicy;
}

/** Bytes of one fetch response and how far delivery has got through them. */
export interface FetchedData {
  readonly bytes: Buffer;
  /** Byte position of the first batch whose records have not all been handed over. */
  pos: number;
  /** Offset after the last batch of the response, where the partition continues. */
  readonly nextOffset: number;
  readonly highWatermark: number;
}

export class PartitionFetch {
  readonly key: string;
  /** The next offset to deliver; null until found from the reset policy. */
  position: number | null = null;
  /** Set by a seek to -2/-1 (Kafka's earliest/latest sentinels): found on the next fetch. */
  startAt: 'earliest' | 'latest' | null = null;
  epoch = 0;
  /** Counts moves of the position by anything but delivery (seek, reset): a delivery that sees it change must not advance the position. */
  moves = 0;
  paused = false;
  assigned = true;
  /** A delivery loop holds this partition; no other may deliver from it. */
  claimed = false;
  /** In the ready queue. */
  queued = false;
  /** In the queue for consumer-wide budget. */
  awaitingBudget = false;
  /** Resolved when no delivery loop holds this partition any more (see `Fetcher.whenReleased`). */
  onRelease: (() => void) | null = null;
  /** The last fetch reached the high watermark: the next one long-polls at the log end. */
  caughtUp = false;
  inFlight = false;
  reservedBytes = 0;
  current: FetchedData | null = null;
  next: FetchedData | null = null;
  /** Bytes of `current` and `next` not yet released. */
  heldBytes = 0;
  highWatermark: number | null = null;
  failures = 0;
  backoff: NodeJS.Timeout | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    public resetPolicy: OffsetResetPolicy,
  ) {
    this.key = partitionKey(topic, partition);
  }
}

/** What a delivery loop works on: one response of one partition, valid while the epoch holds. */
export interface Claim {
  readonly partition: PartitionFetch;
  readonly data: FetchedData;
  readonly epoch: number;
  readonly moves: number;
}

export interface FetcherMetrics {
  /** Fetched bytes not yet handed to the application. */
  readonly bufferedBytes: number;
  /** Bytes reserved by fetches in flight. */
  readonly reservedBytes: number;
  /** Fetches and offset lookups awaiting an answer (abandoned ones, after a seek, not counted). */
  readonly inFlightRequests: number;
  /** Fetch requests sent since the consumer was created. */
  readonly fetchRequests: number;
}

/** `fetchSize` answers: the partition's own budget is too full, or the consumer-wide one is. */
const PARTITION_FULL = 0;
const NO_BUDGET = -1;

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class Fetcher {
  private readonly partitions = new Map<string, PartitionFetch>();
  private readonly ready: PartitionFetch[] = [];
  private wake: (() => void) | null = null;
  private wakeSignal: Promise<void> | null = null;
  private active = false;
  /** Partitions waiting for consumer-wide budget, in the order they began to wait. */
  private readonly budgetQueue: PartitionFetch[] = [];
  private bufferedBytes = 0;
  private reservedBytes = 0;
  /** The consumer-wide budget (see the module comment), set by `assign`. */
  private budgetBytes: number;
  private inFlightRequests = 0;
  private fetchRequests = 0;

  constructor(
    private readonly client: PartitionClient,
    private readonly settings: FetcherSettings,
    private readonly onFailure: (error: unknown) => void,
  ) {
    this.budgetBytes = settings.maxBytes;
  }

  /** The assigned partitions, in assignment order. */
  get assignment(): IterableIterator<PartitionFetch> {
    return this.partitions.values();
  }

  get(topic: string, partition: number): PartitionFetch | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  metrics(): FetcherMetrics {
    return { bufferedBytes: this.bufferedBytes, reservedBytes: this.reservedBytes, inFlightRequests: this.inFlightRequests, fetchRequests: this.fetchRequests };
  }

  /** Replaces the assignment; partitions that stay keep their position and data. */
  assign(entries: readonly PartitionAssignment[]): void {
    const keep = new Set<string>();
    for (const entry of entries) {
      const key = partitionKey(entry.topic, entry.partition);
      keep.add(key);
      let state = this.partitions.get(key);
      if (state === undefined) {
        state = new PartitionFetch(entry.topic, entry.partition, entry.resetPolicy);
        this.partitions.set(key, state);
      }
      state.resetPolicy = entry.resetPolicy;
      if (entry.start !== undefined) this.seek(state, entry.start);
    }
    for (const [key, state] of this.partitions) {
      if (keep.has(key)) continue;
      this.abandon(state);
      state.assigned = false;
      this.partitions.delete(key);
    }
    const { maxBytes, maxBytesPerPartition } = this.settings;
    const allLocal = entries.length > 0 && entries.every((entry) => this.client.isLocal?.(entry.topic, entry.partition) === true);
    this.budgetBytes = allLocal ? Math.min(maxBytes, maxBytesPerPartition) : maxBytes;
    this.pump();
  }

  /** Starts fetching for delivery. */
  start(): void {
    this.active = true;
    this.pump();
  }

  /** Stops fetching and drops all fetched data; positions stay. Wakes any waiting delivery loop. */
  stop(): void {
    this.active = false;
    for (const state of this.partitions.values()) {
      this.abandon(state);
      state.awaitingBudget = false;
    }
    this.ready.length = 0;
    this.budgetQueue.length = 0;
    this.signal();
  }

  /** Moves the position; fetched data is dropped and refetched from there. */
  seek(state: PartitionFetch, target: number | 'earliest' | 'latest'): void {
    this.abandon(state);
    state.moves++;
    if (typeof target === 'number') {
      state.position = target;
      state.startAt = null;
    } else {
      state.startAt = target;
    }
    this.pump();
  }

  /** Pausing drops the partition's data, so that a paused partition holds none of the budget. */
  setPaused(state: PartitionFetch, paused: boolean): void {
    if (state.paused === paused) return;
    state.paused = paused;
    if (paused) this.abandon(state);
    else this.enqueue(state);
    this.pump();
  }

  /** The next partition with data to deliver, claimed for the caller; null if none is ready. */
  take(): Claim | null {
    while (this.ready.length > 0) {
      const state = this.ready.shift()!;
      state.queued = false;
      if (!this.isDeliverable(state)) continue;
      state.claimed = true;
      return { partition: state, data: state.current!, epoch: state.epoch, moves: state.moves };
    }
    return null;
  }

  /** Resolves when a partition may have become ready, or the fetcher stopped or failed. */
  waitForData(): Promise<void> {
    if (this.wakeSignal === null) {
      this.wakeSignal = new Promise((resolve) => {
        this.wake = resolve;
      });
    }
    return this.wakeSignal;
  }

  /** True while the claim still describes the partition's data: no seek, pause, unassignment or stop since. */
  isCurrent(claim: Claim): boolean {
    return claim.epoch === claim.partition.epoch;
  }

  /**
   * Records that delivery handed over everything before `position`. A pause or a stop does not
   * undo what the application already processed, so this holds after them; only a seek or reset
   * (which chose a new position) makes it ignored.
   */
  advance(claim: Claim, position: number): void {
    if (claim.moves === claim.partition.moves) claim.partition.position = position;
  }

  /** The records of the batches before byte `pos` have all been handed over: their bytes leave the budget. */
  release(claim: Claim, pos: number): void {
    if (!this.isCurrent(claim)) return;
    const freed = pos - claim.data.pos;
    if (freed <= 0) return;
    claim.data.pos = pos;
    claim.partition.heldBytes -= freed;
    this.bufferedBytes -= freed;
    this.budgetFreed(claim.partition);
  }

  /**
   * Ends a delivery from the claimed response. If the partition's position reached the response's
   * end, the prefetched response (if any) becomes current; otherwise the rest is dropped and
   * refetched from the position (a handler that resolved only part of a batch).
   */
  finish(claim: Claim): void {
    const state = claim.partition;
    this.unclaim(state);
    if (!this.isCurrent(claim)) {
      this.enqueue(state);
      return;
    }
    const data = claim.data;
    if (state.position !== data.nextOffset) {
      // Not a seek: the position is where delivery got to, so `moves` stays.
      this.abandon(state);
      this.pump();
      return;
    }
    const rest = data.bytes.length - data.pos;
    state.heldBytes -= rest;
    this.bufferedBytes -= rest;
    state.current = state.next;
    state.next = null;
    this.enqueue(state);
    this.budgetFreed(state);
  }

  /** Drops the claimed partition's data so that it is fetched again from its position after a backoff. */
  retryLater(claim: Claim, attempt: number): void {
    const state = claim.partition;
    this.unclaim(state);
    if (!this.isCurrent(claim)) {
      this.enqueue(state);
      return;
    }
    this.abandon(state);
    this.scheduleRetry(state, attempt);
    this.pump();
  }

  /**
   * Resolves once no delivery loop holds any of these partitions: a group member hands a revoked
   * partition over only after the handler working on it has returned, so that two members never
   * process one partition at once. Unassign the partitions first, so that nothing claims them again.
   * A stopped fetcher's claims are not waited for: its `run()` loops are awaited by whoever stopped
   * it, and an iterator ended by a stop never moves a position again, however long until its next call.
   */
  async whenReleased(states: readonly PartitionFetch[]): Promise<void> {
    if (!this.active) return;
    for (const state of states) {
      if (!state.claimed) continue;
      await new Promise<void>((resolve) => {
        const previous = state.onRelease;
        state.onRelease = () => {
          previous?.();
          resolve();
        };
      });
    }
  }

  private unclaim(state: PartitionFetch): void {
    state.claimed = false;
    const onRelease = state.onRelease;
    state.onRelease = null;
    onRelease?.();
  }

  private isDeliverable(state: PartitionFetch): boolean {
    return this.active && state.assigned && !state.paused && !state.claimed && state.current !== null;
  }

  private enqueue(state: PartitionFetch): void {
    if (state.queued || !this.isDeliverable(state)) return;
    state.queued = true;
    this.ready.push(state);
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    if (wake === null) return;
    this.wake = null;
    this.wakeSignal = null;
    wake();
  }

  /** Drops the partition's data and everything in flight for it: a new epoch. */
  private abandon(state: PartitionFetch): void {
    state.epoch++;
    if (state.inFlight) {
      state.inFlight = false;
      this.inFlightRequests--;
      this.reservedBytes -= state.reservedBytes;
      state.reservedBytes = 0;
    }
    this.bufferedBytes -= state.heldBytes;
    state.heldBytes = 0;
    state.current = null;
    state.next = null;
    state.caughtUp = false;
    if (state.backoff !== null) {
      clearTimeout(state.backoff);
      state.backoff = null;
    }
  }

  /** Budget came free: waiting partitions get it first, in the order they began to wait. */
  private budgetFreed(state: PartitionFetch): void {
    this.serveBudgetQueue();
    this.pumpOne(state);
  }

  private pump(): void {
    if (!this.active) return;
    this.serveBudgetQueue();
    for (const state of this.partitions.values()) this.pumpOne(state);
  }

  /** Sends the partition's next request if it needs one and the budgets allow; queues it for consumer-wide budget otherwise. */
  private pumpOne(state: PartitionFetch): void {
    if (state.awaitingBudget || !this.wantsRequest(state)) return;
    if (state.position === null || state.startAt !== null) {
      this.findPosition(state);
      return;
    }
    const size = this.fetchSize(state);
    // Its own budget full, it waits for its deliveries, which pump it again; it never queues for the consumer's.
    if (size === PARTITION_FULL) return;
    // First come, first served: a partition may not overtake one already waiting for budget.
    if (size === NO_BUDGET || this.budgetQueue.length > 0) {
      state.awaitingBudget = true;
      this.budgetQueue.push(state);
    } else {
      this.fetch(state, size);
    }
  }

  private serveBudgetQueue(): void {
    while (this.budgetQueue.length > 0) {
      const head = this.budgetQueue[0];
      const ready = this.wantsRequest(head) && head.position !== null && head.startAt === null;
      const size = ready ? this.fetchSize(head) : PARTITION_FULL;
      if (size === NO_BUDGET) return;
      this.budgetQueue.shift();
      head.awaitingBudget = false;
      // Not ready (no longer wanting a request, or first needing its position found): pumpOne handles
      // it and cannot queue it again. Ready with its own budget full: it leaves the queue, and its
      // deliveries pump it once they free that budget (putting it back in line let two such
      // partitions go round the queue forever).
      if (!ready) this.pumpOne(head);
      else if (size !== PARTITION_FULL) this.fetch(head, size);
    }
  }

  private wantsRequest(state: PartitionFetch): boolean {
    return this.active && state.assigned && !state.paused && !state.inFlight && state.backoff === null && state.next === null;
  }

  /**
   * How many bytes the partition's next fetch asks for: PARTITION_FULL while its own budget is
   * too full to be worth a fetch (its deliveries will free it), NO_BUDGET while the consumer-wide
   * budget is.
   *
   * Small fetches cost a round trip each for little data, and a partition answers with at least one
   * whole batch however little was asked for, so a fetch goes out only once half of what it wants
   * fits (or when nothing at all is held, so that progress never stalls). A partition waiting at its
   * log end wants less, `budget / (2 × partitions)` at most, so that however many partitions idle
   * in long-polls, partitions with a backlog keep at least half of the consumer's budget.
   */
  private fetchSize(state: PartitionFetch): number {
    const { maxBytesPerPartition } = this.settings;
    const budget = this.budgetBytes;
    const full = Math.min(maxBytesPerPartition, budget);
    const wanted = state.caughtUp ? Math.max(1, Math.min(full, Math.floor(budget / (2 * this.partitions.size)))) : full;
    const partitionRoom = Math.min(wanted, maxBytesPerPartition - state.heldBytes);
    if (partitionRoom < wanted / 2) return PARTITION_FULL;
    const held = this.bufferedBytes + this.reservedBytes;
    const size = Math.min(partitionRoom, budget - held);
    return size >= partitionRoom / 2 || (size > 0 && held === 0) ? size : NO_BUDGET;
  }

  /** Fetches what follows the partition's data (or its position, with none): one response may be buffered behind the one being delivered. */
  private fetch(state: PartitionFetch, maxBytes: number): void {
    const epoch = state.epoch;
    const offset = state.current !== null ? state.current.nextOffset : state.position!;
    state.inFlight = true;
    state.reservedBytes = maxBytes;
    this.reservedBytes += maxBytes;
    this.inFlightRequests++;
    this.fetchRequests++;
    const { maxWaitTimeInMs, minBytes } = this.settings;
    this.client
      .request('fetch', { topic: state.topic, partition: state.partition, offset, maxBytes, maxWaitMs: maxWaitTimeInMs, minBytes })
      .then(
        (response) => {
          if (!this.settle(state, epoch)) return;
          state.failures = 0;
          state.highWatermark = response.highWatermark;
          state.caughtUp = response.nextOffset >= response.highWatermark;
          const bytes = asBuffer(response.bytes);
          if (bytes.length > 0 && response.nextOffset > offset) {
            const data: FetchedData = { bytes, pos: 0, nextOffset: response.nextOffset, highWatermark: response.highWatermark };
            state.heldBytes += bytes.length;
            this.bufferedBytes += bytes.length;
            if (state.current === null) state.current = data;
            else state.next = data;
            this.enqueue(state);
          }
          this.budgetFreed(state);
        },
        (error: unknown) => {
          if (this.settle(state, epoch)) this.onRequestFailed(state, error);
        },
      );
  }

  /** Finds the position of a partition that has none, or was sought to earliest/latest. */
  private findPosition(state: PartitionFetch): void {
    const spec: OffsetSpec | 'none' = state.startAt ?? state.resetPolicy;
    if (spec === 'none') {
      this.fail(
        new TributaryError(
          'OFFSET_OUT_OF_RANGE',
          `partition ${state.partition} of topic '${state.topic}' has no position and autoOffsetReset is 'none'; seek() to an offset first`,
          { topic: state.topic, partition: state.partition },
        ),
      );
      return;
    }
    const epoch = state.epoch;
    state.inFlight = true;
    this.inFlightRequests++;
    this.client.request('listOffsets', { topic: state.topic, partition: state.partition, spec }).then(
      (response) => {
        if (!this.settle(state, epoch)) return;
        state.failures = 0;
        state.position = response.offset;
        state.startAt = null;
        this.pumpOne(state);
      },
      (error: unknown) => {
        if (this.settle(state, epoch)) this.onRequestFailed(state, error);
      },
    );
  }

  /** Ends the partition's in-flight request; false if its answer is stale and must be ignored. */
  private settle(state: PartitionFetch, epoch: number): boolean {
    if (epoch !== state.epoch || !state.inFlight) return false;
    state.inFlight = false;
    this.inFlightRequests--;
    this.reservedBytes -= state.reservedBytes;
    state.reservedBytes = 0;
    return this.active;
  }

  private onRequestFailed(state: PartitionFetch, error: unknown): void {
    if (TributaryError.is(error, 'OFFSET_OUT_OF_RANGE')) {
      if (state.resetPolicy === 'none') {
        this.fail(
          new TributaryError(
            'OFFSET_OUT_OF_RANGE',
            `position ${state.position} of partition ${state.partition} of topic '${state.topic}' is outside the log and autoOffsetReset is 'none'`,
            { ...error.details, topic: state.topic, partition: state.partition, position: state.position },
            { cause: error },
          ),
        );
        return;
      }
      this.abandon(state);
      state.moves++;
      state.position = null;
      this.pumpOne(state);
      return;
    }
    if (!TributaryError.is(error) || !error.retriable || state.failures >= this.settings.retry.retries) {
      this.fail(error);
      return;
    }
    this.abandon(state);
    this.scheduleRetry(state, ++state.failures);
  }

  private scheduleRetry(state: PartitionFetch, attempt: number): void {
    state.backoff = setTimeout(() => {
      state.backoff = null;
      this.pumpOne(state);
    }, retryDelayMs(attempt, this.settings.retry));
  }

  private fail(error: unknown): void {
    if (!this.active) return;
    this.stop();
    this.onFailure(error);
  }
}

/** Fetch answers are Uint8Arrays (a transferred ArrayBuffer); the decoder reads them as Buffers, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
