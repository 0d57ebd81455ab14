/**
 * Serdes turn application values into record bytes and back. Records stay bytes in the log and on
 * the wire; a serde runs only at the edges, and only on values somebody reads.
 */
import { TributaryError } from '../errors.js';

export interface Serde<T> {
  serialize(value: T): Buffer | null;
  deserialize(bytes: Buffer | null): T;
}

export type SerdeName = 'json' | 'string' | 'bytes';

const bytesSerde: Serde<Buffer | null> = {
  serialize: (value) => value,
  deserialize: (bytes) => bytes,
};

const stringSerde: Serde<string | null> = {
  serialize: (value) => (value === null ? null : Buffer.from(value, 'utf8')),
  deserialize: (bytes) => (bytes === null ? null : bytes.toString('utf8')),
};

const jsonSerde: Serde<unknown> = {
  serialize: (value) => (value === null || value === undefined ? null : Buffer.from(JSON.stringify(value), 'utf8')),
  deserialize: (bytes) => {
    if (bytes === null) return null;
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      throw new TributaryError('INVALID_RECORD', `value is not valid JSON: ${(cause as Error).message}`, { preview: bytes.subarray(0, 64).toString('utf8') }, { cause });
    }
  },
};

const BY_NAME: Readonly<Record<SerdeName, Serde<unknown>>> = { json: jsonSerde, string: stringSerde as Serde<unknown>, bytes: bytesSerde as Serde<unknown> };

/** Resolves a serde given by name, or checks and returns a custom one. */
export function resolveSerde<T = unknown>(serde: SerdeName | Serde<T>, field = 'serde'): Serde<T> {
  if (typeof serde === 'string') {
    const named = BY_NAME[serde as SerdeName];
    if (named === undefined) {
      throw new TributaryError('INVALID_CONFIG', `${field} must be 'json', 'string', 'bytes' or an object with serialize and deserialize; got ${JSON.stringify(serde)}`, { field, value: serde });
    }
    return named as Serde<T>;
  }
  if (serde === null || typeof serde !== 'object' || typeof serde.serialize !== 'function' || typeof serde.deserialize !== 'function') {
    throw new TributaryError('INVALID_CONFIG', `${field} must be 'json', 'string', 'bytes' or an object with serialize and deserialize`, { field });
  }
  return serde;
}
