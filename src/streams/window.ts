/**
 * `window(spec, options)`: event-time windowing.
 *
 * ```ts
 * source.pipe(window(tumbling('1m'), { key: (c) => c.value.page }), count())
 * ```
 *
 * The operator reads each record's key and event time, keeps the watermark (max event time seen
 * minus `maxOutOfOrderness`, advanced by `idleTimeout` when input stops), and emits the record
 * tagged with them for the aggregation that follows (see events.ts for why the work is split
 * that way). The aggregation closes a window once the watermark reaches its end plus `grace`
 * (Kafka Streams' grace period); a record whose window is already closed is late and goes to
 * `late$`, and completion of the input closes every open window (Flink's end of input).
 *
 * Options and defaults:
 * - `key`: the grouping key; default `record.key`. Inside `rt.run`, a key other than the one the
 *   input is partitioned by needs a `repartition({ key })` before the window (see group-by-key.ts).
 * - `timestamp`: the event time, integer epoch ms; default `record.timestamp`.
 * - `maxOutOfOrderness`: how far behind the newest event time the watermark stays; default 0.
 * - `idleTimeout`: processing time without input after which the watermark advances anyway;
 *   default none (the watermark moves only with records and at completion).
 * - `grace`: how long after the watermark passed a window's end it still accepts records; default 0.
 * - `emit`: `'final'` (default) emits one result per window when it closes; `'update'` emits a
 *   result on every change of a window, then the final one.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { TributaryError } from '../errors.js';
import { defineOptions, describeValue } from '../runtime/options.js';
import { durationField, parseDuration, type Duration } from './duration.js';
import { WatermarkAdvance, WindowedRecord, type WindowEvent, type Windowing } from './events.js';
import { checkEventTime, isFunction, recordKey, recordTimestamp } from './extractors.js';
import { subscribeOperator } from './operator.js';
import { SideOutput } from './side-output.js';
import type { DefaultKey, KeyExtractor, TimestampExtractor } from './types.js';
import { WatermarkClock } from './watermark.js';
import { isWindowSpec, type WindowSpec } from './window-spec.js';

export interface WindowOptions<T, K> {
  readonly key?: KeyExtractor<T, K>;
  readonly timestamp?: TimestampExtractor<T>;
  readonly maxOutOfOrderness?: Duration;
  readonly idleTimeout?: Duration;
  readonly grace?: Duration;
  readonly emit?: 'final' | 'update';
}

/** `window()`'s operator, with the side output of late records. */
export type WindowOperator<T, K> = OperatorFunction<T, WindowEvent<T, K>> & {
  /** Records that arrived after every window they belong to had closed (see side-output.ts for its lifetime). */
  readonly late$: Observable<T>;
};

const parseWindowOptions = defineOptions('window', {
  key: { type: 'custom', expected: 'a function (record) => key', is: isFunction, default: undefined },
  timestamp: { type: 'custom', expected: 'a function (record) => epoch milliseconds', is: isFunction, default: undefined },
  maxOutOfOrderness: durationField(0),
  idleTimeout: durationField(undefined),
  grace: durationField(0),
  emit: { type: 'enum', values: ['final', 'update'], default: 'final' },
});

export function window<T, K = DefaultKey<T>>(spec: WindowSpec, options?: WindowOptions<T, K>): WindowOperator<T, K> {
  if (!isWindowSpec(spec)) {
    throw new TributaryError('INVALID_CONFIG', `window() expects a window spec from tumbling(), hopping(), sliding() or session(), got ${describeValue(spec)}`, {
      field: 'spec',
      value: describeValue(spec),
    });
  }
  const parsed = parseWindowOptions(options);
  const keyOf = (parsed.key ?? recordKey) as KeyExtractor<T, K>;
  const timeOf = (parsed.timestamp ?? recordTimestamp) as TimestampExtractor<T>;
  const maxOutOfOrderness = parseDuration(parsed.maxOutOfOrderness, 'window option maxOutOfOrderness');
  const idleTimeout = parsed.idleTimeout === undefined ? undefined : parseDuration(parsed.idleTimeout, 'window option idleTimeout', 1);
  const grace = parseDuration(parsed.grace, 'window option grace');
  const late = new SideOutput<T>();

  const operator = (source: Observable<T>) =>
    new Observable<WindowEvent<T, K>>((subscriber) => {
      const windowing: Windowing = { spec, grace, emit: parsed.emit, late: (record) => late.next(record as T) };
      const clock = new WatermarkClock(maxOutOfOrderness, idleTimeout, (watermark) => subscriber.next(new WatermarkAdvance(watermark, windowing)));
      late.open();
      clock.start();
      const subscription = subscribeOperator(source, subscriber, {
        next(record) {
          const timestamp = checkEventTime(timeOf(record));
          subscriber.next(new WindowedRecord(record, keyOf(record), timestamp, clock.observe(timestamp), windowing));
        },
      });
      return () => {
        clock.stop();
        subscription.unsubscribe();
        late.close();
      };
    });
  return Object.assign(operator, { late$: late.observable });
}
