/**
 * The producer's way to a batch: records written one at a time with `writeRecord`, then framed
 * with `frameRecordBatch`. Its bytes must be exactly those of `encodeRecordBatch` for the same
 * records and options, whatever the codec, so the two paths can never drift apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { encodeRecordBatch, frameRecordBatch, writeRecord } from '../../src/record/batch-encoder.js';
import { BATCH_HEADER_SIZE } from '../../src/record/batch-header.js';
import { COMPRESSION_NAMES } from '../../src/record/codecs/index.js';
import type { RecordInput } from '../../src/record/types.js';
import { varintSize } from '../../src/record/varint.js';

type Bytes = Buffer | string | null;

const utf8Length = (bytes: Bytes | undefined): number =>
  bytes === null || bytes === undefined ? -1 : typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length;

const field = (length: number): number => varintSize(length) + Math.max(length, 0);

/** A record's size after its length varint, computed from the format's definition. */
function bodySize(record: RecordInput, timestampDelta: number, offsetDelta: number): number {
  const headers = record.headers ?? [];
  let size = 1 + varintSize(timestampDelta) + varintSize(offsetDelta) + field(utf8Length(record.key)) + field(utf8Length(record.value)) + varintSize(headers.length);
  for (const header of headers) size += field(utf8Length(header.key)) + field(utf8Length(header.value));
  return size;
}

/** Writes `records` as the producer does: each at the end of the last, after room for the header. */
function writeAll(records: readonly RecordInput[]): { records: Buffer; baseTimestamp: number; maxTimestamp: number } {
  const baseTimestamp = records[0].timestamp!;
  const bodies = records.map((record, i) => bodySize(record, record.timestamp! - baseTimestamp, i));
  const total = bodies.reduce((sum, body) => sum + varintSize(body) + body, 0);
  const buf = Buffer.alloc(BATCH_HEADER_SIZE + total);
  let pos = BATCH_HEADER_SIZE;
  records.forEach((record, i) => {
    const key = record.key ?? null;
    pos = writeRecord(buf, pos, bodies[i], record.timestamp! - baseTimestamp, i, key, utf8Length(key), record.value, utf8Length(record.value), record.headers);
  });
  expect(pos).toBe(buf.length);
  return { records: buf.subarray(BATCH_HEADER_SIZE), baseTimestamp, maxTimestamp: Math.max(...records.map((r) => r.timestamp!)) };
}

// ASCII, Latin-1, astral and lone-surrogate strings: the writer takes a Latin-1 shortcut for ASCII only.
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('é', '\ud800', 'naïve', '😀x'));
const bytes: fc.Arbitrary<Bytes> = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)), text);
const records = fc.array(
  fc.record({
    key: bytes,
    value: bytes,
    headers: fc.array(fc.record({ key: text, value: bytes }), { maxLength: 3 }),
    timestamp: fc.integer({ min: 1_700_000_000_000 - 2 ** 35, max: 1_700_000_000_000 + 2 ** 35 }),
  }),
  { minLength: 1, maxLength: 20 },
) as fc.Arbitrary<RecordInput[]>;
const options = fc.record({
  compression: fc.constantFrom(...COMPRESSION_NAMES),
  producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
  baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
  timestampType: fc.constantFrom('create' as const, 'log-append' as const),
});

describe('writeRecord + frameRecordBatch', () => {
  it('write the bytes encodeRecordBatch writes, with every codec', () => {
    fc.assert(
      fc.property(records, options, (input, opts) => {
        const written = writeAll(input);
        const framed = frameRecordBatch(written.records, { count: input.length, ...written }, opts);
        expect(framed.equals(encodeRecordBatch(input, opts))).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('frame the same records again into identical bytes (a retry), and into a new header when restamped', () => {
    const input: RecordInput[] = Array.from({ length: 200 }, (_, i) => ({ key: `u${i % 17}`, value: JSON.stringify({ i, page: `/p/${i % 9}` }), timestamp: 1_700_000_000_000 + i }));
    const written = writeAll(input);
    const stamp = { compression: 'lz4' as const, producerId: 9, producerEpoch: 0, baseSequence: 400 };
    const first = frameRecordBatch(written.records, { count: 200, ...written }, stamp);
    expect(frameRecordBatch(written.records, { count: 200, ...written }, stamp).equals(first)).toBe(true);
    const restamped = frameRecordBatch(written.records, { count: 200, ...written }, { ...stamp, producerId: 10, baseSequence: 0 });
    expect(restamped.equals(encodeRecordBatch(input, { ...stamp, producerId: 10, baseSequence: 0 }))).toBe(true);
  });

  it('rejects framing no records', () => {
    expect(() => frameRecordBatch(Buffer.alloc(0), { count: 0, baseTimestamp: 0, maxTimestamp: 0 })).toThrow(TributaryError);
  });
});
