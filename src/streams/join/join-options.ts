/**
 * Options of `join()` and `leftJoin()`, validated as every options object is.
 *
 * Stream-table joins: `key`, the stream record's key to look up; default `record.key`.
 * Stream-stream joins:
 * - `within` (required): the largest difference between the event times of two records that join.
 * - `grace`: how long after the watermark passed a record's window it still joins; default 0.
 * - `maxOutOfOrderness`, `idleTimeout`: the shared watermark, as for `window()`; defaults 0 and none.
 * - `key` / `otherKey`: the join key of a left / right record; default `record.key`.
 * - `timestamp` / `otherTimestamp`: event times; default `record.timestamp`.
 * - `stores`: `{ left, right, unmatched }` window stores; default in-memory ones per subscription.
 */
import type { Observable, OperatorFunction } from 'rxjs';
import { TributaryError } from '../../errors.js';
import { defineOptions } from '../../runtime/options.js';
import { durationField, parseDuration, type Duration } from '../duration.js';
import { isFunction, recordKey, recordTimestamp } from '../extractors.js';
import type { KeyExtractor, TimestampExtractor } from '../types.js';
import type { StreamStreamJoinConfig, StreamStreamJoinStores } from './stream-stream-join.js';

/** A stream-stream join's operator, with the side output of late records from either input. */
export type JoinOperator<L, R, O> = OperatorFunction<L, O> & {
  /** Records of either input whose join window had closed when they arrived. */
  readonly late$: Observable<L | R>;
};

export interface StreamTableJoinOptions<T, K> {
  readonly key?: KeyExtractor<T, K>;
}

export interface StreamStreamJoinOptions<L, R, K> {
  readonly within: Duration;
  readonly grace?: Duration;
  readonly maxOutOfOrderness?: Duration;
  readonly idleTimeout?: Duration;
  readonly key?: KeyExtractor<L, K>;
  readonly otherKey?: KeyExtractor<R, K>;
  readonly timestamp?: TimestampExtractor<L>;
  readonly otherTimestamp?: TimestampExtractor<R>;
  readonly stores?: StreamStreamJoinStores<L, R, K>;
}

const extractor = (expected: string) => ({ type: 'custom', expected, is: isFunction, default: undefined }) as const;

const parseStreamTableJoinOptions = defineOptions('join', {
  key: extractor('a function (record) => key'),
});

const isStores = (value: unknown): value is StreamStreamJoinStores<unknown, unknown, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  Object.entries(value).every(
    ([name, store]) =>
      ['left', 'right', 'unmatched'].includes(name) &&
      (store === undefined || (typeof store === 'object' && store !== null && (store as { kind?: unknown }).kind === 'window')),
  );

const parseStreamStreamJoinOptions = defineOptions('join', {
  within: durationField(undefined),
  grace: durationField(0),
  maxOutOfOrderness: durationField(0),
  idleTimeout: durationField(undefined),
  key: extractor('a function (record) => key'),
  otherKey: extractor('a function (record) => key'),
  timestamp: extractor('a function (record) => epoch milliseconds'),
  otherTimestamp: extractor('a function (record) => epoch milliseconds'),
  stores: { type: 'custom', expected: 'an object { left?, right?, unmatched? } of window stores', is: isStores, default: undefined },
});

export function streamTableJoinKey<T, K>(options: StreamTableJoinOptions<T, K> | undefined): KeyExtractor<T, K> {
  return (parseStreamTableJoinOptions(options).key ?? recordKey) as KeyExtractor<T, K>;
}

export function streamStreamJoinConfig<L, R, K>(options: StreamStreamJoinOptions<L, R, K> | undefined): StreamStreamJoinConfig<L, R, K> {
  const parsed = parseStreamStreamJoinOptions(options);
  if (parsed.within === undefined) {
    throw new TributaryError('INVALID_CONFIG', "A stream-stream join needs the option within (the largest time difference that joins, e.g. '5m')", {
      options: 'join',
      field: 'within',
      value: undefined,
    });
  }
  return {
    within: parseDuration(parsed.within, 'join option within'),
    grace: parseDuration(parsed.grace, 'join option grace'),
    maxOutOfOrderness: parseDuration(parsed.maxOutOfOrderness, 'join option maxOutOfOrderness'),
    idleTimeout: parsed.idleTimeout === undefined ? undefined : parseDuration(parsed.idleTimeout, 'join option idleTimeout', 1),
    key: (parsed.key ?? recordKey) as KeyExtractor<L, K>,
    otherKey: (parsed.otherKey ?? recordKey) as KeyExtractor<R, K>,
    timestamp: (parsed.timestamp ?? recordTimestamp) as TimestampExtractor<L>,
    otherTimestamp: (parsed.otherTimestamp ?? recordTimestamp) as TimestampExtractor<R>,
    stores: (parsed.stores ?? {}) as StreamStreamJoinStores<L, R, K>,
  };
}
