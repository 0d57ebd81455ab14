/**
 * Kafka's `RoundRobinAssignor` ("roundrobin"): all subscribed partitions, sorted by topic then
 * partition, are dealt in turn to members in `MemberInfo` order (groupInstanceId first, then
 * memberId), cycling; a member not subscribed to a partition's topic is skipped (the cursor moves
 * past it). With identical subscriptions counts differ by at most one; otherwise they may not.
 */
import { compareMembers, compareStrings, emptyAssignment, partitionCount, sortAssignment, validateInput } from './common.js';
import type { Assignment, Assignor, AssignorInput } from './types.js';

export function roundRobinAssign(input: AssignorInput): Assignment {
  validateInput(input);
  const assignment = emptyAssignment(input);
  const members = [...input.members].sort(compareMembers);
  const subscribed = members.map((m) => new Set(m.topics));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compareStrings);
  let cursor = 0;
  for (const topic of topics) {
    const count = partitionCount(input, topic);
    if (count === undefined) continue;
    for (let partition = 0; partition < count; partition++) {
      // Some member subscribes to `topic` (it came from a subscription), so this loop ends.
      while (!subscribed[cursor].has(topic)) cursor = (cursor + 1) % members.length;
      assignment.get(members[cursor].memberId)!.push({ topic, partition });
      cursor = (cursor + 1) % members.length;
    }
  }
  return sortAssignment(assignment);
}

export const roundRobinAssignor: Assignor = { name: 'roundrobin', protocol: 'eager', assign: roundRobinAssign };
