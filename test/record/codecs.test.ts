/**
 * The compression codecs against Kafka's byte formats and against implementations other than the
 * native libraries we ship:
 *
 * - snappy: snappyjs (pure JS; what KafkaJS's kafkajs-snappy uses) for raw blocks both ways, and
 *   kafkajs-snappy's own decompress for our xerial framing;
 * - lz4: lz4js (pure JS) both ways, frames written by the reference `lz4` CLI 1.9.4 (stored below
 *   as hex, including the exact shape Kafka's Lz4BlockOutputStream writes), and a re-statement of
 *   the acceptance rules of Kafka's Java Lz4BlockInputStream applied to every frame we write;
 * - zstd: fzstd (pure JS decoder) reads ours; frames from the reference `zstd` CLI 1.5.4 written
 *   in streaming mode (no content size, as Java's ZstdOutputStream writes them) read with ours;
 * - gzip: a member written by GNU gzip reads with ours.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { decompress as fzstdDecompress } from 'fzstd';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { COMPRESSION_NAMES, codecById, codecByName } from '../../src/record/codecs/index.js';

const require = createRequire(import.meta.url);
const snappyjs = require('snappyjs') as { compress(b: Buffer): Buffer; uncompress(b: Buffer): Buffer };
const kafkajsSnappy = require('kafkajs-snappy') as () => { decompress(b: Buffer): Promise<Buffer> };
const lz4js = require('lz4js') as {
  compress(b: Uint8Array): Uint8Array;
  decompress(b: Uint8Array): Uint8Array;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
};
const xxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, length: number): number };

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const TEXT = Buffer.from('Kafka record batch, Kafka record batch, Kafka record batch! '.repeat(3));
const DIGEST = createHash('sha256').update('tributary').digest();

function expectCode(fn: () => unknown, code: TributaryError['code']): TributaryError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe(code);
    return error as TributaryError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** Bytes that compress well, badly, and in between, so codecs take both stored and compressed paths. */
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.array(fc.constantFrom('key', 'value', '{"user":"u1"}', '\u00e9\u00e8', '\u{1f600}', ' '), { maxLength: 400 }).map((words) => new TextEncoder().encode(words.join(''))),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 150_000 })).map(([byte, length]) => new Uint8Array(length).fill(byte)),
).map((bytes) => Buffer.from(bytes));

function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const LARGE_INPUTS: readonly Buffer[] = [
  seededBytes(300_000, 7), // incompressible, several blocks in every framed format
  Buffer.concat([Buffer.alloc(70_000, 0x61), seededBytes(70_000, 9), Buffer.alloc(65_536, 0x62)]),
];

describe('codec registry', () => {
  it('maps Kafka attribute ids to names', () => {
    expect(COMPRESSION_NAMES).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    COMPRESSION_NAMES.forEach((name, id) => {
      expect(codecById(id).name).toBe(name);
      expect(codecByName(name).id).toBe(id);
    });
  });

  it('rejects unknown ids and names with UNSUPPORTED_COMPRESSION naming them', () => {
    for (const id of [5, 6, 7, -1, 1.5, Number.NaN, 8]) {
      const error = expectCode(() => codecById(id), 'UNSUPPORTED_COMPRESSION');
      expect(error.message).toContain(String(id));
      expect(error.details).toEqual({ id });
    }
    for (const name of ['LZ4', 'brotli', '', 'toString', 'constructor']) {
      const error = expectCode(() => codecByName(name), 'UNSUPPORTED_COMPRESSION');
      expect(error.message).toContain(JSON.stringify(name));
      expect(error.details).toEqual({ name });
    }
  });

  it('reports undecodable input as INVALID_RECORD naming the codec', () => {
    for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const error = expectCode(() => codecByName(name).decompress(Buffer.from('definitely not compressed')), 'INVALID_RECORD');
      expect(error.details).toMatchObject({ compression: name, length: 25 });
      expect(error.cause).toBeDefined();
    }
  });
});

describe.each(COMPRESSION_NAMES)('%s round trip', (name) => {
  const codec = codecByName(name);

  it('restores random, repetitive, empty and large inputs', () => {
    fc.assert(
      fc.property(payload, (data) => {
        expect(codec.decompress(codec.compress(data)).equals(data)).toBe(true);
      }),
      { seed: 42, numRuns: 60 },
    );
    for (const data of [Buffer.alloc(0), Buffer.from([0]), ...LARGE_INPUTS]) {
      expect(codec.decompress(codec.compress(data)).equals(data)).toBe(true);
    }
  });

  it('compresses a subarray of a larger buffer without reading outside it', () => {
    const backing = Buffer.concat([Buffer.alloc(100, 0xee), TEXT, Buffer.alloc(100, 0xdd)]);
    const view = backing.subarray(100, 100 + TEXT.length);
    expect(codec.decompress(codec.compress(view)).equals(TEXT)).toBe(true);
  });
});

