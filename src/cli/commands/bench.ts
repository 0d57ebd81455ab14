/**
 * `tributary bench`: runs one of the benchmarks in `bench/` (the same programs as `npm run
 * bench`, `bench:log`, `bench:scaling`, ...) in a child process, forwarding its arguments. Each
 * benchmark draws its own progress line with the rate it measures, prints its table, and writes
 * its JSON under bench/results/; with `--json` the table goes to stderr and that JSON to stdout.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { closest } from '../../runtime/options.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { checkoutFile } from '../source-checkout.js';

interface Benchmark {
  readonly file: string;
  /** The name it writes its results under, bench/results/<name>.json. */
  readonly results: string;
}

const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  'produce-consume': { file: 'bench/produce-consume.ts', results: 'produce-consume' },
  log: { file: 'bench/log.ts', results: 'log' },
  scaling: { file: 'bench/partition-scaling.ts', results: 'partition-scaling' },
  'producer-path': { file: 'bench/producer-path.ts', results: 'producer-path' },
  rebalance: { file: 'bench/rebalance.ts', results: 'rebalance' },
  'windowed-count': { file: 'bench/windowed-count.ts', results: 'windowed-count' },
  'windowed-count-operators': { file: 'bench/windowed-count-operators.ts', results: 'windowed-count-operators' },
  repartition: { file: 'bench/repartition.ts', results: 'repartition' },
};
const DEFAULT = 'produce-consume';
/** Our flags, which the benchmark never sees. */
const OWN_FLAGS = ['--json', '--verbose'];

export default defineCommand({
  usage: ['[produce-consume|log|scaling|producer-path|rebalance|windowed-count|windowed-count-operators|repartition] [BENCHMARK OPTIONS...] [--json]'],
  about:
    `Runs a benchmark (default ${DEFAULT}) with the options given after its name, e.g. 'tributary bench log --records 100000 --repeats 1'. ` +
    'The benchmarks need the source checkout (they are not in the published package). What each measures, and its options:\n\n' +
    Object.entries(BENCHMARKS)
      .map(([name, { file }]) => `${name}:\n${headerComment(file)}`)
      .join('\n\n'),
  flags: {},
  rawArgs: true,
  examples: ['tributary bench', 'tributary bench scaling --records 100000 --max-threads 2', 'tributary bench log --records 100000 --repeats 1 --json'],
  async run({ args, out, signal }) {
    const [first, ...rest] = args;
    const named = first !== undefined && !first.startsWith('-');
    const name = named ? first : DEFAULT;
    if (!Object.hasOwn(BENCHMARKS, name)) {
      const suggestion = closest(name, Object.keys(BENCHMARKS));
      throw new UsageError(`unknown benchmark ${JSON.stringify(name)}${suggestion === undefined ? `; choose ${Object.keys(BENCHMARKS).join(', ')}` : ` (did you mean ${suggestion}?)`}`);
    }
    const benchmark = BENCHMARKS[name];
    const file = checkoutFile(benchmark.file, 'tributary bench');
    const root = path.resolve(path.dirname(file), '..');
    const forwarded = (named ? rest : args).filter((arg) => !OWN_FLAGS.includes(arg));
    // Ctrl-C reaches the benchmark too (same terminal process group); it is waited for, not killed.
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', file, ...forwarded], { cwd: root, stdio: ['ignore', out.json ? 2 : 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (status, killedBy) => resolve(killedBy === 'SIGINT' || signal.aborted ? EXIT.INTERRUPTED : (status ?? EXIT.FAILED)));
    });
    if (code !== EXIT.OK) return code;
    if (out.json) await out.write(fs.readFileSync(path.join(root, 'bench', 'results', `${benchmark.results}.json`), 'utf8'));
    return EXIT.OK;
  },
});

/** The benchmark's leading doc comment, which says what it measures and how to run it; empty without a checkout. */
function headerComment(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(checkoutFile(file, 'tributary bench'), 'utf8');
  } catch {
    return '  (not available: no source checkout)';
  }
  const match = /^\/\*\*\n([\s\S]*?)\*\//.exec(text);
  return match === null ? '' : match[1].split('\n').map((line) => `  ${line.replace(/^ \* ?/, '').replace(/^ \*$/, '')}`).join('\n').trimEnd();
}
