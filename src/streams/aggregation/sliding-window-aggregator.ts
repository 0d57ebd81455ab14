/**
 * Sliding window aggregation with Kafka Streams' SlidingWindows semantics (KIP-450,
 * KStreamSlidingWindowAggregate). With d = maxDifference, the windows of a key are exactly those
 * holding a distinct set of its records: for each record at t, the window ending at t, Kafka's
 * `[t - d, t]`, and the window starting at t + 1, `[t + 1, t + 1 + d]`, when some record falls in
 * it. Windows are stored by (key, inclusive start) and reported half-open: `[start, start + d + 1)`.
 *
 * A record never needs the records before it: a new window's aggregate is copied from an existing
 * window that holds the same records (the latest window ending before t holds exactly the records
 * of [t - d, t) when the previous record is within d; the window that contains t with the latest
 * start holds exactly the records of (t, t + 1 + d]), so each window keeps its aggregate and the
 * latest event time in it.
 *
 * A window closes when the watermark reaches its end + grace, and is emitted (final) then; it stays
 * in the store while a later record could still copy from it, i.e. while its start is within
 * 2d + grace of the watermark. A record is late when the window ending at its own time has closed
 * (t + 1 + grace <= watermark); then all its windows have closed. Kafka still adds such a record to
 * the open windows after it, but then starts new windows from aggregates that miss it; refusing it
 * keeps every window equal to the set of its records.
 */
import type { WindowEvent, Windowing } from '../events.js';
import type { WindowStore } from '../state/window-store.js';
import type { SlidingWindows } from '../window-spec.js';
import type { Aggregation, AggregationProcessor, Emit } from './aggregation.js';

/** A sliding window's stored value: Kafka's ValueAndTimestamp. */
export interface SlidingAggregate<A> {
  readonly aggregate: A;
  /** The latest event time among the window's records. */
  readonly maxTimestamp: number;
}

export class SlidingWindowAggregator<T, K, A, R> implements AggregationProcessor<WindowEvent<T, K>> {
  private readonly difference: number;
  private readonly grace: number;
  private readonly updates: boolean;
  private watermark = -Infinity;
  /** Windows starting at or before this were emitted as final. */
  private emittedThrough = -Infinity;
  /** The watermark at which the earliest window not yet emitted closes. */
  private nextClose: number;

  constructor(
    private readonly aggregation: Aggregation<T, A, R>,
    private readonly store: WindowStore<K, SlidingAggregate<A>>,
    private readonly windowing: Windowing,
    spec: SlidingWindows,
    private readonly emit: Emit,
  ) {
    this.difference = spec.maxDifference;
    this.grace = windowing.grace;
    this.updates = windowing.emit === 'update';
    this.nextClose = this.closeTime(store.earliestStart());
  }

  process(event: WindowEvent<T, K>): void {
    if (event.watermark > this.watermark) {
      this.watermark = event.watermark;
      if (event.watermark >= this.nextClose) this.close();
    }
    if (event.type !== 'record') return;
    const { key, timestamp: t, record } = event;
    if (t + 1 + this.grace <= this.watermark) {
      this.windowing.late(record);
      return;
    }
    const d = this.difference;
    const windows = this.store.fetch(key, t - 2 * d, t + 1);
    let before: SlidingAggregate<A> | undefined; // the latest window ending before t
    let after: SlidingAggregate<A> | undefined; // the latest-starting window containing t, before t is added
    let previous: number | undefined; // the latest event time before t
    let leftExists = false;
    let rightExists = false;
    for (const window of windows) {
      const end = window.start + d;
      if (end < t) {
        before = window.value;
        previous = window.value.maxTimestamp;
      } else if (end === t) {
        leftExists = true;
        if (window.value.maxTimestamp < t) previous = window.value.maxTimestamp;
        this.add(key, window.start, window.value, record, t);
      } else if (window.start <= t) {
        after = window.value;
        this.add(key, window.start, window.value, record, t);
      } else {
        rightExists = true;
      }
    }
    // The previous record's right window now holds t. When previous = t - d - 1 that window is t's
    // left window, created just below (Kafka creates it twice and emits it twice).
    if (previous !== undefined && previous >= t - d && !windows.some((w) => w.start === previous + 1)) {
      this.add(key, previous + 1, undefined, record, t);
    }
    if (!leftExists) {
      const base = previous !== undefined && previous >= t - d ? before : undefined;
      this.add(key, t - d, base, record, t);
    }
    if (!rightExists && after !== undefined && after.maxTimestamp > t) this.put(key, t + 1, after);
  }

  flush(): void {
    this.emitFinal(Infinity);
    for (const { key, start } of this.store.fetchAll(-Infinity, Infinity)) this.store.put(key, start, null);
    this.nextClose = Infinity;
  }

  /** Puts `base` (or a fresh aggregate) plus the record as the window at `start`. */
  private add(key: K, start: number, base: SlidingAggregate<A> | undefined, record: T, t: number): void {
    const aggregation = this.aggregation;
    const aggregate = aggregation.add(base === undefined ? aggregation.init() : base.aggregate, record, key);
    this.put(key, start, { aggregate, maxTimestamp: base === undefined || base.maxTimestamp < t ? t : base.maxTimestamp });
  }

  private put(key: K, start: number, value: SlidingAggregate<A>): void {
    this.store.put(key, start, value);
    const closeTime = this.closeTime(start);
    if (closeTime < this.nextClose) this.nextClose = closeTime;
    if (this.updates) this.emit({ key, window: { start, end: start + this.difference + 1 }, value: this.aggregation.result(value.aggregate), final: false });
  }

  private close(): void {
    const d = this.difference;
    this.emitFinal(this.watermark - d - 1 - this.grace);
    // An accepted record (t > watermark - 1 - grace) reads windows starting at t - 2d or later.
    for (const { key, start } of this.store.fetchAll(-Infinity, this.watermark - this.grace - 2 * d - 1)) this.store.put(key, start, null);
    this.nextClose = this.closeTime(this.store.earliestStart(this.emittedThrough + 1));
  }

  /** Emits every window starting after the last emitted one and at or before lastStart. */
  private emitFinal(lastStart: number): void {
    const { aggregation, difference } = this;
    for (const { key, start, value } of this.store.fetchAll(this.emittedThrough + 1, lastStart)) {
      this.emit({ key, window: { start, end: start + difference + 1 }, value: aggregation.result(value.aggregate), final: true });
    }
    this.emittedThrough = lastStart;
  }

  /** The watermark at which the window starting at `start` is closed. */
  private closeTime(start: number | undefined): number {
    return start === undefined ? Infinity : start + this.difference + 1 + this.grace;
  }
}
