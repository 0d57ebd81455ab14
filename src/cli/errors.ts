/**
 * How a failed command reports itself: one line on stderr (or one JSON object with `--json`) and
 * an exit code from `EXIT`. Errors from the runtime are `TributaryError`s and print their message
 * with their code; the two classes here are the CLI's own, for what never reaches the runtime.
 * They stay inside the CLI process: their only job is to choose the exit code.
 */
import { TributaryError } from '../errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** The command line cannot be acted on (unknown option, missing value...); exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure found by the CLI itself rather than the runtime: an unreadable file, malformed input data. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.FAILED,
  ) {
    super(message);
  }
}

export interface FailureReport {
  readonly exitCode: ExitCode;
  /** The one line printed on stderr, without the `error: ` prefix. */
  readonly message: string;
  /** The TributaryError code, if the runtime raised it. */
  readonly code: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;
}

/**
 * What a failure means for the user. DIR_LOCKED gets a hint: the CLI opens the data directory
 * itself, so it cannot while an application has it open.
 */
export function describeFailure(error: unknown, command: string | undefined): FailureReport {
  if (error instanceof UsageError) {
    const help = command === undefined ? 'tributary --help' : `tributary ${command} --help`;
    return { exitCode: EXIT.USAGE, message: `${error.message} (see ${help})`, code: undefined, details: undefined };
  }
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message, code: undefined, details: undefined };
  if (TributaryError.is(error)) {
    const hint =
      error.code === 'DIR_LOCKED'
        ? '; the CLI opens the data directory itself, so stop the application that has it open (or use its admin API), ' +
          'or pass --dir for another directory (dump-log reads segment files without the lock)'
        : '';
    return { exitCode: EXIT.FAILED, message: `${error.message}${hint}`, code: error.code, details: error.details };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: EXIT.FAILED, message: `${message} (run with --verbose for the stack trace)`, code: undefined, details: undefined };
}
