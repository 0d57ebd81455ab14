import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import type { CompressionCodec } from './codec.js';

/**
 * The LZ4 frame format, as Kafka writes it since magic 1 (Lz4BlockOutputStream, whose header
 * checksum covers the frame descriptor only; magic 0 wrongly covered the magic number too).
 *
 * Kafka's Java reader accepts only part of the format: it rejects dependent (linked) blocks, a
 * dictionary id, any reserved bit, and block sizes other than 64 KiB to 4 MiB, and it reads one
 * frame only, ignoring what follows. lz4-napi (lz4_flex) writes FLG 0x60 and BD 0x40 — version 1,
 * independent blocks, no checksums, no content size, 64 KiB blocks — which is exactly what Kafka's
 * producer writes, so Java consumers read our batches. Reading goes through lz4_flex, which takes
 * every valid frame, Kafka's included (incompressible blocks stored raw, checksums verified).
 */
const MAGIC = 0x184d2204;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const BLOCK_UNCOMPRESSED = 0x80000000;

/**
 * lz4_flex ends a frame quietly at end of input, so a frame cut at a block boundary (or just after
 * its header) decodes to a prefix of the data. Walking the block sizes up to the end mark first
 * makes such a cut throw, as Java's reader does ("Stream ended prematurely").
 */
function assertWholeFrame(data: Buffer): void {
  if (data.length < 7 || data.readUInt32LE(0) !== MAGIC) throw new Error(`not an LZ4 frame (${data.length} bytes)`);
  const flg = data[4];
  let pos = 7 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0);
  const blockTrailer = flg & FLG_BLOCK_CHECKSUM ? 4 : 0;
  for (;;) {
    if (data.length - pos < 4) throw new Error(`LZ4 frame cut at byte ${pos} of ${data.length}: no end mark`);
    const blockSize = data.readUInt32LE(pos) & ~BLOCK_UNCOMPRESSED;
    pos += 4;
    if (blockSize === 0) break;
    pos += blockSize + blockTrailer;
  }
  if (flg & FLG_CONTENT_CHECKSUM && data.length - pos < 4) throw new Error(`LZ4 frame cut before its content checksum`);
}

export const lz4Codec: CompressionCodec = {
  name: 'lz4',
  id: 3,
  compress: (data) => compressFrameSync(data),
  decompress: (data) => {
    assertWholeFrame(data);
    return decompressFrameSync(data);
  },
};