describe('gzip', () => {
  const gzip = codecByName('gzip');

  it('writes a gzip member (RFC 1952, deflate)', () => {
    expect(gzip.compress(TEXT).subarray(0, 3)).toEqual(hex('1f8b08'));
  });

  it('reads a member written by GNU gzip, and concatenated members as Java does', () => {
    const fromGnuGzip = hex('1f8b0800000000000003f34e4ccb4e54284a4dce2f4a51484a2c49ced051f0264a4c914875d4d70b004acfe055b4000000');
    expect(gzip.decompress(fromGnuGzip).equals(TEXT)).toBe(true);
    expect(gzip.decompress(Buffer.concat([fromGnuGzip, gzip.compress(DIGEST)])).equals(Buffer.concat([TEXT, DIGEST]))).toBe(true);
  });

  it('rejects a truncated member', () => {
    const whole = gzip.compress(LARGE_INPUTS[1]);
    for (const cut of [0, 5, 10, whole.length >> 1, whole.length - 4, whole.length - 1]) {
      expectCode(() => gzip.decompress(whole.subarray(0, cut)), 'INVALID_RECORD');
    }
  });
});

describe('snappy', () => {
  const snappy = codecByName('snappy');
  const XERIAL_HEADER = hex('82534e41505059 00 00000001 00000001');

  /** A xerial stream built from snappyjs blocks: the framing as snappy-java writes it, by a different compressor. */
  function xerialFromSnappyjs(data: Buffer, blockSizes: readonly number[]): Buffer {
    const parts = [XERIAL_HEADER];
    let pos = 0;
    for (let i = 0; pos < data.length; i++) {
      const block = snappyjs.compress(data.subarray(pos, pos + blockSizes[i % blockSizes.length]));
      const length = Buffer.alloc(4);
      length.writeInt32BE(block.length);
      parts.push(length, block);
      pos += blockSizes[i % blockSizes.length];
    }
    return Buffer.concat(parts);
  }

  it('writes snappy-java framing: the 16-byte header, then one [int32 length][raw block] per 32 KiB', () => {
    const data = LARGE_INPUTS[1]; // 205536 bytes: six full 32 KiB blocks and one of 8928
    const framed = snappy.compress(data);
    expect(framed.subarray(0, 16)).toEqual(XERIAL_HEADER);
    let pos = 16;
    const blocks: Buffer[] = [];
    while (pos < framed.length) {
      const length = framed.readInt32BE(pos);
      blocks.push(snappyjs.uncompress(framed.subarray(pos + 4, pos + 4 + length)));
      pos += 4 + length;
    }
    expect(pos).toBe(framed.length);
    expect(blocks.map((block) => block.length)).toEqual([32768, 32768, 32768, 32768, 32768, 32768, 8928]);
    expect(Buffer.concat(blocks).equals(data)).toBe(true);
    expect(snappy.compress(Buffer.alloc(0))).toEqual(XERIAL_HEADER);
  });

  it('is read by kafkajs-snappy, a Kafka client codec', async () => {
    for (const data of [TEXT, DIGEST, ...LARGE_INPUTS]) {
      expect((await kafkajsSnappy().decompress(snappy.compress(data))).equals(data)).toBe(true);
    }
  });

  it('reads raw snappy blocks written by snappyjs (as librdkafka and KafkaJS send them)', () => {
    fc.assert(
      fc.property(payload, (data) => {
        expect(snappy.decompress(snappyjs.compress(data)).equals(data)).toBe(true);
      }),
      { seed: 7, numRuns: 60 },
    );
  });

  it('reads xerial streams with any block sizes, compressed by snappyjs', () => {
    fc.assert(
      fc.property(payload, fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 4 }), (data, sizes) => {
        expect(snappy.decompress(xerialFromSnappyjs(data, sizes)).equals(data)).toBe(true);
      }),
      { seed: 11, numRuns: 40 },
    );
  });

  it('writes raw blocks that snappyjs reads', () => {
    const framed = snappy.compress(TEXT);
    expect(snappyjs.uncompress(framed.subarray(20)).equals(TEXT)).toBe(true);
  });

  it('rejects a chunk that overruns the input and a stream needing a newer reader', () => {
    const framed = snappy.compress(LARGE_INPUTS[0]);
    const error = expectCode(() => snappy.decompress(framed.subarray(0, framed.length - 1)), 'INVALID_RECORD');
    expect(error.message).toMatch(/overruns/);
    expectCode(() => snappy.decompress(framed.subarray(0, 18)), 'INVALID_RECORD');
    const newer = Buffer.from(framed);
    newer.writeInt32BE(2, 12);
    expect(expectCode(() => snappy.decompress(newer), 'INVALID_RECORD').message).toMatch(/version 2/);
  });
});

