/**
 * The locality assignor ("locality"): gives each partition to a member running on the worker
 * thread that hosts it, so that a stream task reads its input with local calls, never a message
 * (see `rt.run`). Kafka has no such assignor; it is the thread-level analogue of KIP-881's
 * rack-aware assignment, where a member's rack travels in its subscription and the leader matches
 * it against where partitions live.
 *
 * - Each member says which thread slot it runs on in its subscription's userData (a 4-byte
 *   big-endian integer, written by `subscriptionUserData`). A member without one has no slot.
 * - The leader learns where partitions live from `slotOf` (the runtime's placement, as its
 *   thread's client sees it).
 * - A partition goes to a subscribed member on its slot, the one holding fewest partitions so far
 *   (ties in Kafka's member order: groupInstanceId first, then memberId), which balances members
 *   sharing a slot. A partition on a slot without such a member is dealt round-robin over all
 *   subscribers in that order, as Kafka's round-robin assignor deals.
 *
 * The result depends on members only through their groupInstanceIds, slots and subscriptions when
 * every member is static, so a stream task can work out the assignment its whole run will settle
 * on before every task has joined (`localityAssign` over the members it expects).
 */
import { compareMembers, compareStrings, emptyAssignment, partitionCount, sortAssignment, validateInput } from './common.js';
import type { Assignment, Assignor, AssignorInput, AssignorMember } from './types.js';

export const LOCALITY_ASSIGNOR_NAME = 'locality';

/** Where a partition lives: its thread slot, or undefined if unknown. */
export type PartitionSlots = (topic: string, partition: number) => number | undefined;

export interface LocalityAssignorOptions {
  /** The slot of the thread this member runs on. */
  readonly slot: number;
  /** The slot hosting each partition, read when this member leads an assignment. */
  readonly slotOf: PartitionSlots;
}

/** A member's slot as its subscription carries it. */
export function encodeSlot(slot: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(slot);
  return bytes;
}

/** The slot in a member's userData; undefined when it has none (another assignor's member, or bad bytes). */
export function decodeSlot(userData: Uint8Array | null | undefined): number | undefined {
  if (userData === null || userData === undefined || userData.byteLength !== 4) return undefined;
  return Buffer.from(userData.buffer, userData.byteOffset, 4).readInt32BE(0);
}

export function localityAssign(input: AssignorInput, slotOf: PartitionSlots): Assignment {
  validateInput(input);
  const assignment = emptyAssignment(input);
  const members = [...input.members].sort(compareMembers);
  const slots = members.map((member) => decodeSlot(member.userData));
  const subscribed = members.map((member) => new Set(member.topics));
  const topics = [...new Set(members.flatMap((member) => member.topics))].sort(compareStrings);
  let cursor = 0;
  for (const topic of topics) {
    const count = partitionCount(input, topic);
    if (count === undefined) continue;
    for (let partition = 0; partition < count; partition++) {
      const local = leastLoadedOn(slotOf(topic, partition), topic, members, slots, subscribed, assignment);
      if (local !== undefined) {
        assignment.get(local.memberId)!.push({ topic, partition });
        continue;
      }
      // Some member subscribes to `topic` (it came from a subscription), so this loop ends.
      while (!subscribed[cursor].has(topic)) cursor = (cursor + 1) % members.length;
      assignment.get(members[cursor].memberId)!.push({ topic, partition });
      cursor = (cursor + 1) % members.length;
    }
  }
  return sortAssignment(assignment);
}

function leastLoadedOn(
  slot: number | undefined,
  topic: string,
  members: readonly AssignorMember[],
  slots: readonly (number | undefined)[],
  subscribed: readonly Set<string>[],
  assignment: Assignment,
): AssignorMember | undefined {
  if (slot === undefined) return undefined;
  let best: AssignorMember | undefined;
  for (let i = 0; i < members.length; i++) {
    if (slots[i] !== slot || !subscribed[i].has(topic)) continue;
    if (best === undefined || assignment.get(members[i].memberId)!.length < assignment.get(best.memberId)!.length) best = members[i];
  }
  return best;
}

/** The assignor for a member on `slot`; eager, like Kafka's round-robin, whose dealing it shares. */
export function localityAssignor(options: LocalityAssignorOptions): Assignor {
  const userData = encodeSlot(options.slot);
  return {
    name: LOCALITY_ASSIGNOR_NAME,
    protocol: 'eager',
    assign: (input) => localityAssign(input, options.slotOf),
    subscriptionUserData: () => userData,
  };
}
