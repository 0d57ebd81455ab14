import { gunzipSync, gzipSync } from 'node:zlib';
import type { CompressionCodec } from './codec.js';

/**
 * A gzip member (RFC 1952), as Kafka's GZIPOutputStream writes. Decompression accepts several
 * concatenated members, as Java's GZIPInputStream does.
 */
export const gzipCodec: CompressionCodec = {
  name: 'gzip',
  id: 1,
  compress: (data) => gzipSync(data),
  decompress: (data) => gunzipSync(data),
};
