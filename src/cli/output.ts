/**
 * Where a command's output goes: results on stdout (text, or JSON with `--json`), everything else
 * (notes, progress, errors) on stderr, so `tributary ... --json | jq` and `> file` get only data.
 *
 * Writes wait for stdout to drain, so a command printing millions of records holds its memory
 * flat instead of queueing them in the stream. When the reader of stdout goes away (`| head`),
 * `closed` turns true and `onClosed` fires, so the command can stop instead of failing with EPIPE.
 */
import type { Writable } from 'node:stream';

export class Output {
  private closedListeners: Array<() => void> = [];
  private isClosed = false;

  constructor(
    private readonly stdout: Writable,
    private readonly stderr: Writable & { readonly isTTY?: boolean; readonly columns?: number },
    /** `--json`: results are JSON documents (or JSON lines for streams of records). */
    readonly json: boolean,
  ) {
    stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      this.isClosed = true;
      for (const listener of this.closedListeners.splice(0)) listener();
    });
  }

  /** True once stdout's reader has gone away. */
  get closed(): boolean {
    return this.isClosed;
  }

  onClosed(listener: () => void): void {
    if (this.isClosed) listener();
    else this.closedListeners.push(listener);
  }

  /** Whether progress bars can be drawn: stderr is a terminal. */
  get interactive(): boolean {
    return this.stderr.isTTY === true;
  }

  /** The stream progress bars draw on. */
  get progressStream(): Writable {
    return this.stderr;
  }

  /** Writes to stdout, resolving once the stream can take more. */
  write(data: string | Uint8Array): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    if (this.stdout.write(data)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.stdout.off('drain', done);
        this.stdout.off('close', done);
        resolve();
      };
      this.stdout.once('drain', done);
      this.stdout.once('close', done);
      this.onClosed(done);
    });
  }

  line(text: string): Promise<void> {
    return this.write(`${text}\n`);
  }

  /** A whole JSON document, for commands whose result is one value. */
  document(value: unknown): Promise<void> {
    return this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON value on one line, for streams of results (records, batches). */
  jsonLine(value: unknown): Promise<void> {
    return this.write(`${JSON.stringify(value)}\n`);
  }

  /** A line on stderr: notes and summaries that are not the command's result. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Resolves once everything written so far has been handed to the operating system. */
  flush(): Promise<void> {
    return Promise.all([this.stdout, this.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve())))).then(() => undefined);
  }
}
