import type { CompressionCodec } from './codec.js';

/** Uncompressed batches: the records section is stored as is. */
export const noneCodec: CompressionCodec = {
  name: 'none',
  id: 0,
  compress: (data) => data,
  decompress: (data) => data,
};
