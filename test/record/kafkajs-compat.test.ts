/**
 * Byte compatibility with a real Kafka client: KafkaJS 2's RecordBatch v2 encoder and decoder.
 *
 * Batches KafkaJS encodes must decode here with every field equal, and batches encoded here must
 * decode in KafkaJS with every field equal, for none, gzip (KafkaJS's built-in zlib codec) and
 * snappy (kafkajs-snappy, the KafkaJS snappy plugin, pure JS over snappyjs).
 *
 * lz4 and zstd are not covered here: KafkaJS ships no codec for them, and its plugins need native
 * builds that this project's npm does not run (kafkajs-lz4 depends on `lz4`, built by node-gyp at
 * install; @kafkajs/zstd on `cppzst`, likewise). codecs.test.ts checks those two formats against
 * lz4js, fzstd and frames from the reference lz4/zstd tools instead.
 *
 * Two KafkaJS limits shape the inputs: its record encoder cannot write a null header value, and
 * its batch encoder writes neither the control flag nor LogAppendTime.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch } from '../../src/record/batch-decoder.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import { encodeControlBatch } from '../../src/record/control.js';
import type { CompressionName, RecordInput } from '../../src/record/types.js';

const require = createRequire(import.meta.url);

interface KafkaJSEncoder {
  readonly buffer: Buffer;
}
interface KafkaJSRecord {
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
  isControlRecord: boolean;
}
interface KafkaJSBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: KafkaJSRecord[];
}

const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: number | string): unknown };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch(input: Record<string, unknown>): Promise<KafkaJSEncoder>;
};
const KafkaJSRecordEncoder = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (input: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Record<string, Buffer | string | Array<Buffer | string>>;
}) => KafkaJSEncoder;
const decodeKafkaJSBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<KafkaJSBatch>;
const KafkaJSDecoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;
const { Types, Codecs } = require('kafkajs/src/protocol/message/compression/index.js') as {
  Types: Record<'None' | 'GZIP' | 'Snappy' | 'LZ4' | 'ZSTD', number>;
  Codecs: Record<number, unknown>;
};
// Registered as a KafkaJS application does: `CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec`.
Codecs[Types.Snappy] = require('kafkajs-snappy');

const KAFKAJS_TYPE: Partial<Record<CompressionName, number>> = { none: Types.None, gzip: Types.GZIP, snappy: Types.Snappy };
const COVERED = Object.keys(KAFKAJS_TYPE) as CompressionName[];

const toBuffer = (bytes: Buffer | string | null | undefined): Buffer | null =>
  bytes === null || bytes === undefined ? null : typeof bytes === 'string' ? Buffer.from(bytes) : bytes;

const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
const nullableBytes = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)), text(20));
const someBytes = fc.oneof(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), text(16));

/** Headers as both sides see them: an ordered list here, a key -> value | value[] object in KafkaJS. */
const headerLists = fc.array(fc.record({ key: fc.constantFrom('trace', 'source', 'ключ', '\u{1f511}', 'a'), value: someBytes }), { maxLength: 5 });

function asKafkaJSHeaders(headers: ReadonlyArray<{ key: string; value: Buffer | string | null }>): Record<string, Buffer | string | null | Array<Buffer | string | null>> {
  const grouped: Record<string, Array<Buffer | string | null>> = {};
  for (const { key, value } of headers) (grouped[key] ??= []).push(value);
  return Object.fromEntries(Object.entries(grouped).map(([key, values]) => [key, values.length === 1 ? values[0] : values]));
}

const mapHeaderValues = <T, U>(headers: Record<string, T | T[]>, f: (value: T) => U): Record<string, U | U[]> =>
  Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, Array.isArray(value) ? value.map(f) : f(value)]));

const batchShape = fc.record({
  baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
  baseTimestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
  producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
  baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
  transactional: fc.boolean(),
  records: fc.array(
    fc.record({
      timestampDelta: fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
      key: nullableBytes,
      value: nullableBytes,
      headers: headerLists,
    }),
    { minLength: 1, maxLength: 10 },
  ),
});

