/**
 * What every benchmark shares: timing with medians over repeated runs, a live progress line on
 * stderr, a table on stdout, and a JSON file under bench/results/ for machines to read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Row = Record<string, string | number>;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs `fn` `repeats` times and returns the median of what it measured (seconds). */
export function medianSeconds(repeats: number, fn: () => number): number {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) samples.push(fn());
  return median(samples);
}

export function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** A one-line live progress display on stderr: step i of n, label, and the last measured rate. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();

  constructor(private readonly total: number) {}

  step(label: string): void {
    this.done++;
    const width = 24;
    const filled = Math.round((this.done / this.total) * width);
    const elapsed = ((Date.now() - this.started) / 1000).toFixed(0);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${elapsed}s  ${label}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  finish(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

export function printTable(rows: readonly Row[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padStart(widths[i])).join(' | ')} |`;
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
  for (const r of cells) console.log(line(r));
}

/** Writes bench/results/<name>.json with the machine's description next to the results. */
export function writeResults(name: string, results: unknown): string {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) };
  writeFileSync(file, JSON.stringify({ benchmark: name, date: new Date().toISOString(), machine, results }, null, 2) + '\n');
  return file;
}
