/**
 * The default serde of a repartition topic (see repartition.ts): a stream's elements are whatever
 * the pipeline made of its records, so the bytes say what they were. One tag byte, then the
 * contents: 0 bytes (a Buffer or Uint8Array, read back as a Buffer), 1 a string (UTF-8), 2 JSON
 * (anything else; what JSON cannot hold, such as a Date or a Map, comes back as JSON makes it).
 * null and undefined are a record without a value (or key), read back as null.
 *
 * Repartition topics are internal, written and read only by the run, so the format is tributary's
 * own; a pipeline that wants another one names a serde.
 */
import type { Serde } from '../client/serde.js';
import { TributaryError } from '../errors.js';

const BYTES = 0;
const STRING = 1;
const JSON_VALUE = 2;

function tagged(tag: number, contents: Buffer): Buffer {
  const bytes = Buffer.allocUnsafe(contents.length + 1);
  bytes[0] = tag;
  contents.copy(bytes, 1);
  return bytes;
}

export const elementSerde: Serde<unknown> = {
  serialize(element) {
    if (element === null || element === undefined) return null;
    if (element instanceof Uint8Array) return tagged(BYTES, Buffer.from(element.buffer, element.byteOffset, element.byteLength));
    if (typeof element === 'string') {
      const bytes = Buffer.allocUnsafe(Buffer.byteLength(element) + 1);
      bytes[0] = STRING;
      bytes.write(element, 1, 'utf8');
      return bytes;
    }
    const json = JSON.stringify(element);
    if (json === undefined) {
      throw new TributaryError('INVALID_RECORD', `a repartition cannot write ${typeof element} elements without a serde`, { type: typeof element });
    }
    const bytes = Buffer.allocUnsafe(Buffer.byteLength(json) + 1);
    bytes[0] = JSON_VALUE;
    bytes.write(json, 1, 'utf8');
    return bytes;
  },
  deserialize(bytes) {
    if (bytes === null) return null;
    switch (bytes.length === 0 ? -1 : bytes[0]) {
      case BYTES:
        return bytes.subarray(1);
      case STRING:
        return bytes.toString('utf8', 1);
      case JSON_VALUE:
        return JSON.parse(bytes.toString('utf8', 1));
      default:
        throw new TributaryError('INVALID_RECORD', `a repartition topic record starts with tag ${bytes.length === 0 ? 'none (empty)' : bytes[0]}, which its default serde does not know`, {
          preview: bytes.subarray(0, 16).toString('hex'),
        });
    }
  },
};
