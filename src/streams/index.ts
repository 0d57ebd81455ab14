/**
 * `tributary/streams`: event-time stream processing as RxJS operators.
 *
 * ```ts
 * import { window, tumbling, count } from 'tributary/streams';
 * clicks$.pipe(window(tumbling('1m'), { key: (c) => c.value.page }), count());
 * ```
 */
export type { StreamRecord, TimeWindow, WindowResult, KeyedResult, KeyExtractor, TimestampExtractor } from './types.js';
export { parseDuration, type Duration, type DurationUnit } from './duration.js';
export { tumbling, hopping, sliding, session, type WindowSpec, type FixedWindows, type SlidingWindows, type SessionWindows } from './window-spec.js';
export { window, type WindowOptions, type WindowOperator } from './window.js';
export { groupByKey, type GroupByKeyOptions } from './group-by-key.js';
export { WindowedRecord, WatermarkAdvance, KeyedRecord, type Windowing, type WindowEvent, type Aggregatable } from './events.js';
export type { AggregationOptions, AggregationStore } from './aggregation/aggregate-with.js';
export type { SlidingAggregate } from './aggregation/sliding-window-aggregator.js';
export { count } from './count.js';
export { sum } from './sum.js';
export { min } from './min.js';
export { max } from './max.js';
export { avg, type SumAndCount } from './avg.js';
export { reduce } from './reduce.js';
export { aggregate } from './aggregate.js';
export { table, Table, type TableOptions } from './join/table.js';
export { join } from './join.js';
export { leftJoin } from './left-join.js';
export type { JoinOperator, StreamTableJoinOptions, StreamStreamJoinOptions } from './join/join-options.js';
export type { StreamStreamJoinStores } from './join/stream-stream-join.js';
export * from './state/index.js';
export { source, type SourceOptions, type SourcePosition } from './source.js';
export { repartition, type RepartitionOptions, type RepartitionedValue } from './repartition.js';
export { sink, type SinkOptions } from './sink.js';
export { windowStore, keyValueStore, sessionStore } from './stores.js';
export type { RunHandle, RunOptions, TaskState, TaskStatus } from './run.js';
