/**
 * Windowed stream-stream join (Kafka Streams' KStream-KStream join with JoinWindows): a left and a
 * right record with equal keys join when their event times differ by at most `within`; the joiner
 * runs when the second of the two arrives. Each side's records wait in a window store keyed by
 * (key, event time) until their join window `[t - within, t + within]` closes, which happens when
 * the shared watermark (max event time of both inputs minus `maxOutOfOrderness`) reaches
 * `t + within + 1 + grace`.
 *
 * Both inputs move one watermark, so they should arrive roughly in step in event time: a record
 * that trails the other input's newest event time by more than within + grace + maxOutOfOrderness
 * is late. Two topics read by one task should be fed in timestamp order (Kafka Streams' task picks
 * the partition whose next record is oldest); two synchronous sources are read one after the other
 * (`other` first), which only works with a grace that covers their whole span.
 *
 * The left join emits `joiner(left, null)` for a left record that found no partner once its join
 * window closes, never before, as Kafka Streams does since 3.1 (KIP-633's fix of eager null
 * results), and at completion of both inputs for every window still open.
 *
 * Where this differs from Kafka: a record is late when its own join window has already closed on
 * arrival; it goes to `late$` and joins nothing (Kafka still joins it against the other side's
 * buffer and emits a left-join null at once). And a record's window closing removes it from its
 * buffer, so a pair joins only while both windows are open: a left record whose null result was
 * emitted never joins afterwards. Records with a null or undefined key join nothing; the left join
 * emits `joiner(left, null)` for such a left record at once (as Kafka does).
 */
import { Observable } from 'rxjs';
import { checkEventTime } from '../extractors.js';
import { subscribeOperator } from '../operator.js';
import { SideOutput } from '../side-output.js';
import { InMemoryWindowStore, type WindowStore } from '../state/window-store.js';
import { WatermarkClock } from '../watermark.js';
import type { JoinOperator } from './join-options.js';

export interface StreamStreamJoinConfig<L, R, K> {
  readonly within: number;
  readonly grace: number;
  readonly maxOutOfOrderness: number;
  readonly idleTimeout: number | undefined;
  readonly key: (record: L) => K;
  readonly otherKey: (record: R) => K;
  readonly timestamp: (record: L) => number;
  readonly otherTimestamp: (record: R) => number;
  readonly stores: StreamStreamJoinStores<L, R, K>;
}

/** Where a stream-stream join keeps its state; each defaults to a new in-memory window store per subscription. */
export interface StreamStreamJoinStores<L, R, K> {
  /** Left records waiting for right ones, by (key, event time). */
  readonly left?: WindowStore<K, readonly L[]>;
  /** Right records waiting for left ones. */
  readonly right?: WindowStore<K, readonly R[]>;
  /** Left join only: left records that have not joined yet. */
  readonly unmatched?: WindowStore<K, readonly L[]>;
}

export function streamStreamJoin<L, R, K, O>(
  other: Observable<R>,
  joiner: (left: L, right: R | null) => O,
  config: StreamStreamJoinConfig<L, R, K>,
  outer: boolean,
): JoinOperator<L, R, O> {
  const late = new SideOutput<L | R>();
  const operator = (source: Observable<L>) =>
    new Observable<O>((subscriber) => {
      const join = new JoinState<L, R, K, O>(config, outer, joiner, (output) => subscriber.next(output), (record) => late.next(record));
      const clock = new WatermarkClock(config.maxOutOfOrderness, config.idleTimeout, (watermark) => join.advance(watermark));
      // The output completes once both inputs have.
      let running = 2;
      const complete = (): boolean => {
        if (--running > 0) return false;
        join.flush();
        return true;
      };
      late.open();
      clock.start();
      const otherSubscription = subscribeOperator(other, subscriber, {
        next(record) {
          const timestamp = checkEventTime(config.otherTimestamp(record));
          join.right(record, config.otherKey(record), timestamp, clock.observe(timestamp));
        },
        complete,
      });
      const ownSubscription = subscribeOperator(source, subscriber, {
        next(record) {
          const timestamp = checkEventTime(config.timestamp(record));
          join.left(record, config.key(record), timestamp, clock.observe(timestamp));
        },
        complete,
      });
      return () => {
        clock.stop();
        ownSubscription.unsubscribe();
        otherSubscription.unsubscribe();
        late.close();
      };
    });
  return Object.assign(operator, { late$: late.observable });
}

