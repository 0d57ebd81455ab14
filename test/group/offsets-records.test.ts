/**
 * `__consumer_offsets` keys and values against Kafka's JSON schemas (OffsetCommitKey,
 * OffsetCommitValue, GroupMetadataKey, GroupMetadataValue in apache/kafka's group-coordinator):
 * golden bytes derived by hand, field by field, in both directions; round trips at every
 * version; the versions a broker picks; and corrupt bytes, which must raise INVALID_RECORD and
 * nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError, type ErrorCode } from '../../src/errors.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMemberMetadata,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from '../../src/group/offsets-records.js';

const SEED = 0x0ff5e7;
const VERSIONS = [0, 1, 2, 3, 4] as const;

/** Hex with spaces and `#` comments to the end of each line, so goldens can be annotated field by field. */
const hex = (annotated: string): Buffer => Buffer.from(annotated.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, nothing was thrown');
}

function expectError(fn: () => unknown, code: ErrorCode, message?: RegExp): TributaryError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(TributaryError);
  expect((error as TributaryError).code).toBe(code);
  if (message !== undefined) expect((error as TributaryError).message).toMatch(message);
  return error as TributaryError;
}

// 1_700_000_000_000 = 0x18b_cfe5_6800, 1_800_000_000_000 = 0x1a3_185c_5000.
const COMMIT_TS = 1_700_000_000_000;
const EXPIRE_TS = 1_800_000_000_000;