describe('lz4', () => {
  const lz4 = codecByName('lz4');

  /**
   * The rules of Kafka's Java reader (clients/.../compress/Lz4BlockInputStream.java and its FLG/BD
   * validation in Lz4BlockOutputStream.java), restated so a frame that passes here is one Java
   * consumers read: magic, FLG version 1 with independent blocks and reserved bits clear, BD block
   * size 4-7 with reserved bits clear, a header checksum over the descriptor only, no block above
   * the maximum size, and an end mark. Blocks are decompressed with lz4js, not lz4-napi.
   */
  function readLikeKafkaJava(frame: Buffer): Buffer {
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    const flg = frame[4];
    const bd = frame[5];
    expect(flg >> 6).toBe(1);
    expect(flg & 0x20).toBe(0x20);
    expect(flg & 0x03).toBe(0);
    expect(bd & 0x8f).toBe(0);
    const blockSizeId = (bd >> 4) & 7;
    expect(blockSizeId).toBeGreaterThanOrEqual(4);
    const maxBlockSize = 1 << (2 * blockSizeId + 8);
    let pos = 6 + (flg & 0x08 ? 8 : 0);
    expect(frame[pos]).toBe((xxh32.hash(0, frame, 4, pos - 4) >> 8) & 0xff);
    pos++;
    const out: Buffer[] = [];
    for (;;) {
      const word = frame.readUInt32LE(pos);
      pos += 4;
      const size = word & 0x7fffffff;
      if (size === 0) break;
      expect(size).toBeLessThanOrEqual(maxBlockSize);
      if (word & 0x80000000) {
        out.push(frame.subarray(pos, pos + size));
      } else {
        const block = Buffer.alloc(maxBlockSize);
        out.push(block.subarray(0, lz4js.decompressBlock(frame, block, pos, size, 0)));
      }
      pos += size + (flg & 0x10 ? 4 : 0);
    }
    return Buffer.concat(out);
  }

  it("writes Kafka's frame shape: FLG 0x60, BD 0x40 (64 KiB), descriptor-only header checksum 0x82", () => {
    const frame = lz4.compress(TEXT);
    expect(frame.subarray(0, 7)).toEqual(hex('04224d18 60 40 82'));
    expect((xxh32.hash(0, hex('6040'), 0, 2) >> 8) & 0xff).toBe(0x82);
    expect(frame.subarray(-4)).toEqual(hex('00000000'));
  });

  it('writes frames that pass the Java reader rules, block by block', () => {
    fc.assert(
      fc.property(payload, (data) => {
        expect(readLikeKafkaJava(lz4.compress(data)).equals(data)).toBe(true);
      }),
      { seed: 3, numRuns: 60 },
    );
    for (const data of LARGE_INPUTS) expect(readLikeKafkaJava(lz4.compress(data)).equals(data)).toBe(true);
  });

  it('is read by lz4js and reads lz4js frames (linked blocks, 4 MiB block size)', () => {
    fc.assert(
      fc.property(payload, (data) => {
        expect(Buffer.from(lz4js.decompress(lz4.compress(data))).equals(data)).toBe(true);
        expect(lz4.decompress(Buffer.from(lz4js.compress(data))).equals(data)).toBe(true);
      }),
      { seed: 5, numRuns: 40 },
    );
  });

  // Written by the reference lz4 CLI 1.9.4 with `-B4 -BI --no-frame-crc`: the shape Kafka writes.
  const kafkaShaped = {
    text: hex(`04224d18 60 40 82 2c000000 ff054b61666b61207265636f72642062617463682c201400131f212800140f5000010f3c0026507463682120 00000000`),
    digest: hex(`04224d18 60 40 82 20000080 ${DIGEST.toString('hex')} 00000000`),
    // 131077 bytes of 'a': two compressed 64 KiB blocks and a 5-byte block stored raw.
    blocks: hex(
      `04224d18 60 40 82 0b010000 1f610100${'ff'.repeat(256)}e7506161616161 0b010000 1f610100${'ff'.repeat(256)}e7506161616161 05000080 6161616161 00000000`,
    ),
  };

  it('reads frames in the shape Kafka writes, from the reference implementation', () => {
    expect(lz4.decompress(kafkaShaped.text).equals(TEXT)).toBe(true);
    expect(lz4.decompress(kafkaShaped.digest).equals(DIGEST)).toBe(true);
    expect(lz4.decompress(kafkaShaped.blocks).equals(Buffer.alloc(131077, 0x61))).toBe(true);
    expect(readLikeKafkaJava(kafkaShaped.blocks).equals(Buffer.alloc(131077, 0x61))).toBe(true);
  });

  it('reads frames with optional features Kafka never writes, and verifies their checksums', () => {
    // lz4 CLI `--content-size -BX`: FLG 0x7c sets content size (180), block checksums and a content checksum.
    const full = hex(
      '04224d18 7c 40 b400000000000000 a0 2c000000 ff054b61666b61207265636f72642062617463682c201400131f212800140f5000010f3c0026507463682120 17d8bcb6 00000000 010d36f6',
    );
    expect(lz4.decompress(full).equals(TEXT)).toBe(true);
    // The header checksum, the block checksum and the content checksum in turn.
    for (const position of [14, full.length - 12, full.length - 1]) {
      const corrupt = Buffer.from(full);
      corrupt[position] ^= 0x01;
      expectCode(() => lz4.decompress(corrupt), 'INVALID_RECORD');
    }
  });

  it('rejects every truncation, including cuts at block boundaries that lz4_flex alone accepts', () => {
    for (const frame of [kafkaShaped.blocks, lz4.compress(LARGE_INPUTS[0])]) {
      for (let cut = 0; cut < frame.length; cut += cut < 40 || frame.length - cut < 40 ? 1 : 97) {
        expectCode(() => lz4.decompress(frame.subarray(0, cut)), 'INVALID_RECORD');
      }
    }
    // Just after the descriptor, and after the first and second 267-byte blocks.
    for (const boundary of [7, 7 + 4 + 267, 7 + 2 * (4 + 267)]) {
      expectCode(() => lz4.decompress(kafkaShaped.blocks.subarray(0, boundary)), 'INVALID_RECORD');
    }
  });
});

