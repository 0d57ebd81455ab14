import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../src/runtime/id-table.js';

const run = promisify(execFile);
const retention = path.join(import.meta.dirname, 'fixtures', 'registry-retention.ts');

/** MB of ArrayBuffers a registry of the given kind leaves allocated after scavenges (see the fixture). */
async function retainedMb(kind: 'map' | 'id-table'): Promise<number> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', retention, kind], { timeout: 30_000 });
  return Number(stdout.trim());
}

type Op = { kind: 'set'; id: number; value: string } | { kind: 'delete'; id: number } | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), id: fc.nat(2000), value: fc.string() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat(2000) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

describe('IdTable', () => {
  it('behaves as a Map whose values are listed in ascending id order (model-based)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const table = new IdTable<string>();
        const model = new Map<number, string>();
        for (const step of ops) {
          if (step.kind === 'set') {
            table.set(step.id, step.value);
            model.set(step.id, step.value);
          } else if (step.kind === 'delete') {
            expect(table.delete(step.id)).toBe(model.delete(step.id));
          } else {
            table.clear();
            model.clear();
          }
          expect(table.size).toBe(model.size);
        }
        for (let id = 0; id <= 2000; id++) expect(table.get(id)).toBe(model.get(id));
        expect(table.values()).toEqual([...model.entries()].sort(([a], [b]) => a - b).map(([, value]) => value));
      }),
    );
  });

  it('lists calls made in sequence in the order they were made, and may change while that list is walked', () => {
    const table = new IdTable<{ id: number }>();
    // Ids far apart and many deleted, as a long-running registry's are, so the table is sparse.
    for (let id = 0; id < 100_000; id++) {
      table.set(id, { id });
      if (id % 1000 !== 0) table.delete(id);
    }
    const listed = table.values();
    expect(listed.map((entry) => entry.id)).toEqual(Array.from({ length: 100 }, (_, i) => i * 1000));
    for (const entry of listed) table.delete(entry.id);
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
  });

  it('keeps ids handed out in sequence in order past 2^32, where they stop being array indices', () => {
    const table = new IdTable<number>();
    const first = 2 ** 32 - 4;
    for (let id = first; id < first + 8; id++) table.set(id, id);
    table.delete(first + 1);
    expect(table.values()).toEqual([first, first + 2, first + 3, first + 4, first + 5, first + 6, first + 7]);
    expect(table.get(first + 5)).toBe(first + 5);
    expect(table.delete(first + 5)).toBe(true);
    expect(table.size).toBe(6);
  });

  it('lets scavenges free answered calls, where a Map churned the same way keeps them for a full collection', async () => {
    // 2,000 calls of 64 KiB each pass through the registry, ~131 MB in all; four are in flight at a time.
    const [withIdTable, withMap] = await Promise.all([retainedMb('id-table'), retainedMb('map')]);
    expect(withIdTable).toBeLessThan(8);
    // The control: the scenario is one where a Map does keep them (Node 20's V8 links a replaced
    // table to its successor: 64.8 MB here). Should an engine stop doing so, the IdTable bound
    // above is what is left to check.
    if (withMap <= 8) console.warn(`a Map no longer keeps answered calls here (${withMap} MB): the control shows nothing`);
    else expect(withMap).toBeGreaterThan(32);
  }, 60_000);
});
