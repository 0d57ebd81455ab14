/**
 * Durations in stream options: a number of milliseconds, or a string of a number and a unit
 * (`'250ms'`, `'30s'`, `'1.5m'`, `'2h'`, `'1d'`). Every duration resolves to a whole, non-negative
 * number of milliseconds, because event times are integer epoch milliseconds (as in Kafka), and a
 * window bound between two milliseconds would match no record.
 */
import { TributaryError } from '../errors.js';
import { describeValue, type CustomField } from '../runtime/options.js';

export type Duration = number | `${number}${DurationUnit}`;
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Readonly<Record<DurationUnit, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const EXPECTED = "a duration: whole milliseconds >= 0, or a string such as '250ms', '30s', '1m', '2h', '1d'";

/** The milliseconds `value` stands for, or undefined when it is not a valid duration. */
function toMillis(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION_PATTERN.exec(value);
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

export function isDuration(value: unknown): value is Duration {
  return toMillis(value) !== undefined;
}

/**
 * Milliseconds of a duration. `what` names the value in the error ("tumbling size"), which is
 * INVALID_CONFIG naming the bad value; `min` rejects durations that are valid but too short (a
 * window size of 0).
 */
export function parseDuration(value: unknown, what: string, min = 0): number {
  const ms = toMillis(value);
  if (ms === undefined || ms < min) {
    const expected = min > 0 ? `${EXPECTED}, at least ${min} ms` : EXPECTED;
    throw new TributaryError('INVALID_CONFIG', `Invalid ${what}: expected ${expected}, got ${describeValue(value)}`, {
      field: what,
      value: typeof value === 'number' || typeof value === 'string' ? value : describeValue(value),
    });
  }
  return ms;
}

/** A `defineOptions` field holding a duration; parse it with `parseDuration` after validation. */
export function durationField<D extends Duration | undefined>(defaultValue: D): CustomField<Duration> {
  return { type: 'custom', expected: EXPECTED, is: isDuration, default: defaultValue };
}