/** One subscription's join: both buffers, the unmatched left records, and the closing of windows. */
class JoinState<L, R, K, O> {
  private readonly within: number;
  /** A record's window is closed once the watermark reaches its time plus this. */
  private readonly closeAfter: number;
  private readonly leftBuffer: WindowStore<K, readonly L[]>;
  private readonly rightBuffer: WindowStore<K, readonly R[]>;
  private readonly unmatched: WindowStore<K, readonly L[]> | undefined;
  private watermark = -Infinity;
  private nextClose: number;

  constructor(
    config: StreamStreamJoinConfig<L, R, K>,
    outer: boolean,
    private readonly joiner: (left: L, right: R | null) => O,
    private readonly emit: (output: O) => void,
    private readonly late: (record: L | R) => void,
  ) {
    this.within = config.within;
    this.closeAfter = config.within + 1 + config.grace;
    this.leftBuffer = config.stores.left ?? new InMemoryWindowStore('join-left-store');
    this.rightBuffer = config.stores.right ?? new InMemoryWindowStore('join-right-store');
    this.unmatched = outer ? (config.stores.unmatched ?? new InMemoryWindowStore('join-unmatched-store')) : undefined;
    this.nextClose = this.earliestClose();
  }

  left(record: L, key: K, timestamp: number, watermark: number): void {
    if (!this.accept(record, timestamp, watermark)) return;
    if (key === null || key === undefined) {
      if (this.unmatched !== undefined) this.emit(this.joiner(record, null));
      return;
    }
    let joined = false;
    for (const { value: rights } of this.rightBuffer.fetch(key, timestamp - this.within, timestamp + this.within)) {
      for (const right of rights) this.emit(this.joiner(record, right));
      joined = true;
    }
    append(this.leftBuffer, key, timestamp, record);
    if (!joined && this.unmatched !== undefined) append(this.unmatched, key, timestamp, record);
    this.scheduleClose(timestamp);
  }

  right(record: R, key: K, timestamp: number, watermark: number): void {
    if (!this.accept(record, timestamp, watermark) || key === null || key === undefined) return;
    for (const { start, value: lefts } of this.leftBuffer.fetch(key, timestamp - this.within, timestamp + this.within)) {
      for (const left of lefts) this.emit(this.joiner(left, record));
      // Every left record at (key, start) has now joined.
      this.unmatched?.put(key, start, null);
    }
    append(this.rightBuffer, key, timestamp, record);
    this.scheduleClose(timestamp);
  }

  /** The watermark moved: emit the left-join nulls of the windows it closed, and forget their records. */
  advance(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    if (watermark >= this.nextClose) this.close(watermark - this.closeAfter);
  }

  /** End of both inputs: every window closes. */
  flush(): void {
    this.close(Infinity);
  }

  /** Advances the watermark for a record and tells whether the record's window is still open. */
  private accept(record: L | R, timestamp: number, watermark: number): boolean {
    this.advance(watermark);
    if (timestamp + this.closeAfter > this.watermark) return true;
    this.late(record);
    return false;
  }

  /** Closes the windows of records with time <= lastClosed. */
  private close(lastClosed: number): void {
    if (this.unmatched !== undefined) {
      for (const { key, start, value: lefts } of this.unmatched.fetchAll(-Infinity, lastClosed)) {
        this.unmatched.put(key, start, null);
        for (const left of lefts) this.emit(this.joiner(left, null));
      }
    }
    for (const buffer of [this.leftBuffer, this.rightBuffer] as WindowStore<K, unknown>[]) {
      for (const { key, start } of buffer.fetchAll(-Infinity, lastClosed)) buffer.put(key, start, null);
    }
    this.nextClose = this.earliestClose();
  }

  private scheduleClose(timestamp: number): void {
    const closeTime = timestamp + this.closeAfter;
    if (closeTime < this.nextClose) this.nextClose = closeTime;
  }

  private earliestClose(): number {
    const earliest = Math.min(
      this.leftBuffer.earliestStart() ?? Infinity,
      this.rightBuffer.earliestStart() ?? Infinity,
      this.unmatched?.earliestStart() ?? Infinity,
    );
    return earliest + this.closeAfter;
  }
}

function append<K, V>(store: WindowStore<K, readonly V[]>, key: K, timestamp: number, record: V): void {
  const waiting = store.get(key, timestamp);
  store.put(key, timestamp, waiting === undefined ? [record] : [...waiting, record]);
}
