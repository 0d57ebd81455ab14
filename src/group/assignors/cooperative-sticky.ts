/**
 * Kafka's `CooperativeStickyAssignor` ("cooperative-sticky", KIP-429 on top of KIP-54's sticky
 * assignment): balanced (counts within one when subscriptions are identical), and sticky (keeps
 * as many previously owned partitions where they are as possible).
 *
 * Cooperative protocol: a partition never goes to a new owner in the rebalance that takes it away
 * from its current owner. `assign` returns Kafka's adjusted assignment: such a partition is left
 * out of everyone's list (its owner sees it missing and revokes it, then rejoins; the follow-up
 * rebalance assigns it). `cooperativeStickyPlan` returns that assignment together with the full
 * target and the list of partitions withheld (`pending`), for a coordinator that wants to know a
 * follow-up rebalance is due (Kafka's leader triggers one when any partition was revoked).
 *
 * Sources followed (apache/kafka, clients/.../consumer/): `CooperativeStickyAssignor.java` and
 * `internals/AbstractStickyAssignor.java` (3.5+, `ConstrainedAssignmentBuilder`,
 * `allSubscriptionsEqual`):
 * - Ownership claims are resolved as Kafka does: a partition claimed by two members of different
 *   generations belongs to the higher generation; claimed by two of the same generation, to
 *   neither (and it is withheld from whoever gets it this round). Claims on topics nobody
 *   subscribes to, or on partitions that do not exist, are dropped.
 * - Identical subscriptions: Kafka's constrained algorithm, step for step (owned partitions sorted
 *   by partition then topic, keep up to maxQuota for the first `total % members` members owning
 *   that many, minQuota for the rest; fill under-quota members round-robin in memberId order).
 *   Kafka walks members in HashMap order; we walk them sorted by memberId so results are
 *   deterministic. This is provably minimal in moves (see the tests' lower bound).
 * - Different subscriptions: NOT Kafka's general algorithm (its `GeneralAssignmentBuilder` with
 *   partition-movement cycle detection). Ours keeps valid owned partitions, gives each free
 *   partition (fewest eligible members first) to the least-loaded eligible member, then moves
 *   partitions along shortest chains of eligible members from the most-loaded member to any member
 *   holding at least two fewer, until none exists. Balanced in that sense; sticky in practice,
 *   but not proven minimal.
 * - Rack-aware placement (KIP-881) is not implemented.
 */
import { compareStrings, compareTopicPartitions, emptyAssignment, partitionCount, sortAssignment, tpKey, validateInput } from './common.js';
import type { Assignment, Assignor, AssignorInput, AssignorMember, TopicPartition } from './types.js';

const DEFAULT_GENERATION = -1;

/** A partition withheld this round: `to` gets it once every member in `owners` has revoked it. */
export interface PendingTransfer {
  readonly topic: string;
  readonly partition: number;
  readonly to: string;
  /** Members that still claim the partition (sorted). */
  readonly owners: string[];
}

export interface CooperativePlan {
  /** What each member gets this generation: `target` minus `pending`. */
  readonly assignment: Assignment;
  /** The balanced, sticky assignment the group converges to after the follow-up rebalance. */
  readonly target: Assignment;
  /** Partitions in `target` withheld from their new owner until revoked (sorted). */
  readonly pending: PendingTransfer[];
}

interface Ownership {
  /** memberId -> valid owned partitions (resolved claims, existing partitions, group topics). */
  readonly owned: Map<string, TopicPartition[]>;
  /** tpKey -> the member that validly owns it. */
  readonly ownerOf: Map<string, string>;
  /** Partitions claimed by two members of the same generation: owned by neither. */
  readonly multiplyClaimed: Set<string>;
  /** tpKey -> every member listing it in ownedPartitions, whatever its generation. */
  readonly claimants: Map<string, string[]>;
}

