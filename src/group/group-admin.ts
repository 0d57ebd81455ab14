/**
 * The admin of a runtime with consumer groups: topic management (`Admin`) plus groups, in the
 * same two dialects:
 *
 * - KafkaJS's: `listGroups`, `describeGroups`, `deleteGroups`, `fetchOffsets`, `setOffsets`,
 *   `resetOffsets({ groupId, topic, earliest })`, with KafkaJS's result shapes (offsets as
 *   strings, '-1' for none);
 * - ours: `describeGroup(groupId)` with decoded assignments and the lag of every partition the
 *   group has a commit for or is assigned, and `resetOffsets` with Kafka's reset targets
 *   (`to: 'earliest' | 'latest' | { timestamp } | { offset } | { shiftBy }`) and `dryRun`, as
 *   `kafka-consumer-groups --reset-offsets` does.
 *
 * Offsets are changed only for a group without members, as Kafka requires: members would
 * overwrite them with their own commits.
 */
import { TributaryError } from '../errors.js';
import { Admin } from '../runtime/admin.js';
import type { CommittedOffset, GroupDescription, GroupListing, GroupRef, GroupStateName, PartitionRef } from '../runtime/messages.js';
import { OFFSETS_TOPIC } from '../runtime/offsets-topic.js';
import { checkDistinct, checkKeys, invalidRequest, optionalBoolean, requireArray, requireObject, requireString } from '../runtime/request-checks.js';
import type { Runtime } from '../runtime/runtime.js';
import type { TopicPartition } from './assignors/types.js';
import { CONSUMER_PROTOCOL_TYPE, decodeConsumerAssignment } from './consumer-protocol.js';

/** Where `resetOffsets` moves a group's position. `shiftBy` moves the committed offset (negative: back). */
export type ResetTarget = 'earliest' | 'latest' | { readonly timestamp: number } | { readonly offset: number } | { readonly shiftBy: number };

export interface ResetOffsetsRequest {
  readonly groupId: string;
  readonly topic: string;
  /** Our dialect's target; default 'latest' (KafkaJS's default when `earliest` is not set). */
  readonly to?: ResetTarget;
  /** KafkaJS's dialect: true is `to: 'earliest'`, false `to: 'latest'`. */
  readonly earliest?: boolean;
  /** Only these partitions; default all of the topic's. */
  readonly partitions?: readonly number[];
  /** Compute and return the new offsets without committing them. */
  readonly dryRun?: boolean;
}

export interface PlannedOffset {
  readonly topic: string;
  readonly partition: number;
  /** The committed offset before the reset; null if there was none. */
  readonly previous: number | null;
  readonly offset: number;
}

export interface GroupMemberState {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  /** Decoded from the consumer protocol; empty while the group rebalances or for a group that is not a consumer group. */
  readonly assignment: readonly TopicPartition[];
}

export interface GroupPartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset; null if it has none. */
  readonly committedOffset: number | null;
  readonly logEndOffset: number;
  /** `logEndOffset - committedOffset`; null without a commit. */
  readonly lag: number | null;
  /** The member consuming the partition now, if any. */
  readonly memberId: string | null;
}

/** The coordinator's description, with decoded members and the lag of each partition. */
export interface ConsumerGroupDescription extends Omit<GroupDescription, 'members'> {
  readonly members: readonly GroupMemberState[];
  readonly partitions: readonly GroupPartitionLag[];
  /** Sum of the partitions' lags. */
  readonly totalLag: number;
}

/** KafkaJS's `describeGroups` entry. */
export interface KafkaGroupDescription {
  readonly groupId: string;
  readonly errorCode: number;
  readonly state: GroupStateName;
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: ReadonlyArray<{
    readonly memberId: string;
    readonly clientId: string;
    readonly clientHost: string;
    readonly memberMetadata: Buffer;
    readonly memberAssignment: Buffer;
  }>;
}

/** KafkaJS's `fetchOffsets` entry. */
export interface KafkaTopicOffsets {
  readonly topic: string;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string; readonly metadata: string | null }>;
}

export class GroupAdmin extends Admin {
  constructor(private readonly client: Runtime) {
    super(client);
  }

