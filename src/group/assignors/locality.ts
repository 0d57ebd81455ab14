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
 * Co-partitioning. The members of a stream task (one per source of its pipeline) also carry the
 * task's index (userData of 8 bytes: slot, then task). When every member does, partitions are
 * dealt by partition number, as Kafka Streams makes tasks: partition p of every topic goes to the
 * same task, the one chosen for p where p is first met (topics in name order) by the rule above,
 * tasks in place of members. So records of one key in co-partitioned topics (same partition count,
 * same partitioner: a stream and a table, two joined streams) meet in one task; a partition of
 * another topic placed on another thread is then read remotely.
 *
 * The result depends on members only through their groupInstanceIds, slots, tasks and
 * subscriptions when every member is static, so a stream task can work out the assignment its
 * whole run will settle on before every task has joined (`localityAssign` over the members it
 * expects).
 */
import { compareMembers, compareStrings, emptyAssignment, partitionCount, sortAssignment, validateInput } from './common.js';
import type { Assignment, Assignor, AssignorInput, AssignorMember } from './types.js';

export const LOCALITY_ASSIGNOR_NAME = 'locality';

/** Where a partition lives: its thread slot, or undefined if unknown. */
export type PartitionSlots = (topic: string, partition: number) => number | undefined;

export interface LocalityAssignorOptions {
  /** The slot of the thread this member runs on. */
  readonly slot: number;
  /** The stream task this member reads for: partitions are then dealt by partition number to tasks (co-partitioning). */
  readonly task?: number;
  /** The slot hosting each partition, read when this member leads an assignment. */
  readonly slotOf: PartitionSlots;
}

/** A member's slot, and the stream task it belongs to if any, as its subscription carries them. */
export function encodeSlot(slot: number, task?: number): Uint8Array {
  const bytes = Buffer.alloc(task === undefined ? 4 : 8);
  bytes.writeInt32BE(slot);
  if (task !== undefined) bytes.writeInt32BE(task, 4);
  return bytes;
}

/** The slot in a member's userData; undefined when it has none (another assignor's member, or bad bytes). */
export function decodeSlot(userData: Uint8Array | null | undefined): number | undefined {
  if (userData === null || userData === undefined || (userData.byteLength !== 4 && userData.byteLength !== 8)) return undefined;
  return Buffer.from(userData.buffer, userData.byteOffset, 4).readInt32BE(0);
}

/** The stream task in a member's userData; undefined when it has none. */
export function decodeTask(userData: Uint8Array | null | undefined): number | undefined {
  if (userData === null || userData === undefined || userData.byteLength !== 8) return undefined;
  return Buffer.from(userData.buffer, userData.byteOffset, 8).readInt32BE(4);
}

export function localityAssign(input: AssignorInput, slotOf: PartitionSlots): Assignment {
  validateInput(input);
  const assignment = emptyAssignment(input);
  const members = [...input.members].sort(compareMembers);
  const slots = members.map((member) => decodeSlot(member.userData));
  const subscribed = members.map((member) => new Set(member.topics));
  const topics = [...new Set(members.flatMap((member) => member.topics))].sort(compareStrings);
  const tasks = members.map((member) => decodeTask(member.userData));
  if (members.length > 0 && tasks.every((task) => task !== undefined)) return coPartitioned(input, members, slots, tasks as number[], subscribed, topics, slotOf, assignment);
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

/** Deals partition numbers to tasks (see the module comment), then each partition to its task's member subscribed to its topic. */
function coPartitioned(
  input: AssignorInput,
  members: readonly AssignorMember[],
  slots: readonly (number | undefined)[],
  tasks: readonly number[],
  subscribed: readonly Set<string>[],
  topics: readonly string[],
  slotOf: PartitionSlots,
  assignment: Assignment,
): Assignment {
  const order = [...new Set(tasks)];
  const owners = new Map<number, number>();
  const owned = new Map<number, number>(order.map((task) => [task, 0]));
  const taskSubscribes = (task: number, topic: string): boolean => members.some((_, i) => tasks[i] === task && subscribed[i].has(topic));
  let cursor = 0;
  for (const topic of topics) {
    const count = partitionCount(input, topic);
    if (count === undefined) continue;
    for (let partition = 0; partition < count; partition++) {
      let owner = owners.get(partition);
      if (owner === undefined) {
        const slot = slotOf(topic, partition);
        for (const task of order) {
          if (!taskSubscribes(task, topic) || !members.some((_, i) => tasks[i] === task && slots[i] === slot)) continue;
          if (owner === undefined || owned.get(task)! < owned.get(owner)!) owner = task;
        }
        if (owner === undefined) {
          while (!taskSubscribes(order[cursor], topic)) cursor = (cursor + 1) % order.length;
          owner = order[cursor];
          cursor = (cursor + 1) % order.length;
        }
        owners.set(partition, owner);
        owned.set(owner, owned.get(owner)! + 1);
      }
      // The owner may not read this topic (tasks of one run all do): then the first member that does.
      const index = members.findIndex((_, i) => tasks[i] === owner && subscribed[i].has(topic));
      const member = index >= 0 ? members[index] : members.find((_, i) => subscribed[i].has(topic))!;
      assignment.get(member.memberId)!.push({ topic, partition });
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
  const userData = encodeSlot(options.slot, options.task);
  return {
    name: LOCALITY_ASSIGNOR_NAME,
    protocol: 'eager',
    assign: (input) => localityAssign(input, options.slotOf),
    subscriptionUserData: () => userData,
  };
}