function resolveOwnership(members: readonly AssignorMember[], input: AssignorInput, groupTopics: Set<string>): Ownership {
  const owned = new Map<string, TopicPartition[]>();
  const ownerOf = new Map<string, string>();
  const multiplyClaimed = new Set<string>();
  const claimants = new Map<string, string[]>();
  const generationOf = new Map(members.map((m) => [m.memberId, m.generation ?? DEFAULT_GENERATION]));
  for (const member of members) owned.set(member.memberId, []);

  const remove = (memberId: string, key: string): void => {
    const list = owned.get(memberId)!;
    const at = list.findIndex((tp) => tpKey(tp) === key);
    if (at >= 0) list.splice(at, 1);
  };

  for (const member of members) {
    const generation = generationOf.get(member.memberId)!;
    for (const claim of member.ownedPartitions ?? []) {
      const count = partitionCount(input, claim.topic);
      if (count === undefined || !Number.isInteger(claim.partition) || claim.partition < 0 || claim.partition >= count) continue;
      const key = tpKey(claim);
      const list = claimants.get(key) ?? [];
      if (!list.includes(member.memberId)) list.push(member.memberId);
      claimants.set(key, list);
      if (!groupTopics.has(claim.topic)) continue;
      const tp = { topic: claim.topic, partition: claim.partition };
      const other = ownerOf.get(key);
      if (other === undefined) {
        owned.get(member.memberId)!.push(tp);
        ownerOf.set(key, member.memberId);
      } else if (other === member.memberId) {
        continue; // listed twice by the same member
      } else {
        const otherGeneration = generationOf.get(other)!;
        if (generation === otherGeneration) {
          multiplyClaimed.add(key);
          remove(other, key);
          ownerOf.set(key, member.memberId);
        } else if (generation > otherGeneration) {
          remove(other, key);
          owned.get(member.memberId)!.push(tp);
          ownerOf.set(key, member.memberId);
        }
      }
    }
  }
  for (const key of multiplyClaimed) {
    const member = ownerOf.get(key)!;
    remove(member, key);
    ownerOf.delete(key);
  }
  for (const list of claimants.values()) list.sort(compareStrings);
  return { owned, ownerOf, multiplyClaimed, claimants };
}

function allTopicPartitions(input: AssignorInput, groupTopics: Set<string>): TopicPartition[] {
  const all: TopicPartition[] = [];
  for (const topic of [...groupTopics].sort(compareStrings)) {
    const count = partitionCount(input, topic)!;
    for (let partition = 0; partition < count; partition++) all.push({ topic, partition });
  }
  return all;
}

/** Kafka's ConstrainedAssignmentBuilder (without racks), members walked in memberId order. */
function constrainedAssign(members: readonly AssignorMember[], all: TopicPartition[], ownership: Ownership, assignment: Assignment): void {
  const total = all.length;
  const n = members.length;
  const minQuota = Math.floor(total / n);
  const maxQuota = Math.ceil(total / n);
  const expectedOverMin = total % n;
  let currentOverMin = 0;
  const underMin: string[] = [];
  const exactlyMin: string[] = [];
  const assigned = new Set<string>();

  for (const member of members) {
    const id = member.memberId;
    const owned = [...ownership.owned.get(id)!].sort((a, b) => a.partition - b.partition || compareStrings(a.topic, b.topic));
    const list = assignment.get(id)!;
    let keep: TopicPartition[];
    if (owned.length < minQuota) {
      keep = owned;
      underMin.push(id);
    } else if (owned.length >= maxQuota && currentOverMin < expectedOverMin) {
      currentOverMin++;
      if (currentOverMin === expectedOverMin) exactlyMin.length = 0;
      keep = owned.slice(0, maxQuota);
    } else {
      keep = owned.slice(0, minQuota);
      if (currentOverMin < expectedOverMin) exactlyMin.push(id);
    }
    for (const tp of keep) {
      list.push(tp);
      assigned.add(tpKey(tp));
    }
  }

  underMin.sort(compareStrings);
  exactlyMin.sort(compareStrings);
  const unassigned = all.filter((tp) => !assigned.has(tpKey(tp)));
  let cursor = 0; // Java's iterator over underMin: next() returns underMin[cursor++]
  for (const tp of unassigned) {
    let consumer: string;
    let fromUnder = true;
    if (cursor < underMin.length) {
      consumer = underMin[cursor++];
    } else if (underMin.length === 0 && exactlyMin.length === 0) {
      throw new Error('cooperative-sticky: no unfilled member left for an unassigned partition (assignor bug)');
    } else if (underMin.length === 0) {
      consumer = exactlyMin.shift()!;
      fromUnder = false;
    } else {
      cursor = 0;
      consumer = underMin[cursor++];
    }
    const list = assignment.get(consumer)!;
    list.push(tp);
    if (list.length === minQuota && fromUnder) {
      underMin.splice(--cursor, 1);
      exactlyMin.push(consumer);
    } else if (list.length === maxQuota) {
      currentOverMin++;
    }
  }
}

