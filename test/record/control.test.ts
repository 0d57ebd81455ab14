import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { decodeRecordBatch } from '../../src/record/batch-decoder.js';
import { decodeControlRecord, encodeControlBatch, type ControlBatchInput } from '../../src/record/control.js';
import { crc32c } from '../../src/record/crc32c.js';

function expectInvalid(fn: () => unknown, details: Record<string, unknown>): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe('INVALID_RECORD');
    expect((error as TributaryError).details).toMatchObject(details);
    return;
  }
  throw new Error('expected INVALID_RECORD, nothing was thrown');
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const marker = (input: Partial<ControlBatchInput> = {}): ControlBatchInput => ({
  type: 'commit',
  producerId: 4242,
  producerEpoch: 3,
  coordinatorEpoch: 17,
  timestamp: 1_700_000_000_000,
  ...input,
});

describe('encodeControlBatch', () => {
  it.each([
    ['abort', '0000'],
    ['commit', '0001'],
  ] as const)('writes a %s marker as Kafka does (key type %s)', (type, typeHex) => {
    const bytes = encodeControlBatch(marker({ type, coordinatorEpoch: 0x01020304, baseOffset: 500, partitionLeaderEpoch: 9 }));
    // EndTransactionMarker's record is 17 bytes (CURRENT_END_TXN_SCHEMA_RECORD_SIZE): length 16,
    // attributes, timestamp and offset deltas 0, a 4-byte key, a 6-byte value, no headers.
    expect(bytes.length).toBe(61 + 17);
    expect(bytes.readInt16BE(21)).toBe(0x30); // transactional | control, no compression, CreateTime
    expect(bytes.readInt32BE(53)).toBe(-1); // markers carry no sequence
    expect(bytes.readUInt32BE(17)).toBe(crc32c(bytes.subarray(21)));
    expect(bytes.subarray(61)).toEqual(hex(`20 00 00 00 08 0000${typeHex} 0c 0000 01020304 00`));

    const batch = decodeRecordBatch(bytes);
    expect(batch).toMatchObject({
      baseOffset: 500,
      lastOffset: 500,
      partitionLeaderEpoch: 9,
      isControl: true,
      isTransactional: true,
      compression: 'none',
      timestampType: 'create',
      producerId: 4242,
      producerEpoch: 3,
      baseSequence: -1,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_000,
    });
    expect(batch.records).toHaveLength(1);
    expect(batch.records[0]).toMatchObject({ offset: 500, timestamp: 1_700_000_000_000, headers: [] });
    expect(decodeControlRecord(batch.records[0])).toEqual({ type, version: 0, coordinatorEpoch: 0x01020304 });
  });

  it('round-trips random markers', () => {
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom('commit' as const, 'abort' as const),
          producerId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          producerEpoch: fc.integer({ min: 0, max: 0x7fff }),
          coordinatorEpoch: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
          timestamp: fc.integer({ min: 0, max: 2 ** 50 }),
          baseOffset: fc.integer({ min: 0, max: 2 ** 52 }),
        }),
        (input) => {
          const batch = decodeRecordBatch(encodeControlBatch(input));
          expect(batch).toMatchObject({ baseOffset: input.baseOffset, producerId: input.producerId, producerEpoch: input.producerEpoch, maxTimestamp: input.timestamp, isControl: true });
          expect(decodeControlRecord(batch.records[0])).toEqual({ type: input.type, version: 0, coordinatorEpoch: input.coordinatorEpoch });
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('rejects inputs no marker can carry, naming the field', () => {
    expectInvalid(() => encodeControlBatch(marker({ type: 'prepare' as never })), { field: 'type', value: 'prepare' });
    for (const producerId of [-1, 1.5, Number.NaN, 2 ** 53]) expectInvalid(() => encodeControlBatch(marker({ producerId })), { field: 'producerId' });
    for (const producerEpoch of [-1, 0x8000, 0.5]) expectInvalid(() => encodeControlBatch(marker({ producerEpoch })), { field: 'producerEpoch', value: producerEpoch });
    for (const coordinatorEpoch of [2 ** 31, -(2 ** 31) - 1, 1.5]) {
      expectInvalid(() => encodeControlBatch(marker({ coordinatorEpoch })), { field: 'coordinatorEpoch', value: coordinatorEpoch });
    }
  });
});

describe('decodeControlRecord', () => {
  const commitKey = hex('0000 0001');
  const value = hex('0000 00000011');

  it('reads later key and value versions with the v0 schema, as Kafka does', () => {
    expect(decodeControlRecord({ key: hex('0003 0000 ffff'), value: hex('0002 00000005 abcdef') })).toEqual({ type: 'abort', version: 2, coordinatorEpoch: 5 });
  });

  it('rejects malformed keys', () => {
    expectInvalid(() => decodeControlRecord({ key: null, value }), { keyLength: null });
    expectInvalid(() => decodeControlRecord({ key: hex('000000'), value }), { keyLength: 3 });
    expectInvalid(() => decodeControlRecord({ key: hex('ffff 0001'), value }), { keyVersion: -1 });
  });

  it('rejects control records that are not transaction markers, naming their type', () => {
    // 2-4 are KRaft's leader-change and snapshot records; -1 is Kafka's UNKNOWN.
    for (const type of [2, 3, 4, -1, 0x7fff]) {
      const key = Buffer.alloc(4);
      key.writeInt16BE(type, 2);
      expectInvalid(() => decodeControlRecord({ key, value }), { controlType: type });
    }
  });

  it('rejects malformed values', () => {
    expectInvalid(() => decodeControlRecord({ key: commitKey, value: null }), { valueLength: null });
    expectInvalid(() => decodeControlRecord({ key: commitKey, value: hex('0000 000000') }), { valueLength: 5 });
    expectInvalid(() => decodeControlRecord({ key: commitKey, value: hex('8000 00000001') }), { version: -32768 });
  });
});
