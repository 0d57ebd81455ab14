/**
 * What a subcommand declares (its flags, usage and `run`), the one parser every command line goes
 * through, and the help text generated from the declaration. A subcommand is a module whose
 * default export is `defineCommand({...})`, listed in `registry.ts`.
 *
 * Parsing is `node:util` `parseArgs` in its token mode, checked here so that every mistake gets a
 * usage error naming it: an unknown option (with the option it probably meant), a missing value,
 * a value given to a switch, an option given twice, an argument the command does not take.
 */
import { parseArgs } from 'node:util';
import { closest } from '../runtime/options.js';
import { UsageError } from './errors.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import type { Output } from './output.js';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** May be given more than once; the values are collected in order. */
  readonly multiple?: boolean;
  /** The value's placeholder in help, e.g. `TOPIC`. */
  readonly value?: string;
  readonly help: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** Parsed flags: switches are booleans (false when absent), repeatable ones arrays, the rest strings or undefined. */
export type FlagValues<F extends FlagSpecs> = {
  readonly [K in keyof F]: F[K]['type'] extends 'boolean' ? boolean : F[K]['multiple'] extends true ? readonly string[] : string | undefined;
};

/** Flags every command has. */
const COMMON_FLAGS = {
  json: { type: 'boolean', help: 'print results as JSON for scripts (one document, or one JSON object per line for streams of records)' },
  verbose: { type: 'boolean', help: 'print stack traces with errors' },
  help: { type: 'boolean', help: 'show this help' },
} as const satisfies FlagSpecs;

/** Flags of commands that open a data directory. */
const DATA_DIR_FLAGS = {
  dir: { type: 'string', value: 'DIR', help: "the data directory (default ./.tributary, as open())" },
  threads: { type: 'string', value: 'N', help: 'worker threads hosting partitions (default one per core, as open()); placement follows it' },
} as const satisfies FlagSpecs;

export type CommonValues = FlagValues<typeof COMMON_FLAGS> & { readonly dir: string; readonly threads: string | undefined };

export interface CommandContext<F extends FlagSpecs> {
  /** The subcommand's name, for messages. */
  readonly name: string;
  readonly flags: FlagValues<F> & CommonValues;
  readonly positionals: readonly string[];
  /** The arguments after the subcommand's name, unparsed (for `rawArgs` commands). */
  readonly args: readonly string[];
  readonly out: Output;
  /** Aborted on Ctrl-C or when stdout's reader goes away: finish cleanly and return. */
  readonly signal: AbortSignal;
}

export interface Command<F extends FlagSpecs = FlagSpecs> {
  /** Usage lines, each following `tributary <name> `. */
  readonly usage: readonly string[];
  /** Paragraphs printed after the usage. */
  readonly about: string;
  readonly flags: F;
  /** How help names the positional arguments; undefined when the command takes none. */
  readonly positionals?: string;
  /** Opens a data directory: gets `--dir` and `--threads`. */
  readonly dataDir?: boolean;
  /** Gets its arguments unparsed in `args` (bench forwards them); only `--help` is recognised. */
  readonly rawArgs?: boolean;
  readonly examples?: readonly string[];
  run(context: CommandContext<F>): Promise<number>;
}

export function defineCommand<const F extends FlagSpecs>(command: Command<F>): Command<F> {
  return command;
}

function allFlags(command: Command): FlagSpecs {
  return { ...command.flags, ...(command.dataDir === true ? DATA_DIR_FLAGS : {}), ...COMMON_FLAGS };
}

export interface ParsedCommandLine {
  readonly flags: Record<string, unknown> & CommonValues;
  readonly positionals: readonly string[];
}

/** Parses a command's arguments; throws UsageError naming the first mistake. */
export function parseCommandLine(command: Command, args: readonly string[]): ParsedCommandLine {
  if (command.rawArgs === true) {
    const help = args.some((arg) => arg === '--help' || arg === '-h');
    return { flags: { help, json: args.includes('--json'), verbose: args.includes('--verbose'), dir: '', threads: undefined }, positionals: [] };
  }
  const specs = allFlags(command);
  const names = Object.keys(specs);
  const { tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type, ...(name === 'help' ? { short: 'h' } : {}) }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (command.positionals === undefined) throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}`);
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (spec === undefined) {
      const suggestion = token.rawName.startsWith('--') ? closest(token.name, names) : undefined;
      throw new UsageError(`unknown option ${token.rawName}${suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`}`);
    }
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`option --${token.name} takes no value`);
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    // parseArgs takes whatever follows as the value, even the next option: `--topic --partitions 3`.
    if (value === undefined || (!token.inlineValue && value.startsWith('--') && Object.hasOwn(specs, value.slice(2).split('=')[0]))) {
      throw new UsageError(`option --${token.name} needs a value${spec.value === undefined ? '' : ` (--${token.name} ${spec.value})`}`);
    }
    if (spec.multiple === true) {
      ((values[token.name] ??= []) as string[]).push(value);
    } else {
      if (values[token.name] !== undefined) throw new UsageError(`option --${token.name} is given more than once`);
      values[token.name] = value;
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (values[name] === undefined) values[name] = spec.type === 'boolean' ? false : spec.multiple === true ? [] : undefined;
  }
  values.dir ??= './.tributary';
  return { flags: values as ParsedCommandLine['flags'], positionals };
}

/** The help text of a command, generated from its declaration. */
export function commandHelp(name: string, summary: string, command: Command): string {
  const lines = [`tributary ${name}: ${summary}`, '', 'Usage:', ...command.usage.map((usage) => `  tributary ${name} ${usage}`), ''];
  lines.push(...wrap(command.about, 100), '');
  if (command.rawArgs !== true) {
    const specs = allFlags(command);
    const labels = Object.entries(specs).map(([flag, spec]) => `${flag === 'help' ? '-h, ' : ''}--${flag}${spec.value === undefined ? '' : ` ${spec.value}`}`);
    const width = Math.max(...labels.map((label) => label.length)) + 2;
    lines.push('Options:');
    Object.values(specs).forEach((spec, i) => {
      const text = spec.help + (spec.multiple === true ? ' (repeatable)' : '');
      const [first, ...rest] = wrap(text, 100 - width - 2);
      lines.push(`  ${labels[i].padEnd(width)}${first}`, ...rest.map((line) => `  ${' '.repeat(width)}${line}`));
    });
    lines.push('');
  }
  if (command.examples !== undefined && command.examples.length > 0) lines.push('Examples:', ...command.examples.map((example) => `  ${example}`), '');
  lines.push(...wrap(EXIT_CODES_HELP, 100));
  return `${lines.join('\n')}\n`;
}

/** Breaks text into lines of at most `width` characters at spaces; a line starting with a space is kept as it is (preformatted). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    if (paragraph.startsWith(' ')) {
      lines.push(paragraph);
      continue;
    }
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines;
}
