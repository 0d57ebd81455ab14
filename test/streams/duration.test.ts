import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { parseDuration } from '../../src/streams/duration.js';
import { hopping, session, sliding, tumbling } from '../../src/streams/window-spec.js';

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

describe('parseDuration', () => {
  it('reads whole milliseconds and number-unit strings', () => {
    expect(parseDuration(0, 'x')).toBe(0);
    expect(parseDuration(250, 'x')).toBe(250);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('1m', 'x')).toBe(60_000);
    expect(parseDuration('1.5m', 'x')).toBe(90_000);
    expect(parseDuration('2h', 'x')).toBe(7_200_000);
    expect(parseDuration('1d', 'x')).toBe(86_400_000);
  });

  it('reads back any whole duration written in any unit that divides it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(...(Object.keys(UNITS) as Array<keyof typeof UNITS>)), (n, unit) => {
        expect(parseDuration(`${n}${unit}`, 'x')).toBe(n * UNITS[unit]);
        expect(parseDuration(n * UNITS[unit], 'x')).toBe(n * UNITS[unit]);
      }),
      { seed: 31, numRuns: 300 },
    );
  });

  it('rejects anything else with INVALID_CONFIG naming the value', () => {
    const bad = fc.oneof(
      fc.string().filter((s) => !/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(s)),
      fc.double().filter((n) => !Number.isSafeInteger(n) || n < 0),
      fc.constantFrom<unknown>(null, undefined, {}, [], true, '1.0001ms', '-1s', ' 1s', '1 s', '1S', '1w', Infinity, 2 ** 53),
    );
    fc.assert(
      fc.property(bad, (value) => {
        let error: unknown;
        try {
          parseDuration(value, 'tumbling window size');
        } catch (caught) {
          error = caught;
        }
        expect(TributaryError.is(error, 'INVALID_CONFIG')).toBe(true);
        expect((error as Error).message).toContain('Invalid tumbling window size');
      }),
      { seed: 32, numRuns: 300 },
    );
    expect(() => parseDuration('3x', 'window option grace')).toThrow(/Invalid window option grace: expected a duration.*got string "3x"/);
  });

  it('enforces a minimum where a zero duration makes no sense', () => {
    expect(() => tumbling(0)).toThrow(/tumbling window size.*at least 1 ms.*got number 0/);
    expect(() => session('0s')).toThrow(/session window gap/);
    expect(() => hopping('1m', '2m')).toThrow(/hopping window advance: expected at most the size \(60000 ms\), got string "2m"/);
    expect(sliding(0)).toEqual({ kind: 'sliding', maxDifference: 0 });
    expect(hopping('1m', '15s')).toEqual({ kind: 'hopping', size: 60_000, advance: 15_000 });
  });
});
