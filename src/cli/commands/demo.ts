/**
 * `tributary demo`: the demo of `npm start` (examples/demo.ts), run by the CLI. Both call the
 * demo's `runDemo`, so they are the same program.
 */
import { pathToFileURL } from 'node:url';
import { defineCommand } from '../command.js';
import { parseInteger } from '../data-dir.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { checkoutFile } from '../source-checkout.js';

/** What the CLI needs of examples/demo.ts, which is outside the compiled package and so is loaded by path. */
interface DemoModule {
  runDemo(options: { dir?: string; threads?: number; events?: number; reset?: boolean; signal?: AbortSignal; out?: Output }): Promise<object>;
}

export default defineCommand({
  usage: ['[--events N] [--reset] [--dir DIR] [--threads N] [--json]'],
  about:
    'Streams a seeded click stream (users, pages, referrers, out-of-order timestamps) through an 8-partition topic on an embedded ' +
    'runtime, produced and consumed at the same time, showing the rates in and out, the load of each worker thread and the busiest pages, ' +
    'then a summary. Ctrl-C stops it cleanly. The demo runs from the source checkout (examples/demo.ts, also npm start); with --json its summary goes to stdout.',
  flags: {
    events: { type: 'string', value: 'N', help: 'click events to stream (default 1,000,000)' },
    reset: { type: 'boolean', help: "delete the previous run's data first, instead of adding to it" },
  },
  dataDir: true,
  examples: ['tributary demo', 'tributary demo --events 200000 --threads 2 --dir /tmp/demo'],
  async run({ flags, out, signal }) {
    const events = flags.events === undefined ? undefined : parseInteger('--events', flags.events, 1);
    const threads = flags.threads === undefined ? undefined : parseInteger('--threads', flags.threads, 1);
    const demo = (await import(pathToFileURL(checkoutFile('examples/demo.ts', 'tributary demo')).href)) as DemoModule;
    const summary = await demo.runDemo({ dir: flags.dir, threads, events, reset: flags.reset, signal, out });
    if (out.json) await out.document(summary);
    return EXIT.OK;
  },
});
