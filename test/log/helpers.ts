/**
 * Shared pieces of the log tests: temporary directories removed after each test, and (from
 * records.ts) deterministic record contents and segment-file walks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

export { SeededRandom } from '../../src/workload/random.js';
export * from './records.js';

/** Registers an afterEach that removes every directory this returns. */
export function tempDirs(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-log-'));
    dirs.push(dir);
    return dir;
  };
}