describe.each(COVERED)('KafkaJS <-> tributary, %s', (compression) => {
  it('decodes batches KafkaJS encodes, every field equal', async () => {
    await fc.assert(
      fc.asyncProperty(batchShape, async (shape) => {
        const timestamps = shape.records.map((r) => shape.baseTimestamp + r.timestampDelta);
        const encoded = await RecordBatch({
          compression: KAFKAJS_TYPE[compression],
          firstOffset: Long.fromValue(shape.baseOffset),
          firstTimestamp: shape.baseTimestamp,
          maxTimestamp: Math.max(...timestamps),
          partitionLeaderEpoch: shape.partitionLeaderEpoch,
          lastOffsetDelta: shape.records.length - 1,
          transactional: shape.transactional,
          producerId: Long.fromValue(shape.producerId),
          producerEpoch: shape.producerEpoch,
          firstSequence: shape.baseSequence,
          records: shape.records.map((r, i) =>
            KafkaJSRecordEncoder({ offsetDelta: i, timestampDelta: r.timestampDelta, key: r.key, value: r.value, headers: asKafkaJSHeaders(r.headers) as Record<string, Buffer | string> }),
          ),
        });
        const decoded = decodeRecordBatch(encoded.buffer);
        expect(decoded).toEqual({
          baseOffset: shape.baseOffset,
          lastOffset: shape.baseOffset + shape.records.length - 1,
          partitionLeaderEpoch: shape.partitionLeaderEpoch,
          baseTimestamp: shape.baseTimestamp,
          maxTimestamp: Math.max(...timestamps),
          timestampType: 'create',
          producerId: shape.producerId,
          producerEpoch: shape.producerEpoch,
          baseSequence: shape.baseSequence,
          isTransactional: shape.transactional,
          isControl: false,
          compression,
          sizeInBytes: encoded.buffer.length,
          records: shape.records.map((r, i) => ({
            offset: shape.baseOffset + i,
            timestamp: timestamps[i],
            key: toBuffer(r.key),
            value: toBuffer(r.value),
            // KafkaJS writes headers grouped by key, in first-seen key order.
            headers: Object.entries(asKafkaJSHeaders(r.headers)).flatMap(([key, value]) =>
              (Array.isArray(value) ? value : [value]).map((v) => ({ key, value: toBuffer(v) })),
            ),
          })),
        });
      }),
      { seed: 42, numRuns: 50 },
    );
  });

  it('encodes batches KafkaJS decodes, every field equal, with a CRC KafkaJS computes alike', async () => {
    await fc.assert(
      fc.asyncProperty(batchShape, fc.array(fc.record({ key: text(10), value: nullableBytes }), { maxLength: 3 }), async (shape, nullableHeaders) => {
        const records: RecordInput[] = shape.records.map((r, i) => ({
          key: r.key,
          value: r.value,
          headers: i === 0 ? [...r.headers, ...nullableHeaders] : r.headers,
          timestamp: shape.baseTimestamp + r.timestampDelta,
        }));
        const bytes = encodeRecordBatch(records, {
          compression,
          baseOffset: shape.baseOffset,
          partitionLeaderEpoch: shape.partitionLeaderEpoch,
          producerId: shape.producerId,
          producerEpoch: shape.producerEpoch,
          baseSequence: shape.baseSequence,
          isTransactional: shape.transactional,
        });
        expect(kafkajsCrc32C(bytes.subarray(21))).toBe(bytes.readUInt32BE(17));
        const timestamps = records.map((r) => r.timestamp as number);
        const batch = await decodeKafkaJSBatch(new KafkaJSDecoder(bytes));
        expect(batch).toEqual({
          firstOffset: String(shape.baseOffset),
          firstTimestamp: String(timestamps[0]),
          maxTimestamp: String(Math.max(...timestamps)),
          partitionLeaderEpoch: shape.partitionLeaderEpoch,
          inTransaction: shape.transactional,
          isControlBatch: false,
          lastOffsetDelta: records.length - 1,
          producerId: String(shape.producerId),
          producerEpoch: shape.producerEpoch,
          firstSequence: shape.baseSequence,
          timestampType: 0,
          records: records.map((r, i) =>
            expect.objectContaining({
              offset: String(shape.baseOffset + i),
              timestamp: String(timestamps[i]),
              key: toBuffer(r.key),
              value: toBuffer(r.value),
              headers: mapHeaderValues(asKafkaJSHeaders(r.headers ?? []), toBuffer),
              isControlRecord: false,
            }),
          ),
        });
      }),
      { seed: 43, numRuns: 50 },
    );
  });
});

describe('KafkaJS reads what only tributary writes', () => {
  it('LogAppendTime batches: every record takes the batch maxTimestamp', async () => {
    const bytes = encodeRecordBatch(
      [
        { value: 'a', timestamp: 1_000 },
        { value: 'b', timestamp: 3_000 },
      ],
      { timestampType: 'log-append', timestamp: 9_000, compression: 'gzip' },
    );
    const batch = await decodeKafkaJSBatch(new KafkaJSDecoder(bytes));
    expect(batch.timestampType).toBe(1);
    expect(batch.maxTimestamp).toBe('9000');
    expect(batch.records.map((r) => r.timestamp)).toEqual(['9000', '9000']);
  });

  it('control batches: flagged control and transactional, with the marker key and value bytes', async () => {
    const bytes = encodeControlBatch({ type: 'commit', producerId: 4242, producerEpoch: 3, coordinatorEpoch: 17, timestamp: 1_700_000_000_000, baseOffset: 77 });
    const batch = await decodeKafkaJSBatch(new KafkaJSDecoder(bytes));
    expect(batch).toMatchObject({ firstOffset: '77', isControlBatch: true, inTransaction: true, producerId: '4242', producerEpoch: 3, firstSequence: -1 });
    expect(batch.records).toHaveLength(1);
    expect(batch.records[0]).toMatchObject({ isControlRecord: true, offset: '77', key: Buffer.from('00000001', 'hex'), value: Buffer.from('000000000011', 'hex') });
  });
});
