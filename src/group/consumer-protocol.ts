/**
 * Kafka's consumer embedded protocol: the bytes a consumer puts in JoinGroup's protocol metadata
 * (its subscription) and the group leader puts in SyncGroup for each member (its assignment),
 * under protocol type `consumer`. The broker never reads them; the members do, so they must be
 * exactly Kafka's (`ConsumerProtocolSubscription` / `ConsumerProtocolAssignment`, versions 0-3,
 * and the rules of `ConsumerProtocol.java`) for tributary and Kafka clients to share a group.
 *
 * Versions: subscription v1 added owned partitions (KIP-429), v2 the generation of those
 * partitions, v3 the rack id (KIP-881); the assignment's layout never changed, its version follows
 * the subscription's. Both start with an int16 version and use classic (non-flexible) encodings.
 * Kafka writes the latest version; a reader given a newer version than it knows reads the fields
 * it knows and ignores the rest, which is why later versions only ever append fields.
 *
 * Decoded subscriptions use the assignor types (`TopicPartition`, `ownedPartitions`,
 * `generation`), so `{ memberId, groupInstanceId, ...decodeConsumerSubscription(bytes) }` is an
 * `AssignorMember`. Malformed bytes raise INVALID_REQUEST: they arrived in a JoinGroup or
 * SyncGroup, and no retry of the same bytes succeeds.
 */
import { SchemaReader, SchemaWriter } from '../record/schema-io.js';
import { defineOptions } from '../runtime/options.js';
import type { TopicPartition } from './assignors/types.js';

/** The protocol type consumers join groups with. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

const LATEST_VERSION = 3;
const NO_GENERATION = -1;
const ERROR_CODE = 'INVALID_REQUEST';

export interface ConsumerSubscriptionInput {
  readonly topics: readonly string[];
  /** The assignor's own data (e.g. the sticky assignor's previous assignment); default null. */
  readonly userData?: Uint8Array | null;
  /** Partitions the member owns now (v1+, cooperative rebalancing); default none. */
  readonly ownedPartitions?: readonly TopicPartition[];
  /** The generation in which `ownedPartitions` were assigned (v2+); absent or -1 = unknown. */
  readonly generation?: number;
  /** The member's rack (v3+, rack-aware assignment); default null. */
  readonly rackId?: string | null;
}

/** A decoded subscription: fields a version lacks read as their defaults. */
export interface ConsumerSubscription extends ConsumerSubscriptionInput {
  readonly topics: string[];
  readonly userData: Buffer | null;
  readonly ownedPartitions: TopicPartition[];
  /** Absent when unknown (Kafka's -1, or a version before 2), as `AssignorMember.generation`. */
  readonly generation?: number;
  /** Null when absent or empty, as Kafka reads an empty rack id. */
  readonly rackId: string | null;
}

export interface ConsumerAssignmentInput {
  readonly assignedPartitions: readonly TopicPartition[];
  /** The assignor's own data for this member; default null. */
  readonly userData?: Uint8Array | null;
}

export interface ConsumerAssignment extends ConsumerAssignmentInput {
  readonly assignedPartitions: TopicPartition[];
  readonly userData: Buffer | null;
}

const parseOptions = defineOptions('consumer protocol', {
  /** The version to write; default 3, the latest, as Kafka's consumer writes. A lower one drops the fields it lacks. */
  version: { type: 'integer', min: 0, max: LATEST_VERSION, default: LATEST_VERSION },
});

export type ConsumerProtocolOptions = Parameters<typeof parseOptions>[0];

/**
 * Encodes a member's subscription. As Kafka's ConsumerProtocol does, topics are written sorted,
 * and owned partitions sorted by topic then partition and grouped per topic.
 */
export function encodeConsumerSubscription(subscription: ConsumerSubscriptionInput, options?: ConsumerProtocolOptions): Buffer {
  const { version } = parseOptions(options);
  const writer = new SchemaWriter(`ConsumerProtocolSubscription v${version}`);
  const { topics, userData = null, ownedPartitions = [], generation = NO_GENERATION, rackId = null } = writer.checkStruct(subscription, 'subscription');
  writer.int16(version, 'version');
  writer.arrayLength(topics, 'topics');
  for (const topic of [...topics].sort()) writer.string(topic, 'topics[]');
  writer.nullableBytes(userData, 'userData');
  if (version >= 1) writeTopicPartitions(writer, ownedPartitions, 'ownedPartitions', { sorted: true });
  if (version >= 2) writer.int32(generation, 'generation');
  if (version >= 3) writer.nullableString(rackId, 'rackId');
  return writer.finish();
}

