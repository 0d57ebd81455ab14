import { compress, decompress } from 'zstd-napi';
import { createRequire } from 'node:module';
import type { CompressionCodec } from './codec.js';

// The native binding is CommonJS whose exports Node's ESM loader cannot detect statically.
const { findFrameCompressedSize } = createRequire(import.meta.url)('zstd-napi/binding.js') as { findFrameCompressedSize(data: Uint8Array): number };

/**
 * Zstandard frames (RFC 8878), as Kafka's ZstdOutputStream writes at its default level 3.
 *
 * zstd-napi's one-shot decompress falls back to streaming for frames that carry no content size
 * (Java's streaming writer never records it) and then returns whatever a truncated frame yields
 * without complaint. Walking the frames first makes a cut or padded section throw, as Java's
 * ZstdInputStream does, instead of silently losing the tail.
 */
function assertWholeFrames(data: Buffer): void {
  let pos = 0;
  while (pos < data.length) pos += findFrameCompressedSize(data.subarray(pos));
  if (data.length === 0) throw new Error('empty zstd input holds no frame');
}

export const zstdCodec: CompressionCodec = {
  name: 'zstd',
  id: 4,
  compress: (data) => compress(data),
  decompress: (data) => {
    assertWholeFrames(data);
    return decompress(data);
  },
};
