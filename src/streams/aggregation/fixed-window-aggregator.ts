/**
 * Tumbling and hopping window aggregation (Kafka Streams' KStreamWindowAggregate): windows are
 * `[start, start + size)` with starts at multiples of `advance` (aligned to the epoch), keyed in a
 * window store by (key, start).
 *
 * A window closes when the watermark reaches `end + grace`; closed windows are emitted (final)
 * and deleted from the store. A record goes to `late$` when one of its windows has closed; as in
 * Kafka, a hopping-window record still counts in those of its windows that are open.
 */
import type { WindowEvent, Windowing } from '../events.js';
import type { WindowStore } from '../state/window-store.js';
import type { FixedWindows } from '../window-spec.js';
import type { Aggregation, AggregationProcessor, Emit } from './aggregation.js';

export class FixedWindowAggregator<T, K, A, R> implements AggregationProcessor<WindowEvent<T, K>> {
  private readonly size: number;
  private readonly advance: number;
  private readonly grace: number;
  private readonly updates: boolean;
  private watermark = -Infinity;
  /** The watermark at which the earliest window in the store closes. */
  private nextClose: number;

  constructor(
    private readonly aggregation: Aggregation<T, A, R>,
    private readonly store: WindowStore<K, A>,
    private readonly windowing: Windowing,
    spec: FixedWindows,
    private readonly emit: Emit,
  ) {
    this.size = spec.size;
    this.advance = spec.advance;
    this.grace = windowing.grace;
    this.updates = windowing.emit === 'update';
    this.nextClose = this.closeTime(store.earliestStart());
  }

  process(event: WindowEvent<T, K>): void {
    if (event.watermark > this.watermark) {
      this.watermark = event.watermark;
      if (event.watermark >= this.nextClose) this.close(event.watermark - this.size - this.grace);
    }
    if (event.type !== 'record') return;
    const { size, advance } = this;
    const timestamp = event.timestamp;
    const lastStart = Math.floor(timestamp / advance) * advance;
    // The earliest start s with s + size > timestamp.
    const firstStart = lastStart - Math.floor((lastStart - timestamp + size - 1) / advance) * advance;
    const lastClosedStart = this.watermark - size - this.grace;
    for (let start = firstStart; start <= lastStart; start += advance) {
      if (start > lastClosedStart) this.update(event.key, start, event.record);
    }
    if (firstStart <= lastClosedStart) this.windowing.late(event.record);
  }

  flush(): void {
    this.close(Infinity);
  }

  private update(key: K, start: number, record: T): void {
    const { aggregation, store } = this;
    const previous = store.get(key, start);
    const aggregate = aggregation.add(previous === undefined ? aggregation.init() : previous, record, key);
    store.put(key, start, aggregate);
    if (previous === undefined) {
      const closeTime = start + this.size + this.grace;
      if (closeTime < this.nextClose) this.nextClose = closeTime;
    }
    if (this.updates) this.emit({ key, window: { start, end: start + this.size }, value: aggregation.result(aggregate), final: false });
  }

  /** Emits and deletes every window with start <= lastStart. */
  private close(lastStart: number): void {
    const { aggregation, store, size } = this;
    for (const { key, start, value } of store.fetchAll(-Infinity, lastStart)) {
      store.put(key, start, null);
      this.emit({ key, window: { start, end: start + size }, value: aggregation.result(value), final: true });
    }
    this.nextClose = this.closeTime(store.earliestStart());
  }

  private closeTime(start: number | undefined): number {
    return start === undefined ? Infinity : start + this.size + this.grace;
  }
}
