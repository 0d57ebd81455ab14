/**
 * The subcommands of `tributary`, named like Kafka's tools (`kafka-topics`, `kafka-console-producer`,
 * ...). Adding one is a module under `commands/` plus its line here; modules load only when their
 * command runs, so `tributary topics --list` never loads the benchmark runner.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  /** One line, shown by `tributary --help` and at the top of the command's own help. */
  readonly summary: string;
  readonly load: () => Promise<{ readonly default: Command }>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  topics: { summary: 'create, list, describe, alter and delete topics (kafka-topics)', load: () => import('./commands/topics.js') },
  'console-producer': { summary: 'produce lines from stdin or a file as records (kafka-console-producer)', load: () => import('./commands/console-producer.js') },
  'console-consumer': { summary: 'print the records of a topic, one per line (kafka-console-consumer)', load: () => import('./commands/console-consumer.js') },
  'consumer-groups': { summary: 'list, describe, reset and delete consumer groups (kafka-consumer-groups)', load: () => import('./commands/consumer-groups.js') },
  'dump-log': { summary: 'print segment and index files: batches, records, CRC checks (kafka-dump-log)', load: () => import('./commands/dump-log.js') },
  run: { summary: 'run a stream-processing pipeline module on the worker threads (rt.run)', load: () => import('./commands/run.js') },
  bench: { summary: 'run a benchmark: log, produce-consume or scaling', load: () => import('./commands/bench.js') },
  demo: { summary: 'stream click events through an embedded runtime and show what happens', load: () => import('./commands/demo.js') },
};
