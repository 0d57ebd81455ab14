/**
 * Keys and values of the records in the internal compacted topic `__consumer_offsets`, byte for
 * byte as Kafka's group coordinator writes them (schemas `OffsetCommitKey`, `OffsetCommitValue`,
 * `GroupMetadataKey`, `GroupMetadataValue` in apache/kafka's group-coordinator module), so that
 * Kafka's tools can read a tributary data directory and tributary can read what Kafka wrote.
 *
 * Every key and value starts with an int16 version. A key's version doubles as the record type
 * (Kafka's CoordinatorRecordType): 0 and 1 are offset commits (0 was written by 0.8.2 brokers and
 * has the same layout), 2 is group metadata; 3 and up are KIP-848 consumer-group and share-group
 * records, which tributary neither writes nor reads. Values carry their own schema version, and
 * versions 4 and up are flexible (KIP-915: compact strings and a tagged-field section).
 *
 * A tombstone (null value) deletes its key; that is the caller's business, not this module's.
 * Malformed bytes raise INVALID_RECORD naming the structure, field and position.
 */
import { SchemaReader, SchemaWriter } from '../record/schema-io.js';
import { defineOptions } from '../runtime/options.js';

/** A committed offset's key: which group committed which partition. */
export interface OffsetCommitKey {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

/** What a `__consumer_offsets` key names: a committed offset, or a group's metadata. */
export type OffsetsKey = ({ readonly type: 'offset' } & OffsetCommitKey) | { readonly type: 'group'; readonly group: string };

export interface OffsetCommitValue {
  /** The next offset the group will consume from the partition. */
  readonly offset: number;
  /** Leader epoch of the last consumed record; -1 (Kafka's NO_PARTITION_LEADER_EPOCH) when unknown. Records before version 3 read as -1. */
  readonly leaderEpoch: number;
  /** The committer's metadata string ('' when none). */
  readonly metadata: string;
  readonly commitTimestamp: number;
  /**
   * When the offset expires, set only by commits that asked for a retention time (OffsetCommit
   * requests v2-v4). Only version 1 carries it, so a broker writes version 1 when it is set.
   * Absent when not set, including Kafka's "none" sentinel -1 in a version 1 record.
   */
  readonly expireTimestamp?: number;
}

export interface GroupMemberMetadata {
  readonly memberId: string;
  /** Static membership id (KIP-345), null for a dynamic member. Records before version 3 read as null. */
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /**
   * -1 in version 0 records, which predate it; Kafka's coordinator then uses the session
   * timeout as the rebalance timeout when it loads the group.
   */
  readonly rebalanceTimeout: number;
  readonly sessionTimeout: number;
  /** The member's metadata for the group's protocol (for protocol type `consumer`, a ConsumerProtocolSubscription). Decoded as a Buffer. */
  readonly subscription: Uint8Array;
  /** The member's assignment (for `consumer`, a ConsumerProtocolAssignment). Decoded as a Buffer. */
  readonly assignment: Uint8Array;
}

export interface GroupMetadataValue {
  /** '' for a group with no protocol type yet (an empty group, as Kafka writes it). */
  readonly protocolType: string;
  readonly generation: number;
  /** The selected protocol (assignor name), null for an empty group. */
  readonly protocol: string | null;
  /** The leader's member id, null for an empty group. */
  readonly leader: string | null;
  /** When the group last changed state; -1 when unknown (records before version 2). */
  readonly currentStateTimestamp: number;
  readonly members: readonly GroupMemberMetadata[];
}

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
const MAX_OFFSET_COMMIT_VALUE_VERSION = 4;
const MAX_GROUP_METADATA_VALUE_VERSION = 4;
const FIRST_FLEXIBLE_VERSION = 4;
/** Kafka writes the highest non-flexible version "until a tagged field is introduced" (GroupCoordinatorRecordHelpers). */
const GROUP_METADATA_VALUE_VERSION = 3;
const NO_LEADER_EPOCH = -1;
const NO_TIMESTAMP = -1;
const ERROR_CODE = 'INVALID_RECORD';

const parseOffsetCommitValueOptions = defineOptions('offset commit value', {
  /** The schema version to write; by default the one a current Kafka broker picks (1 with an expire timestamp, else 3). */
  version: { type: 'integer', min: 0, max: MAX_OFFSET_COMMIT_VALUE_VERSION, default: undefined },
});

const parseGroupMetadataValueOptions = defineOptions('group metadata value', {
  /** The schema version to write; by default 3, the one a current Kafka broker writes. */
  version: { type: 'integer', min: 0, max: MAX_GROUP_METADATA_VALUE_VERSION, default: GROUP_METADATA_VALUE_VERSION },
});

export type OffsetCommitValueOptions = Parameters<typeof parseOffsetCommitValueOptions>[0];
export type GroupMetadataValueOptions = Parameters<typeof parseGroupMetadataValueOptions>[0];

export function encodeOffsetCommitKey(key: OffsetCommitKey): Buffer {
  const writer = new SchemaWriter('OffsetCommitKey');
  writer.checkStruct(key, 'key');
  return writer
    .int16(OFFSET_COMMIT_KEY_VERSION, 'version')
    .string(key.group, 'group')
    .string(key.topic, 'topic')
    .int32(key.partition, 'partition')
    .finish();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return new SchemaWriter('GroupMetadataKey').int16(GROUP_METADATA_KEY_VERSION, 'version').string(group, 'group').finish();
}

/** Reads either kind of `__consumer_offsets` key. */
export function decodeOffsetsKey(bytes: Uint8Array): OffsetsKey {
  const reader = new SchemaReader(bytes, '__consumer_offsets key', ERROR_CODE);
  const version = reader.int16('version');
  if (version === 0 || version === 1) {
    reader.what = `OffsetCommitKey v${version}`;
    const group = reader.string('group');
    const topic = reader.string('topic');
    return { type: 'offset', group, topic, partition: reader.int32('partition') };
  }
  if (version === GROUP_METADATA_KEY_VERSION) {
    reader.what = `GroupMetadataKey v${version}`;
    return { type: 'group', group: reader.string('group') };
  }
  throw reader.fail(
    'version',
    `${version} is not an offset commit (0, 1) or group metadata (2) key; Kafka's record types from 3 up (KIP-848 and share groups) are not read by tributary`,
    { version },
  );
}

/**
 * Encodes a committed offset's value at the version a current Kafka broker writes: 1 when the
 * commit has an expire timestamp (the only version with that field, which then loses the leader
 * epoch), else 3. An explicit `version` writes that one instead; fields it lacks are dropped, as
 * Kafka drops "ignorable" fields.
 */
export function encodeOffsetCommitValue(value: OffsetCommitValue, options?: OffsetCommitValueOptions): Buffer {
  const writer = new SchemaWriter('OffsetCommitValue');
  const { expireTimestamp } = writer.checkStruct(value, 'value');
  if (expireTimestamp !== undefined && !(Number.isSafeInteger(expireTimestamp) && expireTimestamp >= 0)) {
    throw writer.invalid('expireTimestamp', `must be a non-negative integer or absent, got ${String(expireTimestamp)}`);
  }
  const version = parseOffsetCommitValueOptions(options).version ?? (expireTimestamp === undefined ? 3 : 1);
  writer.int16(version, 'version');
  writer.flexible = version >= FIRST_FLEXIBLE_VERSION;
  writer.int64(value.offset, 'offset');
  if (version >= 3) writer.int32(value.leaderEpoch, 'leaderEpoch');
  writer.string(value.metadata, 'metadata');
  writer.int64(value.commitTimestamp, 'commitTimestamp');
  if (version === 1) writer.int64(expireTimestamp ?? NO_TIMESTAMP, 'expireTimestamp');
  return writer.taggedFields().finish();
}

/** Reads an offset commit value of any version Kafka has written (0 to 4). */
export function decodeOffsetCommitValue(bytes: Uint8Array): OffsetCommitValue {
  const reader = new SchemaReader(bytes, 'OffsetCommitValue', ERROR_CODE);
  const version = readValueVersion(reader, MAX_OFFSET_COMMIT_VALUE_VERSION);
  const offset = reader.int64('offset');
  const leaderEpoch = version >= 3 ? reader.int32('leaderEpoch') : NO_LEADER_EPOCH;
  const metadata = reader.string('metadata');
  const commitTimestamp = reader.int64('commitTimestamp');
  const expireTimestamp = version === 1 ? reader.int64('expireTimestamp') : NO_TIMESTAMP;
  reader.skipTaggedFields();
  const value = { offset, leaderEpoch, metadata, commitTimestamp };
  return expireTimestamp === NO_TIMESTAMP ? value : { ...value, expireTimestamp };
}

/**
 * Encodes a group's metadata value, by default at version 3 as a current Kafka broker does. An
 * explicit `version` writes that one; fields it lacks are dropped, as Kafka drops "ignorable" fields.
 */
export function encodeGroupMetadataValue(value: GroupMetadataValue, options?: GroupMetadataValueOptions): Buffer {
  const { version } = parseGroupMetadataValueOptions(options);
  const writer = new SchemaWriter(`GroupMetadataValue v${version}`);
  writer.checkStruct(value, 'value');
  writer.int16(version, 'version');
  writer.flexible = version >= FIRST_FLEXIBLE_VERSION;
  writer.string(value.protocolType, 'protocolType');
  writer.int32(value.generation, 'generation');
  writer.nullableString(value.protocol, 'protocol');
  writer.nullableString(value.leader, 'leader');
  if (version >= 2) writer.int64(value.currentStateTimestamp, 'currentStateTimestamp');
  writer.arrayLength(value.members, 'members');
  for (const member of value.members) {
    writer.checkStruct(member, 'members[]');
    writer.string(member.memberId, 'memberId');
    if (version >= 3) writer.nullableString(member.groupInstanceId, 'groupInstanceId');
    writer.string(member.clientId, 'clientId');
    writer.string(member.clientHost, 'clientHost');
    if (version >= 1) writer.int32(member.rebalanceTimeout, 'rebalanceTimeout');
    writer.int32(member.sessionTimeout, 'sessionTimeout');
    writer.bytes(member.subscription, 'subscription');
    writer.bytes(member.assignment, 'assignment');
    writer.taggedFields();
  }
  return writer.taggedFields().finish();
}

/** Reads a group metadata value of any version Kafka has written (0 to 4); member bytes are decoded as Buffers. */
export function decodeGroupMetadataValue(bytes: Uint8Array): GroupMetadataValue {
  const reader = new SchemaReader(bytes, 'GroupMetadataValue', ERROR_CODE);
  const version = readValueVersion(reader, MAX_GROUP_METADATA_VALUE_VERSION);
  const protocolType = reader.string('protocolType');
  const generation = reader.int32('generation');
  const protocol = reader.nullableString('protocol');
  const leader = reader.nullableString('leader');
  const currentStateTimestamp = version >= 2 ? reader.int64('currentStateTimestamp') : NO_TIMESTAMP;
  const members = reader.array('members', (): GroupMemberMetadata => {
    const memberId = reader.string('memberId');
    const groupInstanceId = version >= 3 ? reader.nullableString('groupInstanceId') : null;
    const clientId = reader.string('clientId');
    const clientHost = reader.string('clientHost');
    const rebalanceTimeout = version >= 1 ? reader.int32('rebalanceTimeout') : -1;
    const sessionTimeout = reader.int32('sessionTimeout');
    const subscription = reader.bytes('subscription');
    const assignment = reader.bytes('assignment');
    reader.skipTaggedFields();
    return { memberId, groupInstanceId, clientId, clientHost, rebalanceTimeout, sessionTimeout, subscription, assignment };
  });
  reader.skipTaggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

/**
 * Reads a value's version and switches the reader to it. Unlike the consumer protocol, a value
 * version above the known ones is an error, as in Kafka: KIP-915 made flexible versions the way
 * to extend these records, so a higher version is one this code cannot be sure to read.
 */
function readValueVersion(reader: SchemaReader, max: number): number {
  const version = reader.int16('version');
  if (version < 0 || version > max) throw reader.fail('version', `${version} is not a known version (0 to ${max})`, { version });
  reader.what = `${reader.what} v${version}`;
  reader.flexible = version >= FIRST_FLEXIBLE_VERSION;
  return version;
}