  /** KafkaJS's `listGroups`, with each group's state as well. */
  async listGroups(): Promise<{ groups: GroupListing[] }> {
    const stored = this.client.storedTopic(OFFSETS_TOPIC);
    if (stored === undefined) return { groups: [] };
    const lists = await Promise.all(
      Array.from({ length: stored.partitions }, (_, partition) => this.client.request('listGroups', { topic: OFFSETS_TOPIC, partition })),
    );
    return { groups: lists.flat().sort((a, b) => a.groupId.localeCompare(b.groupId)) };
  }

  /** KafkaJS's `describeGroups`: an unknown group is described as Dead with no members, as Kafka does. */
  async describeGroups(groupIds: readonly string[]): Promise<{ groups: KafkaGroupDescription[] }> {
    const ids = requireGroupIds(groupIds);
    const groups = await Promise.all(
      ids.map(async (groupId) => {
        const description = await this.rawDescription(groupId);
        return {
          groupId,
          errorCode: 0,
          state: description.state,
          protocolType: description.protocolType,
          protocol: description.protocol,
          members: description.members.map((member) => ({
            memberId: member.memberId,
            clientId: member.clientId,
            clientHost: '',
            memberMetadata: Buffer.from(member.memberMetadata),
            memberAssignment: Buffer.from(member.memberAssignment),
          })),
        };
      }),
    );
    return { groups };
  }

