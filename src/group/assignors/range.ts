/**
 * Kafka's `RangeAssignor` ("range"): per topic, partitions in numeric order are split into
 * contiguous ranges over the topic's subscribers in `MemberInfo` order (groupInstanceId first,
 * then memberId); the first `partitions % subscribers` members get one extra partition.
 * Two members, t0 and t1 with 3 partitions each: C0 = [t0p0, t0p1, t1p0, t1p1], C1 = [t0p2, t1p2].
 * Rack-aware placement (KIP-881) is not implemented: tributary has one "rack".
 */
import { compareMembers, emptyAssignment, partitionCount, sortAssignment, validateInput } from './common.js';
import type { Assignment, Assignor, AssignorInput, AssignorMember } from './types.js';

export function rangeAssign(input: AssignorInput): Assignment {
  validateInput(input);
  const assignment = emptyAssignment(input);
  const membersPerTopic = new Map<string, AssignorMember[]>();
  for (const member of input.members) {
    for (const topic of new Set(member.topics)) {
      let list = membersPerTopic.get(topic);
      if (list === undefined) membersPerTopic.set(topic, (list = []));
      list.push(member);
    }
  }
  for (const [topic, members] of membersPerTopic) {
    const count = partitionCount(input, topic);
    if (count === undefined) continue;
    members.sort(compareMembers);
    const perMember = Math.floor(count / members.length);
    const withExtra = count % members.length;
    for (let i = 0; i < members.length; i++) {
      const start = perMember * i + Math.min(i, withExtra);
      const length = perMember + (i < withExtra ? 1 : 0);
      const list = assignment.get(members[i].memberId)!;
      for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
    }
  }
  return sortAssignment(assignment);
}

export const rangeAssignor: Assignor = { name: 'range', protocol: 'eager', assign: rangeAssign };
