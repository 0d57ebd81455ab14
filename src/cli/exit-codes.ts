/**
 * The exit status of every `tributary` command, so scripts can tell what happened without reading
 * the message. Listed in every `--help`.
 */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** The operation failed: an error from the runtime (its code is printed, e.g. UNKNOWN_TOPIC_OR_PARTITION), or a file that cannot be read. */
  FAILED: 1,
  /** The command line is wrong (unknown command or option, missing or malformed value); nothing was done. */
  USAGE: 2,
  /** dump-log read all it could but found invalid data: a corrupt batch, bytes that are not a batch, an index entry the log contradicts. */
  INVALID_DATA: 3,
  /** Stopped by Ctrl-C (SIGINT) after finishing cleanly: what was acknowledged is kept. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP =
  'Exit codes: 0 done; 1 failed (a runtime error, printed with its code); 2 usage error (nothing was done); ' +
  '3 dump-log found invalid data; 130 interrupted by Ctrl-C.';
