/**
 * RecordBatch v2 encode/decode: round trips of random records across every codec, the header
 * bytes read independently of the decoder, CRC coverage exactly as Kafka defines it, and typed
 * errors (never a crash, a hang or garbage) for truncated or corrupt input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { decodeRecordBatch, decodeRecordBatches } from '../../src/record/batch-decoder.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import { COMPRESSION_NAMES } from '../../src/record/codecs/index.js';
import { crc32c } from '../../src/record/crc32c.js';
import type { CompressionName, DecodedBatch, EncodeOptions, RecordInput } from '../../src/record/types.js';

type Bytes = Buffer | string | null;

const toBuffer = (bytes: Bytes | undefined): Buffer | null =>
  bytes === null || bytes === undefined ? null : typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;

// Strings of whole code points: a lone surrogate has no UTF-8 form, so it could not round trip.
const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
const bytesField: fc.Arbitrary<Bytes> = fc.oneof(
  fc.constant(null),
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  text(24),
);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
// Timestamps cluster around an anchor so deltas (varlongs) can be negative and large yet the
// values stay exact int64s; anchors include pre-1970 and the top of the safe range.
const anchors = fc.constantFrom(1_700_000_000_000, 0, -(2 ** 45), 2 ** 50, MAX_SAFE - 2 ** 41);
const around = (anchor: number) => fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map((d) => anchor + d);

function batchInput(compression: fc.Arbitrary<CompressionName>, maxRecords = 12) {
  return anchors.chain((anchor) =>
    fc.record({
      records: fc.array(
        fc.record(
          {
            key: fc.option(bytesField, { nil: undefined }),
            value: bytesField,
            headers: fc.array(fc.record({ key: text(12), value: bytesField }), { maxLength: 4 }),
            timestamp: fc.option(around(anchor), { nil: undefined }),
          },
          { requiredKeys: ['value'] },
        ),
        { minLength: 1, maxLength: maxRecords },
      ) as fc.Arbitrary<RecordInput[]>,
      options: fc.record({
        baseOffset: fc.integer({ min: 0, max: 2 ** 52 }),
        compression,
        timestampType: fc.constantFrom('create' as const, 'log-append' as const),
        timestamp: around(anchor),
        producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: MAX_SAFE })),
        producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
        baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
        isTransactional: fc.boolean(),
        isControl: fc.boolean(),
        partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
      }),
    }),
  );
}

const anyCodec = fc.constantFrom(...COMPRESSION_NAMES);

/** What the decoder must return for `records` encoded with `options` (which always carries a timestamp). */
function expectedBatch(records: readonly RecordInput[], options: EncodeOptions & { timestamp: number }, size: number): DecodedBatch {
  const timestamps = records.map((r) => r.timestamp ?? options.timestamp);
  const logAppend = options.timestampType === 'log-append';
  const maxTimestamp = logAppend ? options.timestamp : Math.max(...timestamps);
  const baseOffset = options.baseOffset ?? 0;
  return {
    baseOffset,
    lastOffset: baseOffset + records.length - 1,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? -1,
    baseTimestamp: timestamps[0],
    maxTimestamp,
    timestampType: logAppend ? 'log-append' : 'create',
    producerId: options.producerId ?? -1,
    producerEpoch: options.producerEpoch ?? -1,
    baseSequence: options.baseSequence ?? -1,
    isTransactional: options.isTransactional ?? false,
    isControl: options.isControl ?? false,
    compression: options.compression ?? 'none',
    sizeInBytes: size,
    records: records.map((r, i) => ({
      offset: baseOffset + i,
      timestamp: logAppend ? maxTimestamp : timestamps[i],
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      headers: (r.headers ?? []).map((h) => ({ key: h.key, value: toBuffer(h.value) })),
    })),
  };
}

