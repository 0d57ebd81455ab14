/**
 * The command-line options shared by the `rt.run` benchmarks (windowed-count.ts, repartition.ts):
 * `--events`, `--repeats` (default 3), `--partitions` (default 8) and `--max-threads` (default the
 * core count, which also caps it), as numbers, and the thread counts to measure, 1 … max.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';

export interface RunBenchArgs {
  readonly events: number;
  readonly repeats: number;
  readonly partitions: number;
  readonly threadCounts: readonly number[];
  readonly cores: number;
}

export function runBenchArgs(defaultEvents: number): RunBenchArgs {
  const cores = os.availableParallelism();
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: String(defaultEvents) },
      repeats: { type: 'string', default: '3' },
      partitions: { type: 'string', default: '8' },
      'max-threads': { type: 'string', default: String(cores) },
    },
  });
  const maxThreads = Math.min(Number(values['max-threads']), cores);
  return {
    events: Number(values.events),
    repeats: Number(values.repeats),
    partitions: Number(values.partitions),
    threadCounts: Array.from({ length: maxThreads }, (_, i) => i + 1),
    cores,
  };
}