describe('zstd', () => {
  const zstd = codecByName('zstd');
  // Written by the reference zstd CLI 1.5.4 from a pipe: no content size, with a content checksum.
  const streamedText = hex('28b52ffd0458450100d04b61666b61207265636f72642062617463682c20212c212c2120050040292039a0642011de3399601edef6');
  const streamedDigest = hex('28b52ffd045801010033c8a9ed94b8035709007c65ad80b4be780dc3e9f1d9bd8803ccbabc79e2b2fceb0e45de');

  it('writes zstd frames that fzstd reads', () => {
    expect(zstd.compress(TEXT).subarray(0, 4)).toEqual(hex('28b52ffd'));
    fc.assert(
      fc.property(payload, (data) => {
        expect(Buffer.from(fzstdDecompress(zstd.compress(data))).equals(data)).toBe(true);
      }),
      { seed: 13, numRuns: 40 },
    );
  });

  it('reads streamed frames without a content size, and concatenated frames', () => {
    expect(zstd.decompress(streamedText).equals(TEXT)).toBe(true);
    expect(zstd.decompress(streamedDigest).equals(DIGEST)).toBe(true);
    expect(zstd.decompress(Buffer.concat([streamedText, zstd.compress(DIGEST), streamedDigest])).equals(Buffer.concat([TEXT, DIGEST, DIGEST]))).toBe(true);
  });

  it('rejects truncated frames (which zstd-napi alone turns into a silent prefix), trailing bytes and a bad checksum', () => {
    const frames = [streamedText, streamedDigest, zstd.compress(LARGE_INPUTS[0])];
    for (const frame of frames) {
      for (let cut = 0; cut < frame.length; cut += cut < 64 || frame.length - cut < 64 ? 1 : 211) {
        expectCode(() => zstd.decompress(frame.subarray(0, cut)), 'INVALID_RECORD');
      }
      expectCode(() => zstd.decompress(Buffer.concat([frame, hex('00')])), 'INVALID_RECORD');
    }
    const corrupt = Buffer.from(streamedText);
    corrupt[corrupt.length - 1] ^= 0x01;
    expectCode(() => zstd.decompress(corrupt), 'INVALID_RECORD');
  });
});
