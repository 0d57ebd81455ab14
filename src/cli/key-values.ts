/**
 * `KEY=VALUE` arguments of repeatable flags (`--config retention.ms=60000`, `--property
 * print.key=true`), as Kafka's tools take them.
 */
import { closest } from '../runtime/options.js';
import { UsageError } from './errors.js';

/**
 * Splits each `KEY=VALUE` at its first `=` (values may contain more), checking keys against
 * `known` when given; a key given twice is a usage error, as is a key `known` does not list.
 */
export function parseKeyValues(flag: string, items: readonly string[], known?: readonly string[]): Map<string, string> {
  const result = new Map<string, string>();
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag} takes KEY=VALUE, got ${JSON.stringify(item)}`);
    const key = item.slice(0, at);
    if (known !== undefined && !known.includes(key)) {
      const suggestion = closest(key, known);
      throw new UsageError(
        `unknown ${flag} ${JSON.stringify(key)}${suggestion === undefined ? `; known: ${known.join(', ')}` : ` (did you mean ${suggestion}?)`}`,
      );
    }
    if (result.has(key)) throw new UsageError(`${flag} ${key} is given more than once`);
    result.set(key, item.slice(at + 1));
  }
  return result;
}

/** A `true`/`false` property (any case, as Kafka reads them); anything else is a usage error rather than Kafka's silent false. */
export function booleanProperty(properties: ReadonlyMap<string, string>, key: string, fallback: boolean): boolean {
  const value = properties.get(key);
  if (value === undefined) return fallback;
  const normalized = value.trim().toLowerCase();
  if (normalized === 'true') return true;
  if (normalized === 'false') return false;
  throw new UsageError(`--property ${key} must be true or false, got ${JSON.stringify(value)}`);
}
