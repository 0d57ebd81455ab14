import { compressSync, decompressFrameSync, uncompressSync } from 'lz4-napi';
import type { CompressionCodec } from './codec.js';

/**
 * The LZ4 frame format, as Kafka writes it since magic 1 (Lz4BlockOutputStream, whose header
 * checksum covers the frame descriptor only; magic 0 wrongly covered the magic number too).
 *
 * Kafka's Java reader accepts only part of the format: it rejects dependent (linked) blocks, a
 * dictionary id, any reserved bit, and block sizes other than 64 KiB to 4 MiB, and it reads one
 * frame only, ignoring what follows. Frames are written here exactly as Kafka's producer writes
 * them: FLG 0x60 and BD 0x40 (version 1, independent blocks, no checksums, no content size,
 * 64 KiB blocks), so Java consumers read our batches.
 *
 * lz4-napi's frame functions run at ~400 MB/s on this workload, its block functions at ~2 GB/s,
 * so frames are assembled here around the block functions. Frames with checksums, a content
 * size or a dictionary (librdkafka may write checksums) go through lz4-napi's frame decoder,
 * which verifies them.
 */
const MAGIC = 0x184d2204;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_1 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const BLOCK_UNCOMPRESSED = 0x80000000;
const BLOCK_SIZE = 64 * 1024;
/** Magic, FLG 0x60, BD 0x40 (64 KiB blocks), and the descriptor's checksum byte (xxh32 >> 8 of 60 40). */
const FRAME_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
const MAX_BLOCK_SIZES: Readonly<Record<number, number>> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

function compressFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [FRAME_HEADER];
  for (let start = 0; start < data.length; start += BLOCK_SIZE) {
    const chunk = data.subarray(start, Math.min(start + BLOCK_SIZE, data.length));
    // lz4-napi prefixes the block with its uncompressed size (u32 LE); the frame wants the
    // compressed size there instead, so the prefix is overwritten rather than copied around.
    const prefixed = compressSync(chunk);
    const compressedSize = prefixed.length - 4;
    if (compressedSize < chunk.length) {
      prefixed.writeUInt32LE(compressedSize, 0);
      parts.push(prefixed);
    } else {
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32LE((chunk.length | BLOCK_UNCOMPRESSED) >>> 0, 0);
      parts.push(header, chunk);
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

/**
 * Walks the frame's blocks up to the end mark, so a frame cut anywhere throws, as Java's reader
 * does ("Stream ended prematurely") — lz4-napi ends a frame quietly at end of input.
 * Returns the position of the first block.
 */
function checkFrame(data: Buffer): number {
  if (data.length < 7 || data.readUInt32LE(0) !== MAGIC) throw new Error(`not an LZ4 frame (${data.length} bytes)`);
  const flg = data[4];
  const first = 7 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0);
  const blockTrailer = flg & FLG_BLOCK_CHECKSUM ? 4 : 0;
  let pos = first;
  for (;;) {
    if (data.length - pos < 4) throw new Error(`LZ4 frame cut at byte ${pos} of ${data.length}: no end mark`);
    const blockSize = data.readUInt32LE(pos) & ~BLOCK_UNCOMPRESSED;
    pos += 4;
    if (blockSize === 0) break;
    pos += blockSize + blockTrailer;
  }
  if (flg & FLG_CONTENT_CHECKSUM && data.length - pos < 4) throw new Error(`LZ4 frame cut before its content checksum`);
  if (pos > data.length) throw new Error(`LZ4 frame's last block overruns the ${data.length}-byte input`);
  return first;
}

/** Whether the frame is Kafka's plain shape, which the block-level fast path decodes. */
function isPlainFrame(data: Buffer): boolean {
  const flg = data[4];
  return (
    (flg & FLG_VERSION_MASK) === FLG_VERSION_1 &&
    (flg & FLG_BLOCK_INDEPENDENCE) !== 0 &&
    (flg & (FLG_BLOCK_CHECKSUM | FLG_CONTENT_CHECKSUM | FLG_CONTENT_SIZE | FLG_DICT_ID)) === 0 &&
    MAX_BLOCK_SIZES[(data[5] >> 4) & 0x07] !== undefined
  );
}

function decompressPlainFrame(data: Buffer, first: number): Buffer {
  const maxBlockSize = MAX_BLOCK_SIZES[(data[5] >> 4) & 0x07];
  const parts: Buffer[] = [];
  let pos = first;
  for (;;) {
    const field = data.readUInt32LE(pos);
    const size = field & ~BLOCK_UNCOMPRESSED;
    if (size === 0) break;
    if (field & BLOCK_UNCOMPRESSED) {
      parts.push(data.subarray(pos + 4, pos + 4 + size));
    } else {
      // lz4-napi wants the block prefixed by an upper bound of its decoded size, and the frame
      // already has four bytes right there: the block's size field. Borrow them for the call.
      data.writeUInt32LE(maxBlockSize, pos);
      try {
        parts.push(uncompressSync(data.subarray(pos, pos + 4 + size)));
      } finally {
        data.writeUInt32LE(field, pos);
      }
    }
    pos += 4 + size;
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

export const lz4Codec: CompressionCodec = {
  name: 'lz4',
  id: 3,
  compress: compressFrame,
  decompress: (data) => {
    const first = checkFrame(data);
    return isPlainFrame(data) ? decompressPlainFrame(data, first) : decompressFrameSync(data);
  },
};
