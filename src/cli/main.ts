/**
 * `tributary`, the command line: `main(args)` runs one subcommand and resolves with its exit code
 * (see exit-codes.ts). `bin/tributary.mjs` calls it with the process's arguments.
 *
 * Every failure ends as one line on stderr: `error: <message>`, where a runtime error's message
 * carries its code (`error: Topic "x" does not exist [UNKNOWN_TOPIC_OR_PARTITION]`), or one JSON
 * object with `--json`; `--verbose` adds the stack trace. Ctrl-C asks the command to finish
 * cleanly (a second one exits at once).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closest } from '../runtime/options.js';
import { commandHelp, parseCommandLine, wrap } from './command.js';
import { UsageError, describeFailure } from './errors.js';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { Output } from './output.js';
import { COMMANDS } from './registry.js';

export interface CliStreams {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function main(args: readonly string[], streams: CliStreams = process): Promise<number> {
  const [name, ...rest] = args;
  const json = rest.includes('--json');
  const out = new Output(streams.stdout as never, streams.stderr as never, json);
  if (name === undefined) {
    out.note(topLevelHelp());
    return EXIT.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    await out.write(topLevelHelp());
    return EXIT.OK;
  }
  if (name === '--version' || name === '-V') {
    await out.line(packageVersion());
    return EXIT.OK;
  }

  const controller = new AbortController();
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) process.exit(EXIT.INTERRUPTED);
    interrupted = true;
    out.note('interrupted: finishing cleanly (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  out.onClosed(() => controller.abort());
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (entry === undefined) {
      const suggestion = closest(name, Object.keys(COMMANDS));
      throw new UsageError(`unknown command ${JSON.stringify(name)}${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`);
    }
    const command = (await entry.load()).default;
    const { flags, positionals } = parseCommandLine(command, rest);
    if (flags.help) {
      await out.write(commandHelp(name, entry.summary, command));
      return EXIT.OK;
    }
    const code = await command.run({ name, flags: flags as never, positionals, args: rest, out, signal: controller.signal });
    return interrupted && code === EXIT.OK ? EXIT.INTERRUPTED : code;
  } catch (error) {
    const report = describeFailure(error, entry === undefined ? undefined : name);
    if (json) {
      out.note(JSON.stringify({ error: { message: report.message, code: report.code ?? null, exitCode: report.exitCode, details: report.details ?? {} } }));
    } else {
      out.note(`error: ${report.message}`);
    }
    if (rest.includes('--verbose') && error instanceof Error && error.stack !== undefined) out.note(error.stack);
    return report.exitCode;
  } finally {
    process.off('SIGINT', onInterrupt);
    await out.flush();
  }
}

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((command) => command.length)) + 2;
  return [
    'tributary: an embedded, Kafka-compatible log and stream-processing runtime, from the command line.',
    '',
    'Usage: tributary <command> [options]      (tributary <command> --help for its options)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([command, { summary }]) => `  ${command.padEnd(width)}${summary}`),
    '',
    ...wrap(
      'Commands that use a data directory take --dir (default ./.tributary) and open it as open() does, taking its lock: ' +
        'they cannot run while an application has the directory open. Every command takes --json, --verbose and --help.',
      100,
    ),
    ...wrap(EXIT_CODES_HELP, 100),
    '',
  ].join('\n');
}

/** The version in the package.json above this module (src/cli/ in a checkout, dist/src/cli/ in the package). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    const file = fileURLToPath(new URL(up, import.meta.url));
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'tributary' && pkg.version !== undefined) return pkg.version;
  }
  return 'unknown';
}