  /** One group with its members' assignments and, per partition it has a commit for or is assigned, the lag. */
  async describeGroup(groupId: string): Promise<ConsumerGroupDescription> {
    const [group] = requireGroupIds([groupId]);
    const description = await this.rawDescription(group);
    const members = description.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      assignment: description.protocolType === CONSUMER_PROTOCOL_TYPE && member.memberAssignment.length > 0 ? decodeConsumerAssignment(member.memberAssignment).assignedPartitions : [],
    }));
    const committed = await this.committed(group, null);
    const owners = new Map<string, string>();
    for (const member of members) for (const tp of member.assignment) owners.set(keyOf(tp), member.memberId);
    const refs = new Map<string, PartitionRef>();
    for (const offset of committed.values()) refs.set(keyOf(offset), { topic: offset.topic, partition: offset.partition });
    for (const member of members) for (const tp of member.assignment) refs.set(keyOf(tp), tp);
    const partitions = await Promise.all(
      [...refs.values()]
        .filter((ref) => this.partitionExists(ref))
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
        .map(async (ref) => {
          const { logEndOffset } = await this.client.request('describePartition', ref);
          const committedOffset = committed.get(keyOf(ref))?.offset ?? null;
          return {
            topic: ref.topic,
            partition: ref.partition,
            committedOffset,
            logEndOffset,
            lag: committedOffset === null ? null : Math.max(0, logEndOffset - committedOffset),
            memberId: owners.get(keyOf(ref)) ?? null,
          };
        }),
    );
    const { state, protocolType, protocol, generationId, leaderId } = description;
    return { groupId: group, state, protocolType, protocol, generationId, leaderId, members, partitions, totalLag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0) };
  }

  /**
   * KafkaJS's `deleteGroups`: deletes each group and its committed offsets. Every group is
   * attempted; if any fails (NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND), the first
   * failure is thrown after, with every group's outcome in its details.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    const ids = requireGroupIds(groupIds);
    const outcomes = await Promise.allSettled(ids.map(async (groupId) => this.client.request('deleteGroup', await this.client.groupCoordinator(groupId))));
    const results = ids.map((groupId, i) => {
      const outcome = outcomes[i];
      return { groupId, errorCode: outcome.status === 'fulfilled' ? 0 : TributaryError.is(outcome.reason) ? outcome.reason.kafkaCode : -1 };
    });
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure === undefined) return results;
    const reason = failure.reason;
    if (!TributaryError.is(reason)) throw reason;
    throw new TributaryError(reason.code, `deleteGroups: ${reason.message}`, { ...reason.details, results });
  }

  /** KafkaJS's `fetchOffsets`: every partition of each topic (default: the topics the group has commits for), '-1' where none is committed. */
  async fetchOffsets(request: { readonly groupId: string; readonly topics?: readonly string[] }): Promise<KafkaTopicOffsets[]> {
    const given = requireObject(request, 'fetchOffsets request');
    checkKeys(given, ['groupId', 'topics', 'resolveOffsets'], 'fetchOffsets request');
    if (given.resolveOffsets !== undefined) throw invalidRequest('resolveOffsets', given.resolveOffsets, 'nothing: use resetOffsets to move a group');
    const [groupId] = requireGroupIds([request.groupId]);
    const committed = await this.committed(groupId, null);
    const topics = request.topics === undefined ? [...new Set([...committed.values()].map((c) => c.topic))].sort() : requireArray(request.topics, 'topics').map((t, i) => requireString(t, `topics[${i}]`));
    return topics.filter((topic) => request.topics !== undefined || this.client.storedTopic(topic) !== undefined).map((topic) => ({
      topic,
      partitions: Array.from({ length: this.client.topic(topic).partitions }, (_, partition) => {
        const offset = committed.get(`${topic}/${partition}`);
        return { partition, offset: offset === undefined ? '-1' : String(offset.offset), metadata: offset === undefined ? null : offset.metadata };
      }),
    }));
  }

  /** KafkaJS's `setOffsets`: commits the given offsets for a group without members. */
  async setOffsets(request: { readonly groupId: string; readonly topic: string; readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string }> }): Promise<void> {
    const given = requireObject(request, 'setOffsets request');
    checkKeys(given, ['groupId', 'topic', 'partitions'], 'setOffsets request');
    const [groupId] = requireGroupIds([request.groupId]);
    const topic = this.client.topic(requireString(request.topic, 'topic'));
    const offsets = requireArray(request.partitions, 'partitions').map((entry, i) => {
      const { partition, offset } = requireObject(entry, `partitions[${i}]`);
      if (!Number.isSafeInteger(partition) || (partition as number) < 0 || (partition as number) >= topic.partitions) {
        throw invalidRequest(`partitions[${i}].partition`, partition, `a partition of ${topic.name} (0..${topic.partitions - 1})`);
      }
      return { topic: topic.name, partition: partition as number, offset: parseOffset(offset, `partitions[${i}].offset`) };
    });
    checkDistinct(offsets.map((o) => String(o.partition)), 'partition');
    await this.commitAsAdmin(groupId, offsets);
  }

  /**
   * Moves a group without members to new offsets on one topic and answers them with the previous
   * ones. Targets as `kafka-consumer-groups --reset-offsets`: earliest, latest, the first offset at
   * or after a timestamp (the log end if none), an offset (clamped to the log's range) or a shift
   * of the committed offset (clamped; a partition without a commit shifts from the log start).
   */
  async resetOffsets(request: ResetOffsetsRequest): Promise<PlannedOffset[]> {
    const given = requireObject(request, 'resetOffsets request');
    checkKeys(given, ['groupId', 'topic', 'to', 'earliest', 'partitions', 'dryRun'], 'resetOffsets request');
    const [groupId] = requireGroupIds([request.groupId]);
    const topic = this.client.topic(requireString(request.topic, 'topic'));
    if (request.to !== undefined && request.earliest !== undefined) throw invalidRequest('earliest', request.earliest, 'nothing when `to` is given');
    const target = request.to ?? (optionalBoolean(request.earliest, 'earliest') ? 'earliest' : 'latest');
    checkTarget(target);
    const partitions =
      request.partitions === undefined
        ? Array.from({ length: topic.partitions }, (_, i) => i)
        : requireArray(request.partitions, 'partitions').map((p, i) => {
            if (!Number.isSafeInteger(p) || (p as number) < 0 || (p as number) >= topic.partitions) {
              throw invalidRequest(`partitions[${i}]`, p, `a partition of ${topic.name} (0..${topic.partitions - 1})`);
            }
            return p as number;
          });
    const dryRun = optionalBoolean(request.dryRun, 'dryRun');
    await this.requireNoMembers(groupId, 'reset its offsets');
    const committed = await this.committed(groupId, partitions.map((partition) => ({ topic: topic.name, partition })));
    const plan = await Promise.all(
      partitions.map(async (partition): Promise<PlannedOffset> => {
        const ref = { topic: topic.name, partition };
        const previous = committed.get(keyOf(ref))?.offset ?? null;
        return { ...ref, previous, offset: await this.resolveTarget(ref, target, previous) };
      }),
    );
    if (!dryRun) await this.commitAsAdmin(groupId, plan);
    return plan;
  }

  private async resolveTarget(ref: PartitionRef, target: ResetTarget, previous: number | null): Promise<number> {
    const { logStartOffset, logEndOffset } = await this.client.request('describePartition', ref);
    const clamp = (offset: number) => Math.min(Math.max(offset, logStartOffset), logEndOffset);
    if (target === 'earliest') return logStartOffset;
    if (target === 'latest') return logEndOffset;
    if ('timestamp' in target) {
      const { offset } = await this.client.request('listOffsets', { ...ref, spec: { timestamp: target.timestamp } });
      return offset === -1 ? logEndOffset : offset;
    }
    if ('offset' in target) return clamp(target.offset);
    return clamp((previous ?? logStartOffset) + target.shiftBy);
  }

  private async commitAsAdmin(groupId: string, offsets: ReadonlyArray<PartitionRef & { readonly offset: number }>): Promise<void> {
    await this.requireNoMembers(groupId, 'set its offsets');
    const ref = await this.client.groupCoordinator(groupId);
    await this.client.request('commitOffsets', {
      ...ref,
      memberId: '',
      groupInstanceId: null,
      generationId: -1,
      offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
    });
  }

  /** Kafka's tool refuses to move an active group: its members would commit over the new offsets. */
  private async requireNoMembers(groupId: string, action: string): Promise<void> {
    const { state, members } = await this.rawDescription(groupId);
    if (members.length > 0) {
      throw new TributaryError('NON_EMPTY_GROUP', `Cannot ${action}: group ${JSON.stringify(groupId)} has ${members.length} member(s) and is ${state}; stop its consumers first`, {
        groupId,
        state,
      });
    }
  }

  private async rawDescription(groupId: string): Promise<GroupDescription> {
    return this.client.request('describeGroup', await this.client.groupCoordinator(groupId));
  }

  private async committed(groupId: string, partitions: readonly PartitionRef[] | null): Promise<Map<string, CommittedOffset>> {
    const ref: GroupRef = await this.client.groupCoordinator(groupId);
    const offsets = await this.client.request('fetchOffsets', { ...ref, partitions });
    return new Map(offsets.map((offset) => [keyOf(offset), offset]));
  }

  private partitionExists(ref: PartitionRef): boolean {
    const stored = this.client.storedTopic(ref.topic);
    return stored !== undefined && ref.partition < stored.partitions;
  }
}

