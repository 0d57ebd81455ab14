/**
 * Store keys compare by value, as Kafka's stores compare serialized key bytes: primitives as a
 * JavaScript Map compares them, Buffers and Uint8Arrays by their bytes, arrays and plain objects
 * by their JSON text (so a composite key `[page, country]` groups as expected). The in-memory
 * stores index entries by this identity and keep the caller's key object for results.
 */

// The prefixes start with NUL so that no ordinary string key collides with an encoded one.
const BYTES_PREFIX = '\u0000b:';
const JSON_PREFIX = '\u0000j:';

export function storeKey(key: unknown): unknown {
  if (typeof key !== 'object' || key === null) return key;
  if (key instanceof Uint8Array) {
    const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    return BYTES_PREFIX + bytes.toString('latin1');
  }
  return JSON_PREFIX + JSON.stringify(key);
}
