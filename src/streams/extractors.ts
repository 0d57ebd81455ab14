/**
 * The default key and event-time extractors, and the check every event time passes: operators
 * read `record.key` and `record.timestamp` unless told otherwise, so they work on `StreamRecord`s
 * and on any plain object shaped like one.
 */
import { TributaryError } from '../errors.js';
import { describeValue } from '../runtime/options.js';

export function recordKey(record: unknown): unknown {
  return (record as { key?: unknown }).key;
}

export function recordTimestamp(record: unknown): number {
  return (record as { timestamp: number }).timestamp;
}

/**
 * Fails the stream on an event time that is not an integer number of epoch milliseconds: window
 * bounds are integers, and a NaN would silently fall in no window.
 */
export function checkEventTime(timestamp: number): number {
  if (!Number.isSafeInteger(timestamp)) {
    throw new TributaryError('INVALID_RECORD', `Event time must be an integer number of epoch milliseconds, got ${describeValue(timestamp)}`, {
      timestamp: describeValue(timestamp),
    });
  }
  return timestamp;
}

export function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}