/** Checks the 61-byte header field by field with plain Buffer reads, independently of the decoder. */
function expectHeaderBytes(bytes: Buffer, records: readonly RecordInput[], options: EncodeOptions & { timestamp: number }): void {
  const expected = expectedBatch(records, options, bytes.length);
  const attributes =
    COMPRESSION_NAMES.indexOf(expected.compression) |
    (expected.timestampType === 'log-append' ? 0x08 : 0) |
    (expected.isTransactional ? 0x10 : 0) |
    (expected.isControl ? 0x20 : 0);
  expect({
    baseOffset: bytes.readBigInt64BE(0),
    batchLength: bytes.readInt32BE(8),
    partitionLeaderEpoch: bytes.readInt32BE(12),
    magic: bytes.readInt8(16),
    crc: bytes.readUInt32BE(17),
    attributes: bytes.readInt16BE(21),
    lastOffsetDelta: bytes.readInt32BE(23),
    baseTimestamp: bytes.readBigInt64BE(27),
    maxTimestamp: bytes.readBigInt64BE(35),
    producerId: bytes.readBigInt64BE(43),
    producerEpoch: bytes.readInt16BE(51),
    baseSequence: bytes.readInt32BE(53),
    recordCount: bytes.readInt32BE(57),
  }).toEqual({
    baseOffset: BigInt(expected.baseOffset),
    batchLength: bytes.length - 12,
    partitionLeaderEpoch: expected.partitionLeaderEpoch,
    magic: 2,
    crc: crc32c(bytes.subarray(21)),
    attributes,
    lastOffsetDelta: records.length - 1,
    baseTimestamp: BigInt(expected.baseTimestamp),
    maxTimestamp: BigInt(expected.maxTimestamp),
    producerId: BigInt(expected.producerId),
    producerEpoch: expected.producerEpoch,
    baseSequence: expected.baseSequence,
    recordCount: records.length,
  });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectCode(fn: () => unknown, code: TributaryError['code']): TributaryError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(TributaryError);
  expect((error as TributaryError).code).toBe(code);
  return error as TributaryError;
}

describe('encodeRecordBatch / decodeRecordBatch', () => {
  it('writes the exact bytes of a one-record batch', () => {
    const batch = encodeRecordBatch([{ key: 'k', value: 'v', headers: [{ key: 'h', value: null }], timestamp: 1000 }], { timestamp: 1000 });
    const crc = crc32c(batch.subarray(21)).toString(16).padStart(8, '0');
    expect(batch.toString('hex')).toBe(
      [
        '0000000000000000', // baseOffset
        '0000003d', // batchLength: 73 - 12
        'ffffffff', // partitionLeaderEpoch
        '02', // magic
        crc,
        '0000', // attributes
        '00000000', // lastOffsetDelta
        '00000000000003e8', // baseTimestamp
        '00000000000003e8', // maxTimestamp
        'ffffffffffffffff', // producerId
        'ffff', // producerEpoch
        'ffffffff', // baseSequence
        '00000001', // record count
        // record: length 11, attributes, timestampDelta 0, offsetDelta 0, key "k", value "v",
        // one header "h" with a null value (zigzag varints: 1 -> 02, -1 -> 01)
        '16', '00', '00', '00', '026b', '0276', '02', '0268', '01',
      ].join(''),
    );
  });

  describe.each(COMPRESSION_NAMES)('with %s', (compression) => {
    it('round-trips random records and writes every header field', () => {
      fc.assert(
        fc.property(batchInput(fc.constant(compression)), ({ records, options }) => {
          const bytes = encodeRecordBatch(records, options);
          expectHeaderBytes(bytes, records, options);
          expect(decodeRecordBatch(bytes)).toEqual(expectedBatch(records, options, bytes.length));
        }),
        { seed: 42, numRuns: 120 },
      );
    });

    it('round-trips a batch of 3000 records (past the encoder\'s size table)', () => {
      const records = Array.from({ length: 3000 }, (_, i) => ({
        key: i % 7 === 0 ? null : `user-${i % 97}`,
        value: JSON.stringify({ user: `u${i}`, page: `/p/${i % 13}`, ts: 1_700_000_000_000 + i }),
        headers: i % 5 === 0 ? [{ key: 'trace', value: Buffer.from([i & 0xff, i >> 8]) }] : [],
        timestamp: 1_700_000_000_000 + ((i * 7919) % 5000) - 2500,
      }));
      const options = { compression, timestamp: 1_700_000_000_000, baseOffset: 123_456 };
      const bytes = encodeRecordBatch(records, options);
      expect(decodeRecordBatch(bytes)).toEqual(expectedBatch(records, options, bytes.length));
    });
  });

  it('defaults: offset 0, no producer, CreateTime, the batch timestamp for records without one', () => {
    const before = Date.now();
    const batch = decodeRecordBatch(encodeRecordBatch([{ value: 'a' }, { value: 'b', timestamp: 5 }]));
    const after = Date.now();
    expect(batch).toMatchObject({ baseOffset: 0, lastOffset: 1, producerId: -1, producerEpoch: -1, baseSequence: -1, partitionLeaderEpoch: -1 });
    expect(batch.records[0].timestamp).toBeGreaterThanOrEqual(before);
    expect(batch.records[0].timestamp).toBeLessThanOrEqual(after);
    expect(batch.records[1].timestamp).toBe(5);
    expect(batch.maxTimestamp).toBe(batch.records[0].timestamp);
  });

  it('rejects an empty record list', () => {
    expectCode(() => encodeRecordBatch([]), 'INVALID_RECORD');
  });

  it('decodes an empty batch as Kafka\'s log cleaner writes it (no records, lastOffsetDelta kept)', () => {
    // DefaultRecordBatch.writeEmptyHeader: uncompressed, baseTimestamp -1, count 0, records gone.
    const batch = Buffer.from(encodeRecordBatch([{ value: 'x', timestamp: 9 }], { producerId: 7, producerEpoch: 1, baseSequence: 4, baseOffset: 100 }).subarray(0, 61));
    batch.writeInt32BE(49, 8);
    batch.writeInt32BE(5, 23);
    batch.writeBigInt64BE(-1n, 27);
    batch.writeInt32BE(0, 57);
    batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
    expect(decodeRecordBatch(batch)).toMatchObject({ baseOffset: 100, lastOffset: 105, baseTimestamp: -1, maxTimestamp: 9, producerId: 7, baseSequence: 4, records: [] });
  });
});

