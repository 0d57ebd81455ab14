/**
 * The compression codecs of Kafka's record batches, by attribute id and by name.
 */
import { TributaryError } from '../../errors.js';
import type { CompressionCodec, CompressionName } from './codec.js';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { noneCodec } from './none.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

export type { CompressionCodec, CompressionName };

/**
 * Each native library fails in its own way on bad input; callers get one typed error that names
 * the codec, with the library's complaint as the cause.
 */
function withTypedErrors(codec: CompressionCodec): CompressionCodec {
  return {
    name: codec.name,
    id: codec.id,
    compress: codec.compress,
    decompress: (data) => {
      try {
        return codec.decompress(data);
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new TributaryError('INVALID_RECORD', `${data.length} bytes are not valid ${codec.name} data: ${reason}`, { compression: codec.name, length: data.length }, { cause });
      }
    },
  };
}

// Indexed by Kafka's attribute id, so a lookup on the decode path is one array access.
const BY_ID: readonly CompressionCodec[] = [noneCodec, gzipCodec, snappyCodec, lz4Codec, zstdCodec].map((codec) =>
  codec.id === 0 ? codec : withTypedErrors(codec),
);

export const COMPRESSION_NAMES: readonly CompressionName[] = Object.freeze(BY_ID.map((codec) => codec.name));

export function codecById(id: number): CompressionCodec {
  const codec = Number.isInteger(id) ? BY_ID[id] : undefined;
  if (codec === undefined) {
    throw new TributaryError('UNSUPPORTED_COMPRESSION', `unknown compression codec id ${id}; known ids are 0-${BY_ID.length - 1} (${COMPRESSION_NAMES.join(', ')})`, { id });
  }
  return codec;
}

export function codecByName(name: string): CompressionCodec {
  const codec = BY_ID.find((candidate) => candidate.name === name);
  if (codec === undefined) {
    throw new TributaryError('UNSUPPORTED_COMPRESSION', `unknown compression codec ${JSON.stringify(name)}; expected one of ${COMPRESSION_NAMES.join(', ')}`, { name });
  }
  return codec;
}
