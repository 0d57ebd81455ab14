/**
 * `leftJoin(...)`: left joins; like `join()`, but every left record is emitted. With a table, a
 * record whose key has no value is joined with null. With a stream, a left record that joined no
 * right record is joined with null once its join window closes (or at the end of both inputs).
 */
import type { Observable, OperatorFunction } from 'rxjs';
import { joinWith } from './join.js';
import type { JoinOperator, StreamStreamJoinOptions, StreamTableJoinOptions } from './join/join-options.js';
import type { Table } from './join/table.js';
import type { DefaultKey } from './types.js';

export function leftJoin<T, K, V, O>(table: Table<K, V>, joiner: (record: T, value: V | null) => O, options?: StreamTableJoinOptions<T, K>): OperatorFunction<T, O>;
export function leftJoin<L, R, O, K = DefaultKey<L>>(
  other: Observable<R>,
  joiner: (left: L, right: R | null) => O,
  options: StreamStreamJoinOptions<L, R, K>,
): JoinOperator<L, R, O>;
export function leftJoin(
  target: Table<unknown, unknown> | Observable<unknown>,
  joiner: (left: unknown, right: unknown) => unknown,
  options?: StreamTableJoinOptions<unknown, unknown> | StreamStreamJoinOptions<unknown, unknown, unknown>,
): OperatorFunction<unknown, unknown> {
  return joinWith(target, joiner, options, true, 'leftJoin');
}