describe('OffsetCommitKey', () => {
  const golden = hex(`
    0001              # version 1: Kafka's OffsetCommit record type
    0008 6d792d67726f7570 # group: string (int16 length) "my-group"
    0006 636c69636b73 # topic: "clicks"
    00000007          # partition: int32 7
  `);

  it('encodes and decodes the golden bytes', () => {
    expect(encodeOffsetCommitKey({ group: 'my-group', topic: 'clicks', partition: 7 })).toEqual(golden);
    expect(decodeOffsetsKey(golden)).toEqual({ type: 'offset', group: 'my-group', topic: 'clicks', partition: 7 });
  });

  it('reads version 0 keys (written by 0.8.2 brokers) with the same layout', () => {
    const v0 = Buffer.from(golden);
    v0.writeInt16BE(0, 0);
    expect(decodeOffsetsKey(v0)).toEqual({ type: 'offset', group: 'my-group', topic: 'clicks', partition: 7 });
  });

  it('round-trips any group, topic and partition, unicode and empty strings included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer(), (group, topic, partition) => {
        expect(decodeOffsetsKey(encodeOffsetCommitKey({ group, topic, partition }))).toEqual({ type: 'offset', group, topic, partition });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('GroupMetadataKey', () => {
  const golden = hex(`
    0002              # version 2: Kafka's GroupMetadata record type
    0008 6d792d67726f7570 # group: "my-group"
  `);

  it('encodes and decodes the golden bytes', () => {
    expect(encodeGroupMetadataKey('my-group')).toEqual(golden);
    expect(decodeOffsetsKey(golden)).toEqual({ type: 'group', group: 'my-group' });
  });

  it('round-trips any group id', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (group) => {
        expect(decodeOffsetsKey(encodeGroupMetadataKey(group))).toEqual({ type: 'group', group });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('rejects the key versions of record types tributary does not read, naming the version', () => {
    for (const version of [3, 8, 15, 0x7fff, -1]) {
      const error = expectError(() => decodeOffsetsKey(hex(`${(version & 0xffff).toString(16).padStart(4, '0')} 0001 67`)), 'INVALID_RECORD', /__consumer_offsets key: version/);
      expect(error.details).toMatchObject({ field: 'version', version });
    }
  });
});

describe('OffsetCommitValue', () => {
  const commit: OffsetCommitValue = { offset: 42, leaderEpoch: 5, metadata: '', commitTimestamp: COMMIT_TS };

  const goldens: Record<(typeof VERSIONS)[number], Buffer> = {
    0: hex(`
      0000              # version 0
      000000000000002a  # offset: int64 42
      0000              # metadata: string ""
      0000018bcfe56800  # commitTimestamp: int64
    `),
    1: hex(`
      0001              # version 1: no leaderEpoch, has expireTimestamp
      000000000000002a  # offset
      0000              # metadata
      0000018bcfe56800  # commitTimestamp
      000001a3185c5000  # expireTimestamp: int64
    `),
    2: hex(`
      0002              # version 2: as version 0
      000000000000002a  # offset
      0000              # metadata
      0000018bcfe56800  # commitTimestamp
    `),
    3: hex(`
      0003              # version 3: adds leaderEpoch
      000000000000002a  # offset
      00000005          # leaderEpoch: int32 5
      0000              # metadata
      0000018bcfe56800  # commitTimestamp
    `),
    4: hex(`
      0004              # version 4: first flexible version
      000000000000002a  # offset
      00000005          # leaderEpoch
      01                # metadata: compact string, unsigned varint length + 1 = 1 -> ""
      0000018bcfe56800  # commitTimestamp
      00                # tagged fields: none
    `),
  };

  it('writes version 3 by default and version 1 when an expire timestamp is set, as a broker does', () => {
    expect(encodeOffsetCommitValue(commit)).toEqual(goldens[3]);
    expect(encodeOffsetCommitValue({ ...commit, expireTimestamp: EXPIRE_TS })).toEqual(goldens[1]);
  });

  it.each(VERSIONS)('encodes and decodes the golden bytes of version %i', (version) => {
    const value = version === 1 ? { ...commit, expireTimestamp: EXPIRE_TS } : commit;
    expect(encodeOffsetCommitValue(value, { version })).toEqual(goldens[version]);
    expect(decodeOffsetCommitValue(goldens[version])).toEqual(projectCommit(value, version));
  });

  it('reads an expire timestamp of -1 (Kafka\'s "none") as absent', () => {
    const none = Buffer.from(goldens[1]);
    none.fill(0xff, none.length - 8); // expireTimestamp, the last field: int64 -1
    expect(decodeOffsetCommitValue(none)).toEqual({ ...commit, leaderEpoch: -1 });
  });

  it('skips unknown tagged fields in version 4', () => {
    const tagged = Buffer.concat([
      goldens[4].subarray(0, -1),
      hex(`
        02          # two tagged fields
        00 03 616263 # tag 0, 3 bytes
        07 00       # tag 7, empty
      `),
    ]);
    expect(decodeOffsetCommitValue(tagged)).toEqual(commit);
  });

  it('ignores bytes after the last field, as Kafka does', () => {
    expect(decodeOffsetCommitValue(Buffer.concat([goldens[3], hex('deadbeef')]))).toEqual(commit);
  });

  it.each(VERSIONS)('round-trips any value at version %i', (version) => {
    fc.assert(
      fc.property(offsetCommitValue(), (value) => {
        expect(decodeOffsetCommitValue(encodeOffsetCommitValue(value, { version }))).toEqual(projectCommit(value, version));
      }),
      { seed: SEED + version, numRuns: 200 },
    );
  });

  it('round-trips at the version a broker picks without losing what that version holds', () => {
    fc.assert(
      fc.property(offsetCommitValue(), (value) => {
        const bytes = encodeOffsetCommitValue(value);
        const version = bytes.readInt16BE(0);
        expect(version).toBe(value.expireTimestamp === undefined ? 3 : 1);
        expect(decodeOffsetCommitValue(bytes)).toEqual(projectCommit(value, version));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('rejects unknown and negative versions', () => {
    for (const version of [5, 100, -1]) {
      const bytes = Buffer.from(goldens[3]);
      bytes.writeInt16BE(version, 0);
      const error = expectError(() => decodeOffsetCommitValue(bytes), 'INVALID_RECORD', new RegExp(`version ${version} is not a known version`));
      expect(error.details).toMatchObject({ structure: 'OffsetCommitValue', field: 'version', version, position: 2 });
    }
  });

  it('rejects bad inputs with INVALID_REQUEST naming the field, and bad options with INVALID_CONFIG', () => {
    expectError(() => encodeOffsetCommitValue({ ...commit, offset: 1.5 }), 'INVALID_REQUEST', /OffsetCommitValue: offset must be an integer/);
    expectError(() => encodeOffsetCommitValue({ ...commit, offset: 2 ** 53 }), 'INVALID_REQUEST', /offset/);
    expectError(() => encodeOffsetCommitValue({ ...commit, leaderEpoch: 2 ** 31 }), 'INVALID_REQUEST', /leaderEpoch/);
    expectError(() => encodeOffsetCommitValue({ ...commit, metadata: null as unknown as string }), 'INVALID_REQUEST', /metadata must be a string/);
    expectError(() => encodeOffsetCommitValue({ ...commit, metadata: 'x'.repeat(0x8000) }), 'INVALID_REQUEST', /32768 UTF-8 bytes/);
    expectError(() => encodeOffsetCommitValue({ ...commit, expireTimestamp: -1 }), 'INVALID_REQUEST', /expireTimestamp/);
    expectError(() => encodeOffsetCommitValue(null as unknown as OffsetCommitValue), 'INVALID_REQUEST', /value must be an object/);
    expectError(() => encodeOffsetCommitValue(commit, { version: 5 }), 'INVALID_CONFIG', /version/);
    expectError(() => encodeOffsetCommitValue(commit, { versoin: 3 } as never), 'INVALID_CONFIG', /did you mean 'version'/);
    expectError(() => encodeOffsetCommitKey({ group: 'g', topic: 't', partition: 2 ** 31 }), 'INVALID_REQUEST', /partition/);
    expectError(() => encodeGroupMetadataKey(7 as unknown as string), 'INVALID_REQUEST', /group must be a string/);
  });

  it.each([3, 4])('writes the longest string Kafka allows (32767 UTF-8 bytes) at version %i', (version) => {
    const metadata = 'é'.repeat(16383) + 'x';
    const bytes = encodeOffsetCommitValue({ ...commit, metadata }, { version });
    if (version === 4) expect(bytes.subarray(14, 17).toString('hex')).toBe('808002'); // compact length 32767 + 1
    expect(decodeOffsetCommitValue(bytes).metadata).toBe(metadata);
  });
});

describe('GroupMetadataValue', () => {
  const member: GroupMemberMetadata = {
    memberId: 'm-1',
    groupInstanceId: 'app-1',
    clientId: 'rdkafka',
    clientHost: '/10.0.0.1',
    rebalanceTimeout: 300_000,
    sessionTimeout: 45_000,
    subscription: hex('0102'),
    assignment: Buffer.alloc(0),
  };
  const group: GroupMetadataValue = {
    protocolType: 'consumer',
    generation: 3,
    protocol: 'range',
    leader: 'm-1',
    currentStateTimestamp: COMMIT_TS,
    members: [member],
  };

  const v3 = hex(`
    0003                      # version 3
    0008 636f6e73756d6572     # protocolType: "consumer"
    00000003                  # generation: int32 3
    0005 72616e6765           # protocol: nullable string "range"
    0003 6d2d31               # leader: nullable string "m-1"
    0000018bcfe56800          # currentStateTimestamp: int64 (v2+)
    00000001                  # members: array, int32 count 1
      0003 6d2d31             #   memberId: "m-1"
      0005 6170702d31         #   groupInstanceId: nullable string "app-1" (v3+)
      0007 72646b61666b61     #   clientId: "rdkafka"
      0009 2f31302e302e302e31 #   clientHost: "/10.0.0.1"
      000493e0                #   rebalanceTimeout: int32 300000 (v1+)
      0000afc8                #   sessionTimeout: int32 45000
      00000002 0102           #   subscription: bytes, int32 length 2
      00000000                #   assignment: bytes, empty
  `);

  const v4 = hex(`
    0004                      # version 4: flexible
    09 636f6e73756d6572       # protocolType: compact string, length + 1 = 9
    00000003                  # generation
    06 72616e6765             # protocol: compact nullable string
    04 6d2d31                 # leader
    0000018bcfe56800          # currentStateTimestamp
    02                        # members: compact array, count + 1 = 2
      04 6d2d31               #   memberId
      06 6170702d31           #   groupInstanceId
      08 72646b61666b61       #   clientId
      0a 2f31302e302e302e31   #   clientHost
      000493e0                #   rebalanceTimeout
      0000afc8                #   sessionTimeout
      03 0102                 #   subscription: compact bytes, length + 1 = 3
      01                      #   assignment: compact bytes, empty
      00                      #   member's tagged fields: none
    00                        # tagged fields: none
  `);

  const v0 = hex(`
    0000                      # version 0
    0008 636f6e73756d6572     # protocolType
    00000003                  # generation
    0005 72616e6765           # protocol
    0003 6d2d31               # leader
    00000001                  # members: 1
      0003 6d2d31             #   memberId
      0007 72646b61666b61     #   clientId
      0009 2f31302e302e302e31 #   clientHost
      0000afc8                #   sessionTimeout
      00000002 0102           #   subscription
      00000000                #   assignment
  `);

  it('writes version 3 by default, as a broker does, and decodes it', () => {
    expect(encodeGroupMetadataValue(group)).toEqual(v3);
    expect(decodeGroupMetadataValue(v3)).toEqual(group);
  });

  it('encodes and decodes the flexible version 4', () => {
    expect(encodeGroupMetadataValue(group, { version: 4 })).toEqual(v4);
    expect(decodeGroupMetadataValue(v4)).toEqual(group);
  });

  it('encodes and decodes version 0, whose missing fields read as their defaults', () => {
    expect(encodeGroupMetadataValue(group, { version: 0 })).toEqual(v0);
    expect(decodeGroupMetadataValue(v0)).toEqual({
      ...group,
      currentStateTimestamp: -1,
      members: [{ ...member, groupInstanceId: null, rebalanceTimeout: -1 }],
    });
  });

  it('encodes an empty group as Kafka writes one (no protocol type, protocol or leader)', () => {
    const empty: GroupMetadataValue = { protocolType: '', generation: 0, protocol: null, leader: null, currentStateTimestamp: COMMIT_TS, members: [] };
    const golden = hex(`
      0003              # version 3
      0000              # protocolType: ""
      00000000          # generation 0
      ffff              # protocol: null (int16 length -1)
      ffff              # leader: null
      0000018bcfe56800  # currentStateTimestamp
      00000000          # members: none
    `);
    expect(encodeGroupMetadataValue(empty)).toEqual(golden);
    expect(decodeGroupMetadataValue(golden)).toEqual(empty);
  });

  it('decodes member bytes as copies that do not alias the input', () => {
    const bytes = Buffer.from(v3);
    const decoded = decodeGroupMetadataValue(bytes);
    bytes.fill(0);
    expect(decoded.members[0].subscription).toEqual(hex('0102'));
  });

  it.each(VERSIONS)('round-trips any value at version %i, many members included', (version) => {
    fc.assert(
      fc.property(groupMetadataValue(), (value) => {
        expect(decodeGroupMetadataValue(encodeGroupMetadataValue(value, { version }))).toEqual(projectGroup(value, version));
      }),
      { seed: SEED + version, numRuns: 100 },
    );
  });

  it('rejects non-nullable fields serialized as null, negative lengths and impossible counts', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['null protocolType', hex('0003 ffff'), /protocolType is a non-nullable string serialized as null/],
      ['string length -2', hex('0003 fffe'), /protocolType has invalid string length -2/],
      ['null members', hex('0003 0000 00000000 ffff ffff 0000000000000000 ffffffff'), /members is a non-nullable array serialized as null/],
      ['negative member count', hex('0003 0000 00000000 ffff ffff 0000000000000000 80000000'), /members has invalid array length/],
      ['member count beyond the bytes', hex('0003 0000 00000000 ffff ffff 0000000000000000 7fffffff'), /members has 2147483647 elements but only 0 bytes remain/],
      ['null subscription', hex('0000 0000 00000000 ffff ffff 00000001 0000 0000 0000 00000000 ffffffff'), /subscription is non-nullable bytes serialized as null/],
      ['bytes length -2', hex('0000 0000 00000000 ffff ffff 00000001 0000 0000 0000 00000000 fffffffe'), /subscription has invalid bytes length -2/],
      ['compact string length beyond 32767', hex('0004 828002'), /protocolType has invalid string length 32769/],
      ['overlong unsigned varint', hex('0004 ffffffffff01'), /longer than 5 bytes/],
    ];
    for (const [name, bytes, message] of cases) {
      expect(() => decodeGroupMetadataValue(bytes), name).toThrow(message);
      expectError(() => decodeGroupMetadataValue(bytes), 'INVALID_RECORD');
    }
  });

  it('rejects bad inputs with INVALID_REQUEST naming the field', () => {
    expectError(() => encodeGroupMetadataValue({ ...group, members: [{ ...member, subscription: 'x' as unknown as Uint8Array }] }), 'INVALID_REQUEST', /subscription must be a Buffer/);
    expectError(() => encodeGroupMetadataValue({ ...group, members: [null as unknown as GroupMemberMetadata] }), 'INVALID_REQUEST', /members\[\] must be an object/);
    expectError(() => encodeGroupMetadataValue({ ...group, members: {} as unknown as GroupMemberMetadata[] }), 'INVALID_REQUEST', /members must be an array/);
    expectError(() => encodeGroupMetadataValue({ ...group, generation: -(2 ** 31) - 1 }), 'INVALID_REQUEST', /generation/);
    expectError(() => encodeGroupMetadataValue({ ...group, protocolType: null as unknown as string }), 'INVALID_REQUEST', /protocolType must be a string/);
  });
});

describe('corrupt bytes', () => {
  const decoders: [string, (bytes: Buffer) => unknown, fc.Arbitrary<Buffer>][] = [
    ['offsets key', decodeOffsetsKey, fc.oneof(
      fc.record({ group: fc.string({ maxLength: 8 }), topic: fc.string({ maxLength: 8 }), partition: fc.integer() }).map(encodeOffsetCommitKey),
      fc.string({ maxLength: 8 }).map(encodeGroupMetadataKey),
    )],
    ['offset commit value', decodeOffsetCommitValue, fc.tuple(offsetCommitValue(), fc.constantFrom(...VERSIONS)).map(([v, version]) => encodeOffsetCommitValue(v, { version }))],
    ['group metadata value', decodeGroupMetadataValue, fc.tuple(groupMetadataValue(3), fc.constantFrom(...VERSIONS)).map(([v, version]) => encodeGroupMetadataValue(v, { version }))],
  ];

  // Every field is required, so every strict prefix is short of something: a field's bytes, or
  // the bytes an array's count promises.
  it.each(decoders)('a %s truncated at any position raises INVALID_RECORD', (_name, decode, encoded) => {
    fc.assert(
      fc.property(encoded, (bytes) => {
        for (let length = 0; length < bytes.length; length++) {
          expectError(() => decode(bytes.subarray(0, length)), 'INVALID_RECORD', /truncated|bytes remain/);
        }
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it.each(decoders)('a %s with random bytes changed decodes or raises INVALID_RECORD, nothing else', (_name, decode, encoded) => {
    const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(encoded, flips, (bytes, changes) => {
        const corrupt = Buffer.from(bytes);
        for (const [at, byte] of changes) corrupt[at % corrupt.length] = byte;
        try {
          decode(corrupt);
        } catch (error) {
          expect(error).toBeInstanceOf(TributaryError);
          expect((error as TributaryError).code).toBe('INVALID_RECORD');
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('rejects a missing key or value as bytes, not with a TypeError', () => {
    expectError(() => decodeOffsetsKey(null as unknown as Buffer), 'INVALID_RECORD', /expected bytes/);
    expectError(() => decodeOffsetCommitValue(undefined as unknown as Buffer), 'INVALID_RECORD', /expected bytes/);
  });

  it('reads a plain Uint8Array view as well as a Buffer', () => {
    const bytes = encodeOffsetCommitKey({ group: 'g', topic: 't', partition: 1 });
    const view = new Uint8Array(bytes.length + 4);
    view.set(bytes, 4);
    expect(decodeOffsetsKey(view.subarray(4))).toEqual({ type: 'offset', group: 'g', topic: 't', partition: 1 });
  });
});

/** Strings as Kafka clients send them: unicode, sometimes empty. */
function kafkaString(maxLength = 16): fc.Arbitrary<string> {
  return fc.string({ unit: 'grapheme', maxLength });
}

function offsetCommitValue(): fc.Arbitrary<OffsetCommitValue> {
  return fc
    .record({
      offset: fc.maxSafeInteger(),
      leaderEpoch: fc.integer(),
      metadata: kafkaString(40),
      commitTimestamp: fc.maxSafeInteger(),
      expireTimestamp: fc.option(fc.maxSafeNat(), { nil: undefined }),
    })
    .map(({ expireTimestamp, ...rest }) => (expireTimestamp === undefined ? rest : { ...rest, expireTimestamp }));
}

function groupMetadataValue(maxMembers = 12): fc.Arbitrary<GroupMetadataValue> {
  const bytes = fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b));
  const member: fc.Arbitrary<GroupMemberMetadata> = fc.record({
    memberId: kafkaString(),
    groupInstanceId: fc.option(kafkaString()),
    clientId: kafkaString(),
    clientHost: kafkaString(),
    rebalanceTimeout: fc.integer(),
    sessionTimeout: fc.integer(),
    subscription: bytes,
    assignment: bytes,
  });
  return fc.record({
    protocolType: kafkaString(),
    generation: fc.integer(),
    protocol: fc.option(kafkaString()),
    leader: fc.option(kafkaString()),
    currentStateTimestamp: fc.maxSafeInteger(),
    members: fc.array(member, { maxLength: maxMembers }),
  });
}

/** What a value reads back as after being written at `version`: fields the version lacks take the schema's defaults. */
function projectCommit(value: OffsetCommitValue, version: number): OffsetCommitValue {
  const { expireTimestamp, ...rest } = value;
  const projected = { ...rest, leaderEpoch: version >= 3 ? value.leaderEpoch : -1 };
  return version === 1 && expireTimestamp !== undefined ? { ...projected, expireTimestamp } : projected;
}

function projectGroup(value: GroupMetadataValue, version: number): GroupMetadataValue {
  return {
    ...value,
    currentStateTimestamp: version >= 2 ? value.currentStateTimestamp : -1,
    members: value.members.map((m) => ({
      ...m,
      groupInstanceId: version >= 3 ? m.groupInstanceId : null,
      rebalanceTimeout: version >= 1 ? m.rebalanceTimeout : -1,
    })),
  };
}
