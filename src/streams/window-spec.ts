/**
 * The four kinds of event-time windows, as Kafka Streams defines them. Each function validates its
 * durations (INVALID_CONFIG naming the bad value) and returns a plain description; `window()`
 * applies it.
 *
 * - `tumbling(size)`: fixed, non-overlapping windows `[n*size, (n+1)*size)`, aligned to the epoch.
 * - `hopping(size, advance)`: fixed windows of `size` starting every `advance` (a record falls in
 *   `size / advance` of them), aligned to the epoch; `advance <= size`.
 * - `sliding(maxDifference)`: Kafka Streams' SlidingWindows (KIP-450): two records are in a common
 *   window when their times differ by at most `maxDifference`. Kafka's windows are closed at both
 *   ends, `[start, start + maxDifference]`; here they are written half-open like every other
 *   window, `[start, start + maxDifference + 1)`, the same set of milliseconds. As in Kafka only
 *   the windows that hold a distinct set of records exist: for each record at t, the window ending
 *   at t, and the window starting at t + 1 when a later record falls in it.
 * - `session(gap)`: per key, records less than or exactly `gap` apart form one session; a
 *   session's window runs from its first to its last event time, both included.
 */
import { TributaryError } from '../errors.js';
import { describeValue } from '../runtime/options.js';
import { parseDuration, type Duration } from './duration.js';

export interface FixedWindows {
  readonly kind: 'tumbling' | 'hopping';
  readonly size: number;
  readonly advance: number;
}

export interface SlidingWindows {
  readonly kind: 'sliding';
  readonly maxDifference: number;
}

export interface SessionWindows {
  readonly kind: 'session';
  readonly gap: number;
}

export type WindowSpec = FixedWindows | SlidingWindows | SessionWindows;

export function tumbling(size: Duration): FixedWindows {
  const ms = parseDuration(size, 'tumbling window size', 1);
  return { kind: 'tumbling', size: ms, advance: ms };
}

export function hopping(size: Duration, advance: Duration): FixedWindows {
  const sizeMs = parseDuration(size, 'hopping window size', 1);
  const advanceMs = parseDuration(advance, 'hopping window advance', 1);
  if (advanceMs > sizeMs) {
    throw new TributaryError('INVALID_CONFIG', `Invalid hopping window advance: expected at most the size (${sizeMs} ms), got ${describeValue(advance)}`, {
      field: 'hopping window advance',
      value: advanceMs,
    });
  }
  return { kind: 'hopping', size: sizeMs, advance: advanceMs };
}

export function sliding(maxDifference: Duration): SlidingWindows {
  return { kind: 'sliding', maxDifference: parseDuration(maxDifference, 'sliding window maxDifference') };
}

export function session(gap: Duration): SessionWindows {
  return { kind: 'session', gap: parseDuration(gap, 'session window gap', 1) };
}

export function isWindowSpec(value: unknown): value is WindowSpec {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'tumbling' || kind === 'hopping' || kind === 'sliding' || kind === 'session';
}
