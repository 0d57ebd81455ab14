/**
 * The benchmarks (`bench/`) and the demo (`examples/`) are TypeScript programs of the source
 * checkout, run through tsx; the published package carries neither. This finds the checkout from
 * this module's location (src/cli/ when run from source), or says what to do without one.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.js';

/** The absolute path of `relative` in the source checkout this CLI runs from; CliError if there is none. */
export function checkoutFile(relative: string, what: string): string {
  const file = fileURLToPath(new URL(`../../${relative}`, import.meta.url));
  if (!fs.existsSync(file)) {
    throw new CliError(`${what} runs from a source checkout, and ${file} is not there: clone the tributary repository, run npm install, then npm run tributary -- ...`);
  }
  return file;
}
