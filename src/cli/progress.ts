/**
 * A progress bar with a live rate for long work (producing a file, dumping a big segment), drawn
 * on stderr with cli-progress, and only on a terminal: piped or redirected output never carries
 * control characters, and the command's summary line says what was done.
 *
 *   produce [██████████░░░░░░░░░░] 52% | 14.1 MB/27.0 MB | 1.41M records/s 141.0 MB/s | ETA 1s
 */
import cliProgress from 'cli-progress';
import { formatBytes, formatCount, formatRate } from './format.js';
import type { Output } from './output.js';

export interface ProgressOptions {
  /** What the bar counts: bytes print as sizes, anything else is a noun for counts ("batches"). */
  readonly unit: 'bytes' | string;
  /** The noun for the second rate, when the work also counts records (bytes read, records produced). */
  readonly itemUnit?: string;
}

export class Progress {
  private readonly started = performance.now();
  private items = 0;

  private constructor(
    private readonly bar: cliProgress.SingleBar | null,
    private readonly options: ProgressOptions,
  ) {}

  /** Starts a bar towards `total` on a terminal; elsewhere a Progress whose calls do nothing. */
  static start(out: Output, label: string, total: number, options: ProgressOptions): Progress {
    if (!out.interactive) return new Progress(null, options);
    let progress: Progress;
    const bar = new cliProgress.SingleBar({
      stream: out.progressStream,
      barsize: 24,
      hideCursor: true,
      fps: 8,
      format: (_options, params) => progress.render(label, params.value, params.total, params.eta, cliProgress.Format.BarFormat(params.progress, _options)),
    });
    progress = new Progress(bar, options);
    bar.start(total, 0);
    return progress;
  }

  /** Moves the bar to `done`; `items` is the running count for the second rate. */
  update(done: number, items?: number): void {
    if (items !== undefined) this.items = items;
    this.bar?.update(done);
  }

  /** Draws the final state and leaves the line on the terminal. */
  stop(): void {
    this.bar?.stop();
  }

  private render(label: string, done: number, total: number, eta: number, bar: string): string {
    const seconds = (performance.now() - this.started) / 1000;
    const amount = (n: number) => (this.options.unit === 'bytes' ? formatBytes(n) : formatCount(n));
    const rate = (n: number, unit: string) => (unit === 'bytes' ? `${formatBytes(seconds > 0 ? n / seconds : 0)}/s` : formatRate(seconds > 0 ? n / seconds : 0, unit));
    const rates = [this.options.itemUnit === undefined ? '' : rate(this.items, this.options.itemUnit), rate(done, this.options.unit)].filter((text) => text !== '');
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    return `${label} [${bar}] ${percent}% | ${amount(done)}/${amount(total)} | ${rates.join(' ')} | ETA ${Number.isFinite(eta) ? `${eta}s` : '-'}`;
  }
}
