/**
 * Every stream example runs with one command (`npx tsx examples/<name>.ts`, here `node --import
 * tsx`) and prints what its header comment says it prints: the data is seeded, so the output is
 * compared line by line with the "Expected output" block.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const EXAMPLES = ['page-views-per-minute', 'top-pages', 'user-sessions', 'enrich-clicks', 'page-counts'];

/** The lines of the header's "Expected output:" block. */
function expectedOutput(file: string): string[] {
  const header = fs.readFileSync(file, 'utf8').split('*/')[0];
  const block = header.split('Expected output:')[1];
  expect(block, `${file} has an "Expected output:" block`).toBeDefined();
  const lines = block.split('\n').map((line) => line.replace(/^ \* ?/, ''));
  const start = lines.findIndex((line) => line.trim() !== '');
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return lines.slice(start, end < 0 ? undefined : end).map((line) => line.replace(/^ {2}/, ''));
}

describe('stream examples', () => {
  for (const name of EXAMPLES) {
    it(`examples/${name}.ts prints its expected output`, async () => {
      const file = path.join(root, 'examples', `${name}.ts`);
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000 });
      expect(stdout.trimEnd().split('\n')).toEqual(expectedOutput(file));
    });
  }
});
