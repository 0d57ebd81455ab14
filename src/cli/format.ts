/**
 * Numbers as the CLI prints them for people (JSON output keeps them raw).
 */

/** `1234567` as `1,234,567`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Sizes in decimal units, as disk tools print them: `512 B`, `5.7 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A per-second rate, of `unit` if given: `950/s`, `41.2k records/s`, `1.31M/s`. */
export function formatRate(perSecond: number, unit?: string): string {
  const per = unit === undefined ? '/s' : ` ${unit}/s`;
  if (!Number.isFinite(perSecond)) return `-${per}`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M${per}`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k${per}`;
  return `${perSecond.toFixed(0)}${per}`;
}

/** Seconds with two decimals: `0.76 s`. */
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(2)} s`;
}
