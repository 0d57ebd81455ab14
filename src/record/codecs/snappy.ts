import { compressSync, uncompressSync } from 'snappy';
import type { CompressionCodec } from './codec.js';

/**
 * Snappy as Kafka's Java producer writes it: snappy-java's SnappyOutputStream ("xerial") framing,
 * a 16-byte header (the magic `\x82SNAPPY\0`, then int32 version 1 and int32 minimum compatible
 * version 1) followed by chunks of [int32 big-endian length][raw snappy block], one per 32 KiB of
 * input. Other clients (librdkafka, KafkaJS) write a single raw snappy block instead, so reading
 * accepts both, telling them apart by the magic as snappy-java's SnappyInputStream does.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_BLOCK_SIZE = 32 * 1024;

function compressXerial(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_VERSION, 12);
  const parts: Buffer[] = [header];
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_SIZE) {
    const block = compressSync(data.subarray(start, start + XERIAL_BLOCK_SIZE));
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

function uncompressRaw(block: Uint8Array): Buffer {
  return uncompressSync(block, { asBuffer: true }) as Buffer;
}

function decompressXerial(data: Buffer): Buffer {
  const compatibleVersion = data.readInt32BE(12);
  if (compatibleVersion > XERIAL_VERSION) {
    throw new Error(`xerial snappy stream needs reader version ${compatibleVersion}; this reader is version ${XERIAL_VERSION}`);
  }
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) throw new Error(`xerial snappy chunk length cut at byte ${pos}`);
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || length > data.length - pos) throw new Error(`xerial snappy chunk of ${length} bytes at byte ${pos - 4} overruns the ${data.length}-byte input`);
    blocks.push(uncompressRaw(data.subarray(pos, pos + length)));
    pos += length;
  }
  return blocks.length === 1 ? blocks[0] : Buffer.concat(blocks);
}

export const snappyCodec: CompressionCodec = {
  name: 'snappy',
  id: 2,
  compress: compressXerial,
  decompress: (data) => (isXerial(data) ? decompressXerial(data) : uncompressRaw(data)),
};
