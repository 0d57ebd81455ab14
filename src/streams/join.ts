/**
 * `join(...)`: inner joins.
 *
 * - `join(table, joiner, options?)`: each record joined with the table's current value for its key
 *   (see join/stream-table-join.ts); records whose key has no value are dropped.
 * - `join(other$, joiner, { within, ... })`: windowed stream-stream join (see
 *   join/stream-stream-join.ts); the operator has a `late$` side output.
 */
import { isObservable, type Observable, type OperatorFunction } from 'rxjs';
import { TributaryError } from '../errors.js';
import { describeValue } from '../runtime/options.js';
import { streamStreamJoinConfig, streamTableJoinKey, type JoinOperator, type StreamStreamJoinOptions, type StreamTableJoinOptions } from './join/join-options.js';
import { streamStreamJoin } from './join/stream-stream-join.js';
import { streamTableJoin } from './join/stream-table-join.js';
import { Table } from './join/table.js';
import type { DefaultKey } from './types.js';

export function join<T, K, V, O>(table: Table<K, V>, joiner: (record: T, value: V) => O, options?: StreamTableJoinOptions<T, K>): OperatorFunction<T, O>;
export function join<L, R, O, K = DefaultKey<L>>(other: Observable<R>, joiner: (left: L, right: R) => O, options: StreamStreamJoinOptions<L, R, K>): JoinOperator<L, R, O>;
export function join(
  target: Table<unknown, unknown> | Observable<unknown>,
  joiner: (left: unknown, right: unknown) => unknown,
  options?: StreamTableJoinOptions<unknown, unknown> | StreamStreamJoinOptions<unknown, unknown, unknown>,
): OperatorFunction<unknown, unknown> {
  return joinWith(target, joiner, options, false, 'join');
}

/** The shared front of `join` and `leftJoin`: picks the stream-table or stream-stream join by the first argument. */
export function joinWith(
  target: Table<unknown, unknown> | Observable<unknown>,
  joiner: (left: unknown, right: unknown) => unknown,
  options: StreamTableJoinOptions<unknown, unknown> | StreamStreamJoinOptions<unknown, unknown, unknown> | undefined,
  outer: boolean,
  name: string,
): OperatorFunction<unknown, unknown> {
  if (typeof joiner !== 'function') {
    throw new TributaryError('INVALID_CONFIG', `${name}() expects a joiner function as its second argument, got ${describeValue(joiner)}`, {
      field: 'joiner',
      value: describeValue(joiner),
    });
  }
  if (target instanceof Table) return streamTableJoin(target, joiner, streamTableJoinKey(options as StreamTableJoinOptions<unknown, unknown>), outer);
  if (isObservable(target)) return streamStreamJoin(target, joiner, streamStreamJoinConfig(options as StreamStreamJoinOptions<unknown, unknown, unknown>), outer);
  throw new TributaryError('INVALID_CONFIG', `${name}() expects a table (from table()) or an Observable to join with, got ${describeValue(target)}`, {
    field: 'other',
    value: describeValue(target),
  });
}
