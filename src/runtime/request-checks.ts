/**
 * Checks for the arguments of admin-style requests (ours and KafkaJS's), shared by the topic and
 * group admins: each failure is an INVALID_REQUEST naming the field, what was expected and what
 * came, since a JavaScript caller gets no help from the type checker.
 */
import { TributaryError } from '../errors.js';
import { describeValue } from './options.js';

export function checkDistinct(values: readonly string[], what = 'topic'): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) {
      throw new TributaryError('INVALID_REQUEST', `The request names ${what} ${JSON.stringify(value)} more than once`, { [what]: value });
    }
    seen.add(value);
  }
}

export function invalidRequest(field: string, value: unknown, expected: string): TributaryError {
  return new TributaryError('INVALID_REQUEST', `Invalid ${field}: expected ${expected}, got ${describeValue(value)}`, {
    field,
    value: typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : describeValue(value),
  });
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidRequest(field, value, 'an object');
  return value as Record<string, unknown>;
}

export function requireArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw invalidRequest(field, value, 'an array');
  return value;
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidRequest(field, value, 'a string');
  return value;
}

export function requireEmpty(value: unknown, field: string, why: string): void {
  if (value !== undefined && !(Array.isArray(value) && value.length === 0)) throw invalidRequest(field, value, `nothing (${why})`);
}

export function optionalBoolean(value: unknown, field: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw invalidRequest(field, value, 'a boolean');
  return value === true;
}

/** Unknown keys in a KafkaJS request are mistakes that would otherwise be silently ignored. */
export function checkKeys(value: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TributaryError('INVALID_REQUEST', `Unknown field '${key}' in ${what}; known fields: ${known.join(', ')}`, { field: key });
    }
  }
}
