/**
 * Drives the operators one record at a time, so each output can be attributed to the arrival
 * that caused it, and shapes the results like the model's (test/streams/window-oracle.ts).
 */
import fc from 'fast-check';
import { Subject, type OperatorFunction } from 'rxjs';
import { aggregate } from '../../src/streams/aggregate.js';
import type { WindowEvent } from '../../src/streams/events.js';
import type { WindowResult } from '../../src/streams/types.js';
import { window } from '../../src/streams/window.js';
import { hopping, session, sliding, tumbling, type WindowSpec } from '../../src/streams/window-spec.js';
import type { Event, ModelConfig, ModelResult, ModelStep } from './window-oracle.js';

/** Collects the ids of a window's records: the most telling aggregate, since any misplaced record shows. */
export const collectIds = () =>
  aggregate(
    () => [] as number[],
    (ids: number[], event: Event) => [...ids, event.id],
    (left, right) => [...left, ...right],
  ) as OperatorFunction<WindowEvent<Event, string>, WindowResult<string, number[]>>;

/** Runs `events` through window() and the aggregation, one step per arrival plus one for completion. */
export function runWindows<R>(
  events: readonly Event[],
  config: ModelConfig,
  aggregation: OperatorFunction<WindowEvent<Event, string>, WindowResult<string, R>>,
): Array<{ results: WindowResult<string, R>[]; late: number[] }> {
  const input = new Subject<Event>();
  const windowed = window<Event, string>(config.spec, { grace: config.grace, maxOutOfOrderness: config.maxOutOfOrderness, emit: config.emit });
  const steps: Array<{ results: WindowResult<string, R>[]; late: number[] }> = [];
  let current = { results: [] as WindowResult<string, R>[], late: [] as number[] };
  let failure: unknown;
  windowed.late$.subscribe((event) => current.late.push(event.id));
  input.pipe(windowed, aggregation).subscribe({ next: (result) => current.results.push(result), error: (error: unknown) => (failure = error) });
  for (const event of [...events, undefined]) {
    if (event === undefined) input.complete();
    else input.next(event);
    if (failure !== undefined) throw failure;
    steps.push(current);
    current = { results: [], late: [] };
  }
  return steps;
}

export function asModelSteps(steps: ReturnType<typeof runWindows<number[]>>): ModelStep[] {
  return steps.map(({ results, late }) => ({
    results: results.map(
      (r): ModelResult => ({ key: r.key, start: r.window.start, end: r.window.end, ids: [...r.value].sort((a, b) => a - b), final: r.final }),
    ),
    late,
  }));
}

/** Events with mostly increasing times, some of them late by up to `maxLateness`, over a few keys. */
export const arbEvents = (maxLateness: number, maxLength = 60) =>
  fc
    .array(
      fc.record({
        key: fc.constantFrom('a', 'b', 'c'),
        step: fc.integer({ min: 0, max: 25 }),
        lateness: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: maxLateness }) }),
      }),
      { maxLength },
    )
    .map((draws) => {
      let now = 0;
      return draws.map(({ key, step, lateness }, id): Event => {
        now += step;
        return { id, key, timestamp: now - lateness };
      });
    });

export const arbSpec = (kind: WindowSpec['kind']): fc.Arbitrary<WindowSpec> => {
  switch (kind) {
    case 'tumbling':
      return fc.integer({ min: 1, max: 100 }).map((size) => tumbling(size));
    case 'hopping':
      return fc
        .integer({ min: 1, max: 100 })
        .chain((size) => fc.integer({ min: 1, max: size }).map((advance) => hopping(size, advance)));
    case 'sliding':
      return fc.integer({ min: 0, max: 80 }).map((difference) => sliding(difference));
    case 'session':
      return fc.integer({ min: 1, max: 60 }).map((gap) => session(gap));
  }
};

export const arbConfig = (kind: WindowSpec['kind'], emit: 'final' | 'update'): fc.Arbitrary<ModelConfig> =>
  fc.record({
    spec: arbSpec(kind),
    grace: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
    maxOutOfOrderness: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
    emit: fc.constant(emit),
  });
