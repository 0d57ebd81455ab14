/**
 * The consumer embedded protocol against Kafka's schemas (ConsumerProtocolSubscription and
 * ConsumerProtocolAssignment, versions 0-3) and ConsumerProtocol.java's rules, and against an
 * independent implementation: KafkaJS's AssignerProtocol, which writes and reads the fields of
 * version 0 under any version number.
 */
import fc from 'fast-check';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TributaryError, type ErrorCode } from '../../src/errors.js';
import { cooperativeStickyAssignor, type AssignorMember, type TopicPartition } from '../../src/group/assignors/index.js';
import {
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
  type ConsumerAssignment,
  type ConsumerAssignmentInput,
  type ConsumerSubscription,
  type ConsumerSubscriptionInput,
} from '../../src/group/consumer-protocol.js';

const { AssignerProtocol } = kafkajs;
const SEED = 0xc0de;
const VERSIONS = [0, 1, 2, 3] as const;

/** Hex with spaces and `#` comments to the end of each line, so goldens can be annotated field by field. */
const hex = (annotated: string): Buffer => Buffer.from(annotated.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

function expectError(fn: () => unknown, code: ErrorCode, message?: RegExp): TributaryError {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(TributaryError);
  expect((error as TributaryError).code).toBe(code);
  if (message !== undefined) expect((error as TributaryError).message).toMatch(message);
  return error as TributaryError;
}

describe('subscription', () => {
  const subscription: ConsumerSubscriptionInput = {
    topics: ['views', 'clicks'],
    userData: hex('cafe'),
    ownedPartitions: [tp('views', 1), tp('clicks', 0), tp('views', 0)],
    generation: 4,
    rackId: 'rack-a',
  };
  const v3 = hex(`
    0003                      # version 3
    00000002                  # topics: array, int32 count 2, written sorted
      0006 636c69636b73       #   "clicks"
      0005 7669657773         #   "views"
    00000002 cafe             # userData: nullable bytes, int32 length 2
    00000002                  # ownedPartitions (v1+): one entry per topic, sorted by topic then partition
      0006 636c69636b73       #   topic "clicks"
      00000001 00000000       #   partitions: [0]
      0005 7669657773         #   topic "views"
      00000002 00000000 00000001 # partitions: [0, 1]
    00000004                  # generationId (v2+): int32 4
    0006 7261636b2d61         # rackId (v3+): nullable string "rack-a"
  `);
  const decodedV3: ConsumerSubscription = {
    topics: ['clicks', 'views'],
    userData: hex('cafe'),
    ownedPartitions: [tp('clicks', 0), tp('views', 0), tp('views', 1)],
    generation: 4,
    rackId: 'rack-a',
  };

  it('writes version 3 by default, as Kafka\'s consumer does, and reads it back', () => {
    expect(encodeConsumerSubscription(subscription)).toEqual(v3);
    expect(decodeConsumerSubscription(v3)).toEqual(decodedV3);
  });

  it('writes version 0 with only topics and user data', () => {
    const v0 = hex(`
      0000                # version 0
      00000002 0006 636c69636b73 0005 7669657773 # topics
      00000002 cafe       # userData
    `);
    expect(encodeConsumerSubscription(subscription, { version: 0 })).toEqual(v0);
    expect(decodeConsumerSubscription(v0)).toEqual({ topics: ['clicks', 'views'], userData: hex('cafe'), ownedPartitions: [], rackId: null });
  });

  it('writes defaults for what the caller leaves out: null user data, no owned partitions, generation -1, null rack', () => {
    expect(encodeConsumerSubscription({ topics: [] })).toEqual(hex('0003 00000000 ffffffff 00000000 ffffffff ffff'));
    expect(decodeConsumerSubscription(hex('0003 00000000 ffffffff 00000000 ffffffff ffff'))).toEqual({ topics: [], userData: null, ownedPartitions: [], rackId: null });
  });

  it('reads an empty rack id as null, as Kafka does', () => {
    expect(decodeConsumerSubscription(hex('0003 00000000 ffffffff 00000000 ffffffff 0000')).rackId).toBeNull();
  });

  it.each(VERSIONS)('round-trips any subscription at version %i, unicode and many partitions included', (version) => {
    fc.assert(
      fc.property(subscriptionInput(), (input) => {
        expect(decodeConsumerSubscription(encodeConsumerSubscription(input, { version }))).toEqual(projectSubscription(input, version));
      }),
      { seed: SEED + version, numRuns: 200 },
    );
  });

  it('round-trips 10,000 owned partitions over 50 topics', () => {
    const owned = Array.from({ length: 10_000 }, (_, i) => tp(`topic-${i % 50}`, Math.floor(i / 50)));
    const decoded = decodeConsumerSubscription(encodeConsumerSubscription({ topics: ['topic-0'], ownedPartitions: owned, generation: 9 }));
    expect(decoded.ownedPartitions).toEqual([...owned].sort(byTopicThenPartition));
    expect(decoded.generation).toBe(9);
  });

  it('reads a newer version than it knows as version 3, ignoring the fields after', () => {
    const v7 = Buffer.concat([v3, hex('00000001 0002 6869')]);
    v7.writeInt16BE(7, 0);
    expect(decodeConsumerSubscription(v7)).toEqual(decodedV3);
  });

  it('feeds an assignor directly: decoded subscriptions assign as the originals do', () => {
    const partitionsPerTopic = { clicks: 12, views: 5, orders: 3 };
    const topicsOf = [['clicks', 'views'], ['clicks'], ['clicks', 'views', 'orders'], ['views', 'orders']];
    const first = cooperativeStickyAssignor.assign({
      members: topicsOf.map((topics, i) => ({ memberId: `m${i}`, topics })),
      partitionsPerTopic,
    });
    // The next rebalance: three of the members come back owning what they had in generation 1.
    const rejoining: AssignorMember[] = topicsOf.slice(0, 3).map((topics, i) => ({
      memberId: `m${i}`,
      groupInstanceId: i === 0 ? 'static-0' : null,
      topics,
      ownedPartitions: first.get(`m${i}`),
      generation: 1,
    }));
    const throughBytes: AssignorMember[] = rejoining.map(({ memberId, groupInstanceId, ...subscription }) => ({
      memberId,
      groupInstanceId,
      ...decodeConsumerSubscription(encodeConsumerSubscription(subscription)),
    }));
    const expected = cooperativeStickyAssignor.assign({ members: rejoining, partitionsPerTopic });
    const actual = cooperativeStickyAssignor.assign({ members: throughBytes, partitionsPerTopic });
    expect(actual).toEqual(expected);
    for (const [memberId, assignedPartitions] of actual) {
      expect(decodeConsumerAssignment(encodeConsumerAssignment({ assignedPartitions })).assignedPartitions, memberId).toEqual(assignedPartitions);
    }
  });

  it('rejects bad inputs with INVALID_REQUEST naming the field, and bad options with INVALID_CONFIG', () => {
    expectError(() => encodeConsumerSubscription({ topics: 'clicks' as unknown as string[] }), 'INVALID_REQUEST', /topics must be an array/);
    expectError(() => encodeConsumerSubscription({ topics: [null as unknown as string] }), 'INVALID_REQUEST', /topics\[\] must be a string/);
    expectError(() => encodeConsumerSubscription({ topics: [], ownedPartitions: [null as unknown as TopicPartition] }), 'INVALID_REQUEST', /ownedPartitions\[\] must be an object/);
    expectError(() => encodeConsumerSubscription({ topics: [], ownedPartitions: [tp('a', 1.5)] }), 'INVALID_REQUEST', /ownedPartitions\[\]\.partitions\[\] must be an integer/);
    expectError(() => encodeConsumerSubscription({ topics: [], generation: 2 ** 31 }), 'INVALID_REQUEST', /generation/);
    expectError(() => encodeConsumerSubscription({ topics: [], userData: 'x' as unknown as Buffer }), 'INVALID_REQUEST', /userData must be a Buffer/);
    expectError(() => encodeConsumerSubscription(undefined as unknown as ConsumerSubscriptionInput), 'INVALID_REQUEST', /subscription must be an object/);
    expectError(() => encodeConsumerSubscription({ topics: [] }, { version: 4 }), 'INVALID_CONFIG', /version/);
    expectError(() => encodeConsumerSubscription({ topics: [] }, { verison: 1 } as never), 'INVALID_CONFIG', /did you mean 'version'/);
  });
});

describe('assignment', () => {
  const assignment: ConsumerAssignmentInput = { assignedPartitions: [tp('views', 2), tp('clicks', 1), tp('views', 0)] };
  const v3 = hex(`
    0003                      # version 3 (the layout of every version)
    00000002                  # assignedPartitions: one entry per topic, in order of first appearance
      0005 7669657773         #   topic "views"
      00000002 00000002 00000000 # partitions: [2, 0], as given
      0006 636c69636b73       #   topic "clicks"
      00000001 00000001       #   partitions: [1]
    ffffffff                  # userData: null
  `);

  it('encodes and decodes the golden bytes', () => {
    expect(encodeConsumerAssignment(assignment)).toEqual(v3);
    expect(decodeConsumerAssignment(v3)).toEqual({ assignedPartitions: [tp('views', 2), tp('views', 0), tp('clicks', 1)], userData: null });
  });

  it.each(VERSIONS)('round-trips any assignment at version %i, the same layout under every version number', (version) => {
    fc.assert(
      fc.property(assignmentInput(), (input) => {
        const bytes = encodeConsumerAssignment(input, { version });
        expect(bytes.readInt16BE(0)).toBe(version);
        expect(bytes.subarray(2)).toEqual(encodeConsumerAssignment(input).subarray(2));
        expect(decodeConsumerAssignment(bytes)).toEqual(projectAssignment(input));
      }),
      { seed: SEED + version, numRuns: 200 },
    );
  });

  it('keeps empty user data distinct from null', () => {
    expect(decodeConsumerAssignment(encodeConsumerAssignment({ assignedPartitions: [], userData: Buffer.alloc(0) })).userData).toEqual(Buffer.alloc(0));
    expect(decodeConsumerAssignment(encodeConsumerAssignment({ assignedPartitions: [] })).userData).toBeNull();
  });

  it('reads a newer version than it knows, ignoring trailing fields', () => {
    const v5 = Buffer.concat([v3, hex('0000 0001')]);
    v5.writeInt16BE(5, 0);
    expect(decodeConsumerAssignment(v5)).toEqual(decodeConsumerAssignment(v3));
  });

  it('rejects bad inputs with INVALID_REQUEST naming the field', () => {
    expectError(() => encodeConsumerAssignment({ assignedPartitions: [tp('a', -(2 ** 31) - 1)] }), 'INVALID_REQUEST', /assignedPartitions\[\]\.partitions\[\]/);
    expectError(() => encodeConsumerAssignment({ assignedPartitions: [{ topic: 7, partition: 0 } as unknown as TopicPartition] }), 'INVALID_REQUEST', /assignedPartitions\[\]\.topic must be a string/);
    expectError(() => encodeConsumerAssignment({} as ConsumerAssignmentInput), 'INVALID_REQUEST', /assignedPartitions must be an array/);
  });
});

describe('KafkaJS AssignerProtocol', () => {
  const topicName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/);
  const userData = fc.option(fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)));

  it('reads our subscriptions of every version (the fields of version 0, ignoring the rest)', () => {
    fc.assert(
      fc.property(subscriptionInput(topicName), fc.constantFrom(...VERSIONS), (input, version) => {
        const theirs = AssignerProtocol.MemberMetadata.decode(encodeConsumerSubscription(input, { version }));
        expect(theirs).toEqual({ version, topics: [...input.topics].sort(), userData: input.userData ?? null });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('writes version 0 subscriptions that we read', () => {
    fc.assert(
      fc.property(fc.array(topicName, { maxLength: 10 }), userData, (topics, data) => {
        const bytes = AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: data as Buffer });
        expect(decodeConsumerSubscription(bytes)).toEqual({ topics, userData: data, ownedPartitions: [], rackId: null });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('writes "version 1" subscriptions without owned partitions, which we reject as Kafka\'s ConsumerProtocol does', () => {
    const bytes = AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['clicks'], userData: Buffer.alloc(0) });
    const error = expectError(() => decodeConsumerSubscription(bytes), 'INVALID_REQUEST', /ConsumerProtocolSubscription v1: ownedPartitions is truncated/);
    expect(error.details).toMatchObject({ field: 'ownedPartitions', position: bytes.length });
  });

  it('reads our assignments of every version', () => {
    fc.assert(
      fc.property(assignmentInput(topicName), fc.constantFrom(...VERSIONS), (input, version) => {
        const theirs = AssignerProtocol.MemberAssignment.decode(encodeConsumerAssignment(input, { version }));
        const byTopic: Record<string, number[]> = {};
        for (const { topic, partition } of input.assignedPartitions) (byTopic[topic] ??= []).push(partition);
        expect(theirs).toEqual({ version, assignment: byTopic, userData: input.userData ?? null });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('writes assignments of versions 0, 1 and 3 that we read', () => {
    const assignment = fc.dictionary(topicName, fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 20 }), { maxKeys: 8 });
    fc.assert(
      fc.property(assignment, userData, fc.constantFrom(0, 1, 3), (byTopic, data, version) => {
        const bytes = AssignerProtocol.MemberAssignment.encode({ version, assignment: byTopic, userData: data as Buffer });
        const expected = Object.entries(byTopic).flatMap(([topic, partitions]) => partitions.map((p) => tp(topic, p)));
        expect(decodeConsumerAssignment(bytes)).toEqual({ assignedPartitions: expected, userData: data });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('corrupt bytes', () => {
  const decoders: [string, (bytes: Buffer) => unknown, fc.Arbitrary<Buffer>][] = [
    ['subscription', decodeConsumerSubscription, fc.tuple(subscriptionInput(), fc.constantFrom(...VERSIONS)).map(([s, version]) => encodeConsumerSubscription(s, { version }))],
    ['assignment', decodeConsumerAssignment, assignmentInput().map((a) => encodeConsumerAssignment(a))],
  ];

  it.each(decoders)('a %s truncated at any position raises INVALID_REQUEST', (_name, decode, encoded) => {
    fc.assert(
      fc.property(encoded, (bytes) => {
        for (let length = 0; length < bytes.length; length++) {
          expectError(() => decode(bytes.subarray(0, length)), 'INVALID_REQUEST', /truncated|bytes remain/);
        }
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it.each(decoders)('a %s with random bytes changed decodes or raises INVALID_REQUEST, nothing else', (_name, decode, encoded) => {
    const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(encoded, flips, (bytes, changes) => {
        const corrupt = Buffer.from(bytes);
        for (const [at, byte] of changes) corrupt[at % corrupt.length] = byte;
        try {
          decode(corrupt);
        } catch (error) {
          expect(error).toBeInstanceOf(TributaryError);
          expect((error as TributaryError).code).toBe('INVALID_REQUEST');
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('rejects negative versions, null arrays and negative lengths', () => {
    expectError(() => decodeConsumerSubscription(hex('ffff 00000000 ffffffff')), 'INVALID_REQUEST', /version -1 is negative/);
    expectError(() => decodeConsumerAssignment(hex('8000 00000000 ffffffff')), 'INVALID_REQUEST', /version -32768 is negative/);
    expectError(() => decodeConsumerSubscription(hex('0000 ffffffff ffffffff')), 'INVALID_REQUEST', /topics is a non-nullable array serialized as null/);
    expectError(() => decodeConsumerSubscription(hex('0000 00000001 fffe')), 'INVALID_REQUEST', /topics\[\] has invalid string length -2/);
    expectError(() => decodeConsumerSubscription(hex('0000 00000000 fffffffe')), 'INVALID_REQUEST', /userData has invalid bytes length -2/);
    expectError(() => decodeConsumerAssignment(hex('0000 00000001 0001 61 ffffffff ffffffff')), 'INVALID_REQUEST', /partitions is a non-nullable array/);
    expectError(() => decodeConsumerAssignment(null as unknown as Buffer), 'INVALID_REQUEST', /expected bytes/);
  });
});

function kafkaString(maxLength = 12): fc.Arbitrary<string> {
  return fc.string({ unit: 'grapheme', maxLength });
}

function subscriptionInput(topic: fc.Arbitrary<string> = kafkaString()): fc.Arbitrary<ConsumerSubscriptionInput> {
  return fc.record(
    {
      topics: fc.array(topic, { maxLength: 10 }),
      userData: fc.option(fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b))),
      ownedPartitions: fc.array(fc.record({ topic, partition: fc.integer() }), { maxLength: 300 }),
      generation: fc.integer(),
      rackId: fc.option(kafkaString()),
    },
    { requiredKeys: ['topics'] },
  );
}

function assignmentInput(topic: fc.Arbitrary<string> = kafkaString()): fc.Arbitrary<ConsumerAssignmentInput> {
  return fc.record(
    {
      // Few distinct topics, so that topics repeat and their partitions are grouped.
      assignedPartitions: fc.array(fc.record({ topic: fc.oneof(topic, fc.constantFrom('a', 'b', 'c')), partition: fc.integer() }), { maxLength: 300 }),
      userData: fc.option(fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b))),
    },
    { requiredKeys: ['assignedPartitions'] },
  );
}

function byTopicThenPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/** What a subscription reads back as after being written at `version`. */
function projectSubscription(input: ConsumerSubscriptionInput, version: number): ConsumerSubscription {
  const generation = input.generation ?? -1;
  const rackId = input.rackId ?? null;
  return {
    topics: [...input.topics].sort(),
    userData: (input.userData as Buffer | undefined) ?? null,
    ownedPartitions: version >= 1 ? [...(input.ownedPartitions ?? [])].sort(byTopicThenPartition) : [],
    ...(version >= 2 && generation !== -1 ? { generation } : {}),
    rackId: version >= 3 && rackId !== '' ? rackId : null,
  };
}

/** An assignment reads back grouped by topic in order of first appearance, each topic's partitions in the order given. */
function projectAssignment(input: ConsumerAssignmentInput): ConsumerAssignment {
  const firstSeen = new Map<string, number>();
  for (const { topic } of input.assignedPartitions) if (!firstSeen.has(topic)) firstSeen.set(topic, firstSeen.size);
  return {
    assignedPartitions: [...input.assignedPartitions].sort((a, b) => firstSeen.get(a.topic)! - firstSeen.get(b.topic)!),
    userData: (input.userData as Buffer | undefined) ?? null,
  };
}
