import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/client/fifo.js';

describe('Fifo', () => {
  it('hands items out in the order they went in (model-based, through its compactions)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.constant('shift' as const), fc.constant('peek' as const)), { maxLength: 5000 }), (ops) => {
        const fifo = new Fifo<number>();
        const model: number[] = [];
        for (const op of ops) {
          if (op === 'shift') expect(fifo.shift()).toBe(model.shift());
          else if (op === 'peek') expect(fifo.peek()).toBe(model[0]);
          else {
            fifo.push(op);
            model.push(op);
          }
          expect(fifo.length).toBe(model.length);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('keeps order across the compaction of a long queue', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 5000; i++) fifo.push(i);
    for (let i = 0; i < 3000; i++) expect(fifo.shift()).toBe(i);
    for (let i = 5000; i < 6000; i++) fifo.push(i);
    const rest: number[] = [];
    for (let item = fifo.shift(); item !== undefined; item = fifo.shift()) rest.push(item);
    expect(rest).toEqual(Array.from({ length: 3000 }, (_, i) => 3000 + i));
    expect(fifo.length).toBe(0);
    expect(fifo.peek()).toBeUndefined();
  });
});