export function decodeConsumerSubscription(bytes: Uint8Array): ConsumerSubscription {
  const reader = new SchemaReader(bytes, 'ConsumerProtocolSubscription', ERROR_CODE);
  const version = readVersion(reader);
  const topics = reader.array('topics', () => reader.string('topics[]'));
  const userData = reader.nullableBytes('userData');
  const ownedPartitions = version >= 1 ? readTopicPartitions(reader, 'ownedPartitions') : [];
  const generation = version >= 2 ? reader.int32('generation') : NO_GENERATION;
  const rackId = version >= 3 ? reader.nullableString('rackId') : null;
  return {
    topics,
    userData,
    ownedPartitions,
    ...(generation === NO_GENERATION ? {} : { generation }),
    rackId: rackId === '' ? null : rackId,
  };
}

/**
 * Encodes one member's assignment. Partitions are grouped per topic in the order topics first
 * appear, each topic's partitions in the order given, as Kafka's ConsumerProtocol does.
 */
export function encodeConsumerAssignment(assignment: ConsumerAssignmentInput, options?: ConsumerProtocolOptions): Buffer {
  const { version } = parseOptions(options);
  const writer = new SchemaWriter(`ConsumerProtocolAssignment v${version}`);
  const { assignedPartitions, userData = null } = writer.checkStruct(assignment, 'assignment');
  writer.int16(version, 'version');
  writeTopicPartitions(writer, assignedPartitions, 'assignedPartitions', { sorted: false });
  writer.nullableBytes(userData, 'userData');
  return writer.finish();
}

export function decodeConsumerAssignment(bytes: Uint8Array): ConsumerAssignment {
  const reader = new SchemaReader(bytes, 'ConsumerProtocolAssignment', ERROR_CODE);
  readVersion(reader);
  const assignedPartitions = readTopicPartitions(reader, 'assignedPartitions');
  return { assignedPartitions, userData: reader.nullableBytes('userData') };
}

/**
 * Reads the version header. A negative version is an error; one above 3 is read as 3, ignoring
 * whatever follows the fields v3 knows, as Kafka's ConsumerProtocol does.
 */
function readVersion(reader: SchemaReader): number {
  const version = reader.int16('version');
  if (version < 0) throw reader.fail('version', `${version} is negative`, { version });
  reader.what = `${reader.what} v${version}`;
  return Math.min(version, LATEST_VERSION);
}

/**
 * Writes a `[]TopicPartition` array: one (topic, [partition]) entry per topic, in order of first
 * appearance, after sorting by topic then partition when `sorted`.
 */
function writeTopicPartitions(writer: SchemaWriter, partitions: readonly TopicPartition[], field: string, { sorted }: { sorted: boolean }): void {
  for (const tp of writer.checkArray(partitions, field)) writer.checkStruct(tp, `${field}[]`);
  const byTopic = new Map<string, number[]>();
  for (const tp of sorted ? [...partitions].sort(byTopicThenPartition) : partitions) {
    const list = byTopic.get(tp.topic);
    if (list === undefined) byTopic.set(tp.topic, [tp.partition]);
    else list.push(tp.partition);
  }
  const entries = [...byTopic];
  writer.arrayLength(entries, field);
  for (const [topic, list] of entries) {
    writer.string(topic, `${field}[].topic`);
    writer.arrayLength(list, `${field}[].partitions`);
    for (const partition of list) writer.int32(partition, `${field}[].partitions[]`);
  }
}

function readTopicPartitions(reader: SchemaReader, field: string): TopicPartition[] {
  const result: TopicPartition[] = [];
  reader.array(field, () => {
    const topic = reader.string(`${field}[].topic`);
    for (const partition of reader.array(`${field}[].partitions`, () => reader.int32(`${field}[].partitions[]`))) {
      result.push({ topic, partition });
    }
  });
  return result;
}

function byTopicThenPartition(a: TopicPartition, b: TopicPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}
