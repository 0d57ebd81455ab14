/**
 * Opening the data directory for a command, as an application's `open()` would: the same default
 * directory, one worker thread per core unless `--threads` says otherwise, and the same lock, so
 * a command fails with DIR_LOCKED while an application has the directory open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { open, type Tributary } from '../tributary.js';
import { CliError, UsageError } from './errors.js';

export interface DataDirFlags {
  readonly dir: string;
  readonly threads: string | undefined;
}

/**
 * Runs `work` on the runtime opened in `--dir`, closing it after, whatever happens. Commands
 * that only read (`readOnly`) refuse a directory that does not exist rather than create an empty
 * one: a mistyped `--dir` should be an error, not an empty answer.
 */
export async function withRuntime<T>(flags: DataDirFlags, readOnly: boolean, work: (rt: Tributary) => Promise<T>): Promise<T> {
  const dir = path.resolve(flags.dir);
  const threads = flags.threads === undefined ? undefined : parseInteger('--threads', flags.threads, 1);
  if (readOnly && !fs.existsSync(dir)) {
    throw new CliError(`no data directory at ${dir}: nothing has been stored there (create a topic with 'tributary topics --create', or pass --dir)`);
  }
  const rt = await open({ dir, threads });
  try {
    return await work(rt);
  } finally {
    await rt.close();
  }
}

/** A decimal integer flag value at or above `min`; a usage error naming the flag otherwise. */
export function parseInteger(flag: string, value: string, min: number): number {
  const number = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return number;
}
