/**
 * Bad command lines and failing operations end with one clear line on stderr, no stack trace,
 * and the documented exit code: 2 for a usage error (nothing done), 1 for a runtime error. The
 * table runs through `main()` in this process; a sample of each kind, and what needs a second
 * process (the directory lock), spawns the bin.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, type Tributary } from '../../src/index.js';
import { oneLineError, runCli, runMain } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cli-errors-'));
const at = ['--dir', dir, '--threads', '1'];
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('usage errors exit 2 and name the mistake', () => {
  it.each([
    [['topics', '--create', '--partitions', '2'], '--create needs --topic'],
    [['topics', '--list', '--dri', 'x'], 'unknown option --dri (did you mean --dir?)'],
    [['topics', '--create', '--topic', 'x', '--config', 'retention.mss=5'], 'unknown --config "retention.mss" (did you mean retention.ms?)'],
    [['topics', '--create', '--topic', 'x', '--config', 'retention.ms=soon'], 'Invalid topic config retention.ms: expected an integer, got string "soon" [INVALID_CONFIG]'],
    [['topics', '--create', '--topic', 'x', '--config', 'cleanup.policy'], '--config takes KEY=VALUE, got "cleanup.policy"'],
    [['topics', '--create', '--topic', 'x', '--config', 'flush=sometimes'], "Invalid topic option flush: expected one of 'never', 'interval', 'always'"],
    [['topics', '--create', '--topic', '--partitions', '3'], 'option --topic needs a value'],
    [['topics', '--create', '--topic', 'x', '--partitions', 'two'], '--partitions must be an integer >= 1, got "two"'],
    [['topics', '--list', '--describe'], 'choose one action, not --list and --describe'],
    [['topics', '--list', '--json=yes'], 'option --json takes no value'],
    [['topics', 'clicks'], 'unexpected argument "clicks"'],
    [['topic', '--list'], 'unknown command "topic" (did you mean topics?)'],
    [['console-producer', '--property', 'parse.key=true'], '--topic is required'],
    [['console-producer', '--topic', 't', '--property', 'parse.keys=true'], 'unknown --property "parse.keys" (did you mean parse.key?)'],
    [['console-producer', '--topic', 't', '--acks', '2'], '--acks must be -1 (or all), 0 or 1, got "2"'],
    [['console-consumer', '--topic', 't', '--offset', '5'], '--offset needs --partition'],
    [['console-consumer', '--topic', 't', '--property', 'print.key=yes'], '--property print.key must be true or false, got "yes"'],
    [['dump-log'], 'name the files to dump, or --topic and --partition'],
    [['bench', 'logs'], 'unknown benchmark "logs" (did you mean log?)'],
  ])('%j', async (args, message) => {
    const line = oneLineError(await runMain([...args, ...at]), 2);
    expect(line).toContain(message);
    expect(line).toContain('--help)');
  });

  it('exits 2 from the bin too', async () => {
    expect(oneLineError(await runCli(['topics', '--create', '--topic', 'x', '--config', 'retention.mss=5', ...at]), 2)).toContain('did you mean retention.ms?');
    expect(oneLineError(await runCli(['topics', '--lst']), 2)).toContain('unknown option --lst (did you mean --list?)');
  });
});

describe('runtime errors exit 1 with the error code', () => {
  beforeAll(async () => {
    const created = await runCli(['topics', '--create', '--topic', 'present', ...at]);
    expect(created.code, created.stderr).toBe(0);
  });

  it('names an unknown topic, for every command that takes one', async () => {
    for (const args of [
      ['topics', '--describe', '--topic', 'absent'],
      ['topics', '--delete', '--topic', 'absent'],
      ['topics', '--alter', '--topic', 'absent', '--partitions', '2'],
      ['console-producer', '--topic', 'absent'],
      ['console-consumer', '--topic', 'absent'],
    ]) {
      expect(oneLineError(await runMain([...args, ...at]), 1)).toBe('error: Topic "absent" does not exist [UNKNOWN_TOPIC_OR_PARTITION]');
    }
    expect(oneLineError(await runCli(['console-consumer', '--topic', 'absent', ...at]), 1)).toBe('error: Topic "absent" does not exist [UNKNOWN_TOPIC_OR_PARTITION]');
  });

  it('reports an error as JSON with --json', async () => {
    const result = await runMain(['topics', '--create', '--topic', 'present', '--json', ...at]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stderr)).toEqual({
      error: { message: 'Topic "present" already exists [TOPIC_ALREADY_EXISTS]', code: 'TOPIC_ALREADY_EXISTS', exitCode: 1, details: { topic: 'present' } },
    });
  });

  it('refuses a directory that does not exist for a command that only reads', async () => {
    const line = oneLineError(await runMain(['topics', '--list', '--dir', path.join(dir, 'missing')]), 1);
    expect(line).toContain('no data directory at');
  });

  it('tells the user what to do when an application holds the directory', async () => {
    let rt: Tributary | undefined;
    try {
      rt = await open({ dir, threads: 1 });
      const line = oneLineError(await runCli(['topics', '--list', ...at]), 1);
      expect(line).toContain(`is locked by process ${process.pid}`);
      expect(line).toContain('[DIR_LOCKED]; the CLI opens the data directory itself, so stop the application that has it open');
    } finally {
      await rt?.close();
    }
  });

  it('prints the stack trace only with --verbose', async () => {
    const result = await runMain(['topics', '--describe', '--topic', 'absent', '--verbose', ...at]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Topic "absent" does not exist \[UNKNOWN_TOPIC_OR_PARTITION\]\nTributaryError: .*\n\s+at /);
  });
});
