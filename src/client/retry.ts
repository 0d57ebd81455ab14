/**
 * Retry policy of the clients: KafkaJS's option names and meaning (`retries`, `initialRetryTime`,
 * `maxRetryTime`, `multiplier`, `factor`), so a KafkaJS `retry` object ports unchanged.
 *
 * The delay before retry n (n = 1 for the first retry) grows exponentially from
 * `initialRetryTime` by `multiplier`, is jittered by ±`factor` of itself so that many clients
 * failing together do not retry in lockstep, and never exceeds `maxRetryTime`.
 */
import { defineOptions, type Options } from '../runtime/options.js';

const isRandomSource = (value: unknown): value is () => number => typeof value === 'function';

export const parseRetryOptions = defineOptions('retry', {
  /** Retries after the first attempt; 0 disables retrying. */
  retries: { type: 'integer', min: 0, max: 1_000_000, default: 5 },
  /** Delay before the first retry, in milliseconds. */
  initialRetryTime: { type: 'integer', min: 0, max: 2_147_483_647, default: 100 },
  /** Upper bound of any one delay, in milliseconds. */
  maxRetryTime: { type: 'integer', min: 0, max: 2_147_483_647, default: 30_000 },
  /** Growth of the delay from one retry to the next. */
  multiplier: { type: 'number', min: 1, max: 1_000, default: 2 },
  /** Jitter: each delay is drawn uniformly from ±factor of its nominal value. */
  factor: { type: 'number', min: 0, max: 1, default: 0.2 },
  /** Uniform source in [0, 1) for the jitter; injectable so tests get exact delays. Default Math.random. */
  random: { type: 'custom', expected: 'a function returning a number in [0, 1)', is: isRandomSource, default: undefined },
});

export type RetryOptions = Options<typeof parseRetryOptions.schema>;

/** Milliseconds to wait before retry number `retry` (1-based). */
export function retryDelayMs(retry: number, options: RetryOptions): number {
  const nominal = Math.min(options.maxRetryTime, options.initialRetryTime * options.multiplier ** (retry - 1));
  const random = options.random ?? Math.random;
  const jittered = nominal * (1 - options.factor + 2 * options.factor * random());
  return Math.round(Math.min(options.maxRetryTime, jittered));
}
