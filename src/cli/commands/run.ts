/**
 * `tributary run <pipeline module>`: runs a stream-processing pipeline as `rt.run` does — one
 * stream task per worker thread (or `--parallelism`), each reading the input partitions its own
 * thread hosts, committing its input offsets after its outputs are acknowledged — until every
 * task completes (bounded sources) or Ctrl-C stops them cleanly. A second run of the same
 * pipeline (same `--name`) resumes from the committed offsets, with its state stores restored.
 */
import { addAbortListener } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Tributary } from '../../tributary.js';
import { defineCommand } from '../command.js';
import { parseInteger, withRuntime } from '../data-dir.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatCount, formatSeconds } from '../format.js';
import type { Output } from '../output.js';

/** How often the live status line is redrawn. */
const STATUS_INTERVAL_MS = 1000;

export default defineCommand({
  usage: ['<pipeline module> [--name NAME] [--parallelism N] [--commit-interval-ms MS] [--dir DIR] [--threads N] [--json]'],
  about:
    "Runs a pipeline module (its default export builds the pipeline from source(), operators and sink()) as stream tasks on the runtime's worker threads, " +
    'as rt.run does: one task per thread unless --parallelism, each next to the input partitions it reads. The tasks form the consumer group NAME ' +
    '(default: the module file name) and commit their input offsets once the outputs they caused are acknowledged, so a second run resumes where this one ' +
    'stopped, with its state stores restored from their changelogs. On a terminal it shows each task and the group lag, live. It ends when every task has ' +
    "completed (bounded sources, `to: 'end'`); Ctrl-C stops the tasks cleanly: they commit and leave.",
  flags: {
    name: { type: 'string', value: 'NAME', help: "the run's name: its consumer group and changelog topics (default: the module's file name)" },
    parallelism: { type: 'string', value: 'N', help: 'stream tasks (default one per worker thread)' },
    'commit-interval-ms': { type: 'string', value: 'MS', help: 'how often tasks commit (default 30000, as Kafka Streams)' },
  },
  positionals: '<pipeline module>',
  dataDir: true,
  examples: ['tributary run examples/pipelines/user-sessions.ts', 'tributary run ./page-views.ts --name page-views --parallelism 4'],
  async run({ flags, positionals, out, signal }) {
    if (positionals.length !== 1) throw new UsageError(`run takes one pipeline module, got ${positionals.length}`);
    const moduleUrl = pathToFileURL(path.resolve(positionals[0])).href;
    const options = {
      ...(flags.name === undefined ? {} : { name: flags.name }),
      ...(flags.parallelism === undefined ? {} : { parallelism: parseInteger('--parallelism', flags.parallelism, 1) }),
      ...(flags['commit-interval-ms'] === undefined ? {} : { commitIntervalMs: parseInteger('--commit-interval-ms', flags['commit-interval-ms'], 1) }),
    };
    return withRuntime(flags, false, async (rt) => {
      const started = performance.now();
      const run = await rt.run(moduleUrl, options);
      out.note(`run '${run.name}': ${run.tasks.map((task) => `task ${task.index} on thread ${task.slot}`).join(', ')}`);
      // Also when Ctrl-C came while the run was starting: the listener then runs at once.
      const stopOnAbort = addAbortListener(signal, () => void run.stop());
      const status = out.interactive ? setInterval(() => void drawStatus(rt, run.name, run.tasks, out), STATUS_INTERVAL_MS) : undefined;
      try {
        await run.done;
      } finally {
        clearInterval(status);
        stopOnAbort[Symbol.dispose]();
        if (out.interactive) out.progressStream.write('\r\x1b[K');
      }
      const group = await rt.admin.describeGroup(run.name);
      const summary = {
        name: run.name,
        seconds: (performance.now() - started) / 1000,
        tasks: run.tasks.map(({ index, slot, state, restarts }) => ({ index, slot, state, restarts })),
        lag: group.totalLag,
        committed: group.partitions.map(({ topic, partition, committedOffset, logEndOffset }) => ({ topic, partition, committedOffset, logEndOffset })),
      };
      if (out.json) await out.document(summary);
      else {
        const states = summary.tasks.map((task) => `task ${task.index}: ${task.state}${task.restarts > 0 ? ` (restarted ${task.restarts}x)` : ''}`).join(', ');
        await out.line(`run '${run.name}' ${signal.aborted ? 'stopped' : 'done'} after ${formatSeconds(summary.seconds)}: ${states}; lag ${formatCount(summary.lag)}`);
      }
      return signal.aborted ? EXIT.INTERRUPTED : EXIT.OK;
    });
  },
});

/** One status line on the terminal: each task's state and the group's lag as of its last commit. */
async function drawStatus(rt: Tributary, name: string, tasks: readonly { index: number; state: string }[], out: Output): Promise<void> {
  const group = await rt.admin.describeGroup(name).catch(() => undefined);
  const lag = group === undefined ? '?' : formatCount(group.totalLag);
  out.progressStream.write(`\r\x1b[K${tasks.map((task) => `task ${task.index} ${task.state}`).join(' | ')} | lag ${lag} (at the last commit)`);
}
