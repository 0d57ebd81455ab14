/**
 * Window results against the brute-force model (window-oracle.ts): seeded random event sets with
 * out-of-order and late events, for every window type and both emit modes, arrival by arrival,
 * including what goes to late$ and what the end of input flushes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WindowSpec } from '../../src/streams/window-spec.js';
import { arbConfig, arbEvents, asModelSteps, collectIds, runWindows } from './harness.js';
import { canonical, modelWindows, type Event } from './window-oracle.js';

const KINDS: WindowSpec['kind'][] = ['tumbling', 'hopping', 'sliding', 'session'];

describe.each(KINDS)('%s windows match the model', (kind) => {
  it.each(['final', 'update'] as const)('emit %s', (emit) => {
    fc.assert(
      fc.property(arbEvents(150), arbConfig(kind, emit), (events: Event[], config) => {
        const expected = modelWindows(events, config);
        const actual = asModelSteps(runWindows(events, config, collectIds()));
        expect(actual.map((s) => s.late)).toEqual(expected.map((s) => s.late));
        expect(actual.map((s) => canonical(s.results))).toEqual(expected.map((s) => canonical(s.results)));
      }),
      { seed: KINDS.indexOf(kind) * 2 + (emit === 'final' ? 1 : 2), numRuns: 300 },
    );
  });
});

describe('the model itself', () => {
  it('sees lateness: some generated runs have late records and all have results', () => {
    let late = 0;
    let results = 0;
    fc.assert(
      fc.property(arbEvents(150), arbConfig('tumbling', 'final'), (events, config) => {
        const steps = modelWindows(events, config);
        late += steps.reduce((n, s) => n + s.late.length, 0);
        results += steps.reduce((n, s) => n + s.results.length, 0);
      }),
      { seed: 1, numRuns: 300 },
    );
    expect(late).toBeGreaterThan(100);
    expect(results).toBeGreaterThan(1000);
  });
});
