import { TributaryError } from '../../errors.js';
import type { Assignment, AssignorInput, AssignorMember, TopicPartition } from './types.js';

/** Java `String.compareTo` order (UTF-16 code units), which JavaScript's `<` also uses. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/**
 * Kafka's `AbstractPartitionAssignor.MemberInfo` order (KIP-345): members with a
 * groupInstanceId first, ordered by it; then the rest by memberId.
 */
export function compareMembers(a: AssignorMember, b: AssignorMember): number {
  const ai = a.groupInstanceId ?? null;
  const bi = b.groupInstanceId ?? null;
  if (ai !== null && bi !== null) return compareStrings(ai, bi) || compareStrings(a.memberId, b.memberId);
  if (ai !== null) return -1;
  if (bi !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** Rejects input no group can produce: duplicate memberIds, bad partition counts. */
export function validateInput(input: AssignorInput): void {
  const seen = new Set<string>();
  for (const member of input.members) {
    if (seen.has(member.memberId)) {
      throw new TributaryError('INVALID_REQUEST', `duplicate memberId ${JSON.stringify(member.memberId)} in assignor input`, {
        memberId: member.memberId,
      });
    }
    seen.add(member.memberId);
  }
  for (const [topic, count] of Object.entries(input.partitionsPerTopic)) {
    if (!Number.isInteger(count) || count < 0) {
      throw new TributaryError('INVALID_REQUEST', `partition count of topic ${JSON.stringify(topic)} must be a non-negative integer, got ${count}`, {
        topic,
        count,
      });
    }
  }
}

/** Partition count of a topic, or undefined when the topic is not in the metadata. */
export function partitionCount(input: AssignorInput, topic: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(input.partitionsPerTopic, topic) ? input.partitionsPerTopic[topic] : undefined;
}

export function emptyAssignment(input: AssignorInput): Assignment {
  const assignment: Assignment = new Map();
  for (const member of input.members) assignment.set(member.memberId, []);
  return assignment;
}

export function sortAssignment(assignment: Assignment): Assignment {
  for (const list of assignment.values()) list.sort(compareTopicPartitions);
  return assignment;
}
