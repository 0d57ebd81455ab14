/**
 * The shapes shared by the stream operators: the record a source emits, the windows results
 * name, and the results themselves.
 */
import type { RecordHeader } from '../record/types.js';

/**
 * One record of a topic as `source(topic)` emits it. Key and timestamp are the record's own
 * fields, outside the value, so a pipeline keyed and timed by them never deserializes the value.
 */
export interface StreamRecord<K = Buffer | null, V = Buffer | null> {
  readonly key: K;
  readonly value: V;
  /** Epoch milliseconds: the event time every window uses unless a `timestamp` extractor says otherwise. */
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * A window's bounds in epoch milliseconds. Tumbling, hopping and sliding windows are half-open,
 * `[start, end)`. A session window's `start` and `end` are its first and last event times, both
 * included, as Kafka Streams' session windows.
 */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** What an aggregation emits after `window()`. */
export interface WindowResult<K, R> {
  readonly key: K;
  readonly window: TimeWindow;
  readonly value: R;
  /**
   * True for the one result emitted when the window closes; false for the intermediate results
   * of `emit: 'update'`. With `emit: 'final'` every result is final.
   */
  readonly final: boolean;
}

/** What an aggregation emits after `groupByKey()`: the key's new aggregate, one per update (a table's changelog). */
export interface KeyedResult<K, R> {
  readonly key: K;
  readonly value: R;
}

/** Reads the grouping key of a record; the default reads `record.key`. */
export type KeyExtractor<T, K> = (record: T) => K;

/** Reads the event time (epoch ms, an integer) of a record; the default reads `record.timestamp`. */
export type TimestampExtractor<T> = (record: T) => number;

/** The key type of records that carry a `key` field (a `StreamRecord`), else unknown. */
export type DefaultKey<T> = T extends { readonly key: infer K } ? K : unknown;
