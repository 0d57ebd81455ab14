/**
 * The command-line parser and help every subcommand shares, in process; and the registry: every
 * command loads and its help renders, as `tributary <command> --help` prints it.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { commandHelp, defineCommand, parseCommandLine } from '../../src/cli/command.js';
import { UsageError } from '../../src/cli/errors.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { Output } from '../../src/cli/output.js';
import { Progress } from '../../src/cli/progress.js';
import { COMMANDS } from '../../src/cli/registry.js';

const command = defineCommand({
  usage: ['--topic TOPIC [--config KEY=VALUE ...]'],
  about: 'A command for the tests.',
  flags: {
    topic: { type: 'string', value: 'TOPIC', help: 'the topic' },
    config: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'a setting' },
    force: { type: 'boolean', help: 'do it' },
  },
  dataDir: true,
  async run() {
    return EXIT.OK;
  },
});

describe('parseCommandLine', () => {
  it('parses values, repeated options, switches and defaults', () => {
    const { flags, positionals } = parseCommandLine(command, ['--topic=clicks', '--config', 'a=1', '--config', 'b=2', '--force', '--dir', '/data']);
    expect(flags).toMatchObject({ topic: 'clicks', config: ['a=1', 'b=2'], force: true, dir: '/data', threads: undefined, json: false, verbose: false, help: false });
    expect(positionals).toEqual([]);
    expect(parseCommandLine(command, []).flags).toMatchObject({ topic: undefined, config: [], force: false, dir: './.tributary' });
    expect(parseCommandLine(command, ['-h']).flags.help).toBe(true);
  });

  it.each([
    [['--topik', 'x'], 'unknown option --topik (did you mean --topic?)'],
    [['-x'], 'unknown option -x'],
    [['--topic'], 'option --topic needs a value (--topic TOPIC)'],
    [['--topic', '--force'], 'option --topic needs a value (--topic TOPIC)'],
    [['--force=yes'], 'option --force takes no value'],
    [['--topic', 'a', '--topic', 'b'], 'option --topic is given more than once'],
    [['stray'], 'unexpected argument "stray"'],
  ])('%j is a usage error', (args, message) => {
    expect(() => parseCommandLine(command, args)).toThrow(new UsageError(message));
  });

  it('takes a value that merely starts with a dash, such as a negative number', () => {
    expect(parseCommandLine(command, ['--topic', '-1']).flags.topic).toBe('-1');
  });
});

describe('help', () => {
  it('lists usage, every option with its placeholder, and the exit codes', () => {
    const help = commandHelp('test', 'what it does', command);
    expect(help).toContain('tributary test: what it does\n\nUsage:\n  tributary test --topic TOPIC [--config KEY=VALUE ...]\n');
    expect(help).toMatch(/\n {2}--config KEY=VALUE +a setting \(repeatable\)\n/);
    expect(help).toMatch(/\n {2}--dir DIR +the data directory/);
    expect(help).toMatch(/\n {2}-h, --help +show this help\n/);
    expect(help).toContain('Exit codes: 0 done; 1 failed');
  });

  it('renders for every registered command', async () => {
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const help = commandHelp(name, entry.summary, (await entry.load()).default);
      expect(help.startsWith(`tributary ${name}: ${entry.summary}\n`)).toBe(true);
      expect(help.split('\n').every((line) => line.length <= 100 || line.startsWith(' '))).toBe(true);
    }
  });

  it("shows, for bench, what each benchmark measures and its options, from the benchmark's own comment", async () => {
    const help = commandHelp('bench', COMMANDS.bench.summary, (await COMMANDS.bench.load()).default);
    for (const text of ['produce-consume:\n', 'log:\n', 'scaling:\n', 'npm run bench:log [-- --records 500000 --repeats 3]', '--max-threads']) expect(help).toContain(text);
  });
});

describe('Progress', () => {
  it('draws nothing unless stderr is a terminal', () => {
    const stderr = new PassThrough();
    const progress = Progress.start(new Output(new PassThrough(), stderr, false), 'produce', 1000, { unit: 'bytes' });
    progress.update(500);
    progress.stop();
    expect(stderr.read()).toBeNull();
  });

  it('draws a bar with the amount done and live rates on a terminal', () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const progress = Progress.start(new Output(new PassThrough(), stderr, false), 'produce', 2_000_000, { unit: 'bytes', itemUnit: 'records' });
    progress.update(1_000_000, 10_000);
    progress.stop();
    const drawn = String(stderr.read());
    expect(drawn).toMatch(/produce \[[^\]]+\] 50% \| 1\.0 MB\/2\.0 MB \| [\d.]+[kM]? records\/s [\d.]+ [kMG]?B\/s \| ETA/);
  });
});
