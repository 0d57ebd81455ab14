/**
 * What flows between `window()` / `groupByKey()` and the aggregation after them.
 *
 * `window()` is stateless apart from its watermark: it reads each record's key and event time
 * once, and emits the record tagged with them, the watermark after it, and the `Windowing` it was
 * configured with. The aggregation that follows (`count()`, `aggregate()`, ...) is the one
 * stateful operator: it assigns records to windows, keeps the per-(key, window) aggregates in its
 * store, decides lateness, and emits results as the watermark closes windows. So a windowed
 * count is two operators and one Map lookup per record, with no per-key subscriptions (`groupBy`
 * fan-out costs about twice as much per record).
 */
import type { WindowSpec } from './window-spec.js';
import type { KeyedResult, WindowResult } from './types.js';

/** How `window()` was configured; shared by every record of one subscription. */
export interface Windowing {
  readonly spec: WindowSpec;
  /** Milliseconds a window keeps accepting records after the watermark passed its end. */
  readonly grace: number;
  readonly emit: 'final' | 'update';
  /** Hands a record no open window can take to the window operator's `late$`. */
  late(record: unknown): void;
}

/** A record tagged by `window()`. */
export class WindowedRecord<T, K> {
  readonly type = 'record';
  constructor(
    readonly record: T,
    readonly key: K,
    /** Event time, epoch ms. */
    readonly timestamp: number,
    /** The watermark after this record: max event time seen minus `maxOutOfOrderness`. */
    readonly watermark: number,
    readonly windowing: Windowing,
  ) {}
}

/** The watermark moved without a record: input was idle for `idleTimeout`. */
export class WatermarkAdvance {
  readonly type = 'watermark';
  constructor(
    readonly watermark: number,
    readonly windowing: Windowing,
  ) {}
}

/** What `window()` emits. */
export type WindowEvent<T, K> = WindowedRecord<T, K> | WatermarkAdvance;

/** A record tagged by `groupByKey()`. */
export class KeyedRecord<T, K> {
  readonly type = 'keyed';
  constructor(
    readonly record: T,
    readonly key: K,
  ) {}
}

/** What an aggregation accepts: the output of `window()` or of `groupByKey()`. */
export type Aggregatable = WindowEvent<any, any> | KeyedRecord<any, any>;

/** The records inside an aggregation's input. */
export type RecordOf<E> = E extends WindowedRecord<infer T, any> ? T : E extends KeyedRecord<infer T, any> ? T : never;

/** The key type inside an aggregation's input. */
export type KeyOf<E> = E extends WindowedRecord<any, infer K> ? K : E extends KeyedRecord<any, infer K> ? K : never;

/** An aggregation's output for its input: windowed results after `window()`, keyed updates after `groupByKey()`. */
export type ResultOf<E, R> = [E] extends [KeyedRecord<any, infer K>]
  ? KeyedResult<K, R>
  : [E] extends [WindowEvent<any, infer K>]
    ? WindowResult<K, R>
    : never;