describe('CRC32C coverage', () => {
  const flip = (bytes: Buffer, position: number, bit: number): Buffer => {
    const copy = Buffer.from(bytes);
    copy[position] ^= 1 << bit;
    return copy;
  };

  it('detects any flipped bit from attributes to the end as CORRUPT_BATCH', () => {
    fc.assert(
      fc.property(batchInput(anyCodec, 4), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 7 }), ({ records, options }, at, bit) => {
        const bytes = encodeRecordBatch(records, options);
        const position = 21 + Math.floor(at * (bytes.length - 21));
        const error = expectCode(() => decodeRecordBatch(flip(bytes, position, bit)), 'CORRUPT_BATCH');
        expect(error.details).toMatchObject({ problem: 'CRC_MISMATCH' });
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('detects a flipped bit in the length, magic or CRC fields', () => {
    fc.assert(
      fc.property(batchInput(anyCodec, 4), fc.constantFrom(8, 9, 10, 11, 16, 17, 18, 19, 20), fc.integer({ min: 0, max: 7 }), ({ records, options }, position, bit) => {
        const bytes = encodeRecordBatch(records, options);
        expectCode(() => decodeRecordBatch(flip(bytes, position, bit)), 'CORRUPT_BATCH');
      }),
      { seed: 43, numRuns: 200 },
    );
  });

  it('does not cover baseOffset and partitionLeaderEpoch, as in Kafka: the log patches them in place', () => {
    fc.assert(
      // baseOffset (at most 2^52 here) keeps its top 12 bits, so offsets stay safe integers.
      fc.property(batchInput(anyCodec, 4), fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15), fc.integer({ min: 0, max: 7 }), ({ records, options }, position, bit) => {
        fc.pre(!(position === 1 && bit >= 4));
        const bytes = encodeRecordBatch(records, options);
        const patched = flip(bytes, position, bit);
        const decoded = decodeRecordBatch(patched);
        const original = decodeRecordBatch(bytes);
        const offsetShift = Number(patched.readBigInt64BE(0) - bytes.readBigInt64BE(0));
        expect(decoded.baseOffset).toBe(original.baseOffset + offsetShift);
        expect(decoded.partitionLeaderEpoch).toBe(patched.readInt32BE(12));
        expect(decoded.records.map((r) => r.offset)).toEqual(original.records.map((r) => r.offset + offsetShift));
        expect(decoded.records.map((r) => [r.key, r.value, r.headers, r.timestamp])).toEqual(original.records.map((r) => [r.key, r.value, r.headers, r.timestamp]));
      }),
      { seed: 44, numRuns: 200 },
    );
  });
});

describe('malformed input', () => {
  it('rejects every truncation of a batch with CORRUPT_BATCH', () => {
    fc.assert(
      fc.property(batchInput(anyCodec, 6), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), ({ records, options }, at) => {
        const bytes = encodeRecordBatch(records, options);
        expectCode(() => decodeRecordBatch(bytes.subarray(0, Math.floor(at * bytes.length))), 'CORRUPT_BATCH');
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('throws only typed errors for corrupt content under a valid CRC (a buggy producer)', () => {
    fc.assert(
      fc.property(
        batchInput(anyCodec, 6),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        ({ records, options }, edits) => {
          const bytes = Buffer.from(encodeRecordBatch(records, options));
          for (const [at, value] of edits) bytes[21 + Math.floor(at * (bytes.length - 21))] = value;
          bytes.writeUInt32BE(crc32c(bytes.subarray(21)), 17);
          const error = thrown(() => decodeRecordBatch(bytes));
          if (error !== undefined) expect(error, String(error)).toBeInstanceOf(TributaryError);
        },
      ),
      { seed: 42, numRuns: 400 },
    );
  });

  it('throws only typed errors for random bytes behind a well-formed header when the CRC is not checked', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: -2, max: 40 }), (tail, attributes, count) => {
        const bytes = Buffer.alloc(61 + tail.length);
        bytes.writeInt32BE(bytes.length - 12, 8);
        bytes[16] = 2;
        bytes.writeInt16BE(attributes, 21);
        bytes.writeInt32BE(count, 57);
        bytes.set(tail, 61);
        const error = thrown(() => decodeRecordBatch(bytes, { verifyCrc: false }));
        if (error !== undefined) expect(error, String(error)).toBeInstanceOf(TributaryError);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('names the failed check', () => {
    const bytes = encodeRecordBatch([{ value: 'v', timestamp: 1 }]);
    const wrongMagic = Buffer.from(bytes);
    wrongMagic[16] = 1;
    expect(expectCode(() => decodeRecordBatch(wrongMagic), 'CORRUPT_BATCH').details).toMatchObject({ problem: 'INVALID_MAGIC' });
    expect(expectCode(() => decodeRecordBatch(bytes.subarray(0, 60)), 'CORRUPT_BATCH').details).toMatchObject({ problem: 'TRUNCATED_HEADER' });
    expect(expectCode(() => decodeRecordBatch(bytes.subarray(0, bytes.length - 1)), 'CORRUPT_BATCH').details).toMatchObject({ problem: 'TRUNCATED_BATCH' });
    const unknownCodec = Buffer.from(bytes);
    unknownCodec.writeInt16BE(5, 21);
    unknownCodec.writeUInt32BE(crc32c(unknownCodec.subarray(21)), 17);
    expect(expectCode(() => decodeRecordBatch(unknownCodec), 'UNSUPPORTED_COMPRESSION').details).toMatchObject({ id: 5 });
  });

  it('rejects non-integer and non-finite record timestamps with INVALID_RECORD', () => {
    for (const bad of [Infinity, -Infinity, NaN, 2.5]) {
      const error = expectCode(() => encodeRecordBatch([{ value: 'a', timestamp: 5 }, { value: 'b', timestamp: bad }]), 'INVALID_RECORD');
      expect(error.details).toMatchObject({ record: 1 });
      expectCode(() => encodeRecordBatch([{ value: 'a', timestamp: bad }]), 'INVALID_RECORD');
    }
  });

  it('rejects header fields outside their int16/int32 wire widths with INVALID_RECORD', () => {
    const records = [{ value: 'a', timestamp: 1 }];
    const cases: [EncodeOptions, string][] = [
      [{ producerEpoch: 40_000 }, 'producerEpoch'],
      [{ baseSequence: 2 ** 31 }, 'baseSequence'],
      [{ partitionLeaderEpoch: 1.5 }, 'partitionLeaderEpoch'],
      [{ producerId: -2 }, 'producerId'],
      [{ baseOffset: -1 }, 'baseOffset'],
    ];
    for (const [options, field] of cases) {
      expect(expectCode(() => encodeRecordBatch(records, options), 'INVALID_RECORD').details).toMatchObject({ field });
    }
  });

  it('rejects timestamp deltas of 2^52 and more, which a zigzag varlong cannot carry exactly', () => {
    expectCode(() => encodeRecordBatch([{ value: 'a', timestamp: 0 }, { value: 'b', timestamp: 2 ** 52 }]), 'INVALID_RECORD');
    const edge = decodeRecordBatch(encodeRecordBatch([{ value: 'a', timestamp: 0 }, { value: 'b', timestamp: 2 ** 52 - 1 }]));
    expect(edge.records.map((r) => r.timestamp)).toEqual([0, 2 ** 52 - 1]);
  });
});

describe('decodeRecordBatches', () => {
  it('decodes concatenated batches and stops before a partial last batch', () => {
    fc.assert(
      fc.property(fc.array(batchInput(anyCodec, 3), { minLength: 1, maxLength: 5 }), fc.nat(), (inputs, cutSeed) => {
        const encoded = inputs.map(({ records, options }) => encodeRecordBatch(records, options));
        const last = encoded[encoded.length - 1];
        const cut = 1 + (cutSeed % (last.length - 1));
        const all = Buffer.concat(encoded);
        expect([...decodeRecordBatches(all)]).toEqual(inputs.map(({ records, options }, i) => expectedBatch(records, options, encoded[i].length)));
        expect([...decodeRecordBatches(all.subarray(0, all.length - cut))]).toHaveLength(encoded.length - 1);
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('rejects a batch length below the header size', () => {
    const bytes = Buffer.concat([encodeRecordBatch([{ value: 'a', timestamp: 1 }]), encodeRecordBatch([{ value: 'b', timestamp: 2 }])]);
    const first = bytes.readInt32BE(8) + 12;
    bytes.writeInt32BE(10, first + 8);
    const batches = decodeRecordBatches(bytes);
    expect(batches.next().value?.records[0].value).toEqual(Buffer.from('a'));
    expectCode(() => batches.next(), 'CORRUPT_BATCH');
  });
});
