/**
 * Session window aggregation (Kafka Streams' KStreamSessionWindowAggregate). Per key, a record
 * at t joins every open session that ends at or after t - gap and starts at or before t + gap;
 * those sessions and the record merge into one session (their aggregates combined with the
 * aggregation's merge), which replaces them in the session store. A session [start, end] closes
 * when the watermark passes end + gap + grace: until then a record could still extend it.
 *
 * Closed sessions are emitted (final) and deleted before the record that moved the watermark is
 * added, so a final result is never contradicted: a record near a closed session starts a new one
 * (Kafka would merge it into a session it already emitted as final). A record is late when it
 * joins no open session and its own new session would already be closed.
 *
 * With `emit: 'update'` each change emits the merged session; sessions merged away emit nothing
 * (Kafka emits a tombstone for each): a session result supersedes earlier results of the same key
 * whose windows it contains.
 */
import { TributaryError } from '../../errors.js';
import type { WindowEvent, Windowing } from '../events.js';
import type { SessionStore } from '../state/session-store.js';
import type { SessionWindows } from '../window-spec.js';
import type { Aggregation, AggregationProcessor, Emit } from './aggregation.js';

export class SessionWindowAggregator<T, K, A, R> implements AggregationProcessor<WindowEvent<T, K>> {
  private readonly gap: number;
  /** A session closes once the watermark exceeds its end by more than this. */
  private readonly closeAfter: number;
  private readonly updates: boolean;
  private readonly merge: (left: A, right: A, key: unknown) => A;
  private watermark = -Infinity;
  private nextClose: number;

  constructor(
    private readonly aggregation: Aggregation<T, A, R>,
    private readonly store: SessionStore<K, A>,
    private readonly windowing: Windowing,
    spec: SessionWindows,
    private readonly emit: Emit,
  ) {
    if (aggregation.merge === undefined) {
      throw new TributaryError('INVALID_CONFIG', `${aggregation.name}() after session windows needs a merge function: aggregate(init, add, merge)`, {
        field: 'merge',
        value: undefined,
      });
    }
    this.merge = aggregation.merge;
    this.gap = spec.gap;
    this.closeAfter = spec.gap + windowing.grace;
    this.updates = windowing.emit === 'update';
    this.nextClose = this.closeTime(store.earliestEnd());
  }

  process(event: WindowEvent<T, K>): void {
    if (event.watermark > this.watermark) {
      this.watermark = event.watermark;
      if (event.watermark >= this.nextClose) this.close(event.watermark - this.closeAfter - 1);
    }
    if (event.type !== 'record') return;
    const { aggregation, store } = this;
    const { key, timestamp, record } = event;
    const joined = store.findSessions(key, timestamp - this.gap, timestamp + this.gap);
    if (joined.length === 0 && this.closeTime(timestamp) <= this.watermark) {
      this.windowing.late(record);
      return;
    }
    let start = timestamp;
    let end = timestamp;
    let aggregate = joined.length === 0 ? aggregation.init() : joined[0].value;
    for (let i = 0; i < joined.length; i++) {
      const session = joined[i];
      if (i > 0) aggregate = this.merge(aggregate, session.value, key);
      if (session.start < start) start = session.start;
      if (session.end > end) end = session.end;
    }
    aggregate = aggregation.add(aggregate, record, key);
    for (const session of joined) {
      if (session.start !== start || session.end !== end) store.put(key, session.start, session.end, null);
    }
    store.put(key, start, end, aggregate);
    const closeTime = this.closeTime(end);
    if (closeTime < this.nextClose) this.nextClose = closeTime;
    if (this.updates) this.emit({ key, window: { start, end }, value: aggregation.result(aggregate), final: false });
  }

  flush(): void {
    this.close(Infinity);
  }

  /** Emits and deletes every session ending at or before lastEnd. */
  private close(lastEnd: number): void {
    const { aggregation, store } = this;
    for (const { key, start, end, value } of store.fetchEndingBetween(-Infinity, lastEnd)) {
      store.put(key, start, end, null);
      this.emit({ key, window: { start, end }, value: aggregation.result(value), final: true });
    }
    this.nextClose = this.closeTime(store.earliestEnd());
  }

  /** The watermark at which a session ending at `end` is closed. */
  private closeTime(end: number | undefined): number {
    return end === undefined ? Infinity : end + this.closeAfter + 1;
  }
}