/** Keep owned, fill least-loaded, then rebalance along chains of eligible members. */
function generalAssign(members: readonly AssignorMember[], all: TopicPartition[], ownership: Ownership, assignment: Assignment): void {
  const ids = members.map((m) => m.memberId); // sorted
  const subscribers = new Map<string, string[]>();
  for (const member of members) {
    for (const topic of new Set(member.topics)) {
      const list = subscribers.get(topic) ?? [];
      list.push(member.memberId);
      subscribers.set(topic, list);
    }
  }
  const subscribes = new Map(members.map((m) => [m.memberId, new Set(m.topics)]));
  const originallyOwned = new Set<string>();
  const holder = new Map<string, string>();

  for (const id of ids) {
    for (const tp of ownership.owned.get(id)!) {
      if (!subscribes.get(id)!.has(tp.topic)) continue;
      assignment.get(id)!.push(tp);
      holder.set(tpKey(tp), id);
      originallyOwned.add(`${id}\u0001${tpKey(tp)}`);
    }
  }

  const free = all
    .filter((tp) => !holder.has(tpKey(tp)))
    .sort((a, b) => subscribers.get(a.topic)!.length - subscribers.get(b.topic)!.length || compareTopicPartitions(a, b));
  for (const tp of free) {
    let best: string | undefined;
    for (const id of subscribers.get(tp.topic)!) {
      if (best === undefined || assignment.get(id)!.length < assignment.get(best)!.length) best = id;
    }
    assignment.get(best!)!.push(tp);
    holder.set(tpKey(tp), best!);
  }

  // Partition held by `from` that `to` may take; prefer ones `from` did not own before (free moves).
  const movable = (from: string, to: string): TopicPartition | undefined => {
    let fallback: TopicPartition | undefined;
    for (const tp of assignment.get(from)!) {
      if (!subscribes.get(to)!.has(tp.topic)) continue;
      if (!originallyOwned.has(`${from}\u0001${tpKey(tp)}`)) return tp;
      fallback ??= tp;
    }
    return fallback;
  };

  for (;;) {
    const byLoad = [...ids].sort((a, b) => assignment.get(b)!.length - assignment.get(a)!.length || compareStrings(a, b));
    let moved = false;
    for (const source of byLoad) {
      const sourceCount = assignment.get(source)!.length;
      // BFS over "holder -> member that may take one of its partitions".
      const parent = new Map<string, string>([[source, source]]);
      const queue = [source];
      let sink: string | undefined;
      while (queue.length > 0 && sink === undefined) {
        const at = queue.shift()!;
        for (const next of ids) {
          if (parent.has(next) || movable(at, next) === undefined) continue;
          parent.set(next, at);
          if (assignment.get(next)!.length <= sourceCount - 2) {
            sink = next;
            break;
          }
          queue.push(next);
        }
      }
      if (sink === undefined) continue;
      const path = [sink];
      while (path[0] !== source) path.unshift(parent.get(path[0])!);
      // Shift from the sink's end first so every step finds its partition still in place.
      for (let i = path.length - 1; i > 0; i--) {
        const from = path[i - 1];
        const to = path[i];
        const tp = movable(from, to)!;
        const list = assignment.get(from)!;
        list.splice(list.indexOf(tp), 1);
        assignment.get(to)!.push(tp);
      }
      moved = true;
      break;
    }
    if (!moved) return;
  }
}

export function cooperativeStickyPlan(input: AssignorInput): CooperativePlan {
  validateInput(input);
  const members = [...input.members].sort((a, b) => compareStrings(a.memberId, b.memberId));
  const groupTopics = new Set<string>();
  for (const member of members) {
    for (const topic of member.topics) if (partitionCount(input, topic) !== undefined) groupTopics.add(topic);
  }
  const target = emptyAssignment(input);
  const ownership = resolveOwnership(members, input, groupTopics);
  if (members.length > 0) {
    const all = allTopicPartitions(input, groupTopics);
    const first = new Set(members[0].topics);
    const identical = members.every((m) => {
      const topics = new Set(m.topics);
      return topics.size === first.size && [...topics].every((t) => first.has(t));
    });
    if (identical) constrainedAssign(members, all, ownership, target);
    else generalAssign(members, all, ownership, target);
  }
  sortAssignment(target);

  // KIP-429: withhold a partition from a member that is not its valid owner while anyone claims it.
  const assignment: Assignment = new Map();
  const pending: PendingTransfer[] = [];
  for (const [memberId, list] of target) {
    const kept: TopicPartition[] = [];
    for (const tp of list) {
      const key = tpKey(tp);
      const owners = ownership.claimants.get(key) ?? [];
      const validOwner = ownership.ownerOf.get(key) === memberId;
      if (!validOwner && owners.length > 0) pending.push({ topic: tp.topic, partition: tp.partition, to: memberId, owners: [...owners] });
      else kept.push(tp);
    }
    assignment.set(memberId, kept);
  }
  pending.sort(compareTopicPartitions);
  return { assignment, target, pending };
}

export function cooperativeStickyAssign(input: AssignorInput): Assignment {
  return cooperativeStickyPlan(input).assignment;
}

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign: cooperativeStickyAssign,
};