function keyOf(ref: PartitionRef): string {
  return `${ref.topic}/${ref.partition}`;
}

function requireGroupIds(groupIds: unknown): string[] {
  const ids = requireArray(groupIds, 'groupIds').map((id, i) => {
    if (typeof id !== 'string' || id === '') {
      throw new TributaryError('INVALID_GROUP_ID', `groupIds[${i}] must be a non-empty string, got ${JSON.stringify(id)}`, { index: i });
    }
    return id;
  });
  checkDistinct(ids, 'groupId');
  return ids;
}

function parseOffset(value: unknown, field: string): number {
  const offset = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw invalidRequest(field, value, 'an offset (a non-negative integer or decimal string)');
  return offset as number;
}

function checkTarget(target: unknown): void {
  if (target === 'earliest' || target === 'latest') return;
  if (typeof target === 'object' && target !== null && Object.keys(target).length === 1) {
    const [[kind, value]] = Object.entries(target);
    if (kind === 'timestamp' && Number.isSafeInteger(value) && (value as number) >= 0) return;
    if (kind === 'offset' && Number.isSafeInteger(value) && (value as number) >= 0) return;
    if (kind === 'shiftBy' && Number.isSafeInteger(value)) return;
  }
  throw invalidRequest('to', target, "'earliest', 'latest', { timestamp }, { offset } or { shiftBy }");
}
