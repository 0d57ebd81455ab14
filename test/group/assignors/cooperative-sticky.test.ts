import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cooperativeStickyAssign,
  cooperativeStickyAssignor,
  cooperativeStickyPlan,
  type Assignment,
  type AssignorInput,
  type AssignorMember,
  type CooperativePlan,
} from '../../../src/group/assignors/index.js';
import { arbInput, counts, expectCoversExactlyOnce, key, SEED, subscribedPartitions, tp } from './helpers.js';

const obj = (a: Map<string, unknown>) => Object.fromEntries(a);

/** Members that own what `assignment` gave them, at `generation`. */
function owning(members: readonly AssignorMember[], assignment: Assignment, generation: number): AssignorMember[] {
  return members.map((m) => ({ ...m, ownedPartitions: assignment.get(m.memberId) ?? [], generation }));
}

/** The invariants every cooperative plan must hold. */
function expectValidPlan(input: AssignorInput, plan: CooperativePlan): void {
  expectCoversExactlyOnce(input, plan.assignment, plan.pending);
  expectCoversExactlyOnce(input, plan.target);
  // KIP-429: a member gets a partition it does not claim only if nobody claims it.
  const claimedBy = new Map<string, Set<string>>();
  for (const m of input.members) {
    for (const p of m.ownedPartitions ?? []) {
      const set = claimedBy.get(key(p)) ?? new Set<string>();
      set.add(m.memberId);
      claimedBy.set(key(p), set);
    }
  }
  for (const [memberId, list] of plan.assignment) {
    for (const p of list) {
      const claimants = claimedBy.get(key(p));
      if (claimants === undefined) continue;
      expect(claimants.has(memberId), `${key(p)} given to ${memberId} while ${[...claimants]} still own it`).toBe(true);
    }
  }
  for (const p of plan.pending) expect(plan.target.get(p.to)!.some((q) => key(q) === key(p))).toBe(true);
}

function expectWithinOne(assignment: Assignment): void {
  const c = counts(assignment);
  if (c.length > 0) expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
}

/** Partitions a member owned that it does not keep in `target`. */
function moved(members: readonly AssignorMember[], target: Assignment): number {
  let n = 0;
  for (const m of members) {
    const mine = new Set((target.get(m.memberId) ?? []).map(key));
    for (const p of m.ownedPartitions ?? []) if (!mine.has(key(p))) n++;
  }
  return n;
}

/**
 * The fewest owned partitions any balanced assignment must move, when subscriptions are identical
 * and ownership is consistent: member i can keep at most its quota (minQuota, or maxQuota for
 * `total % n` members), so at best it keeps min(owned, minQuota), plus one more for up to
 * `total % n` members owning at least maxQuota.
 */
function lowerBoundOfMoves(members: readonly AssignorMember[], total: number): number {
  const n = members.length;
  const minQuota = Math.floor(total / n);
  const maxQuota = Math.ceil(total / n);
  const owned = members.map((m) => m.ownedPartitions?.length ?? 0);
  const keepable = owned.reduce((s, o) => s + Math.min(o, minQuota), 0) + Math.min(total % n, owned.filter((o) => o >= maxQuota).length);
  return owned.reduce((s, o) => s + o, 0) - keepable;
}

/** Rebalances until the group is stable (no pending transfers), as members would. */
function converge(input: AssignorInput, generation = 1): { members: AssignorMember[]; generation: number } {
  let members = [...input.members];
  for (let round = 0; round < 4; round++) {
    const plan = cooperativeStickyPlan({ ...input, members });
    members = owning(members, plan.assignment, generation++);
    if (plan.pending.length === 0) return { members, generation };
  }
  throw new Error('did not converge in 4 rounds');
}

const member = (memberId: string, topics: string[], ownedPartitions: { topic: string; partition: number }[] = [], generation?: number): AssignorMember => ({
  memberId,
  topics,
  ownedPartitions,
  generation,
});

describe('cooperative-sticky assignor: examples', () => {
  it('has the Kafka protocol name and the cooperative protocol', () => {
    expect(cooperativeStickyAssignor.name).toBe('cooperative-sticky');
    expect(cooperativeStickyAssignor.protocol).toBe('cooperative');
  });

  it('add a consumer to one topic: the moving partition is revoked first, assigned in the follow-up (Kafka testAddRemoveConsumerOneTopic)', () => {
    const partitionsPerTopic = { topic: 3 };
    const first = cooperativeStickyAssign({ members: [member('consumer1', ['topic'])], partitionsPerTopic });
    expect(obj(first)).toEqual({ consumer1: [tp('topic', 0), tp('topic', 1), tp('topic', 2)] });

    const joined = { members: [member('consumer1', ['topic'], first.get('consumer1'), 1), member('consumer2', ['topic'], [], 1)], partitionsPerTopic };
    const plan = cooperativeStickyPlan(joined);
    expect(obj(plan.assignment)).toEqual({ consumer1: [tp('topic', 0), tp('topic', 1)], consumer2: [] });
    expect(obj(plan.target)).toEqual({ consumer1: [tp('topic', 0), tp('topic', 1)], consumer2: [tp('topic', 2)] });
    expect(plan.pending).toEqual([{ topic: 'topic', partition: 2, to: 'consumer2', owners: ['consumer1'] }]);

    const followUp = cooperativeStickyPlan({
      members: [member('consumer1', ['topic'], plan.assignment.get('consumer1'), 2), member('consumer2', ['topic'], [], 2)],
      partitionsPerTopic,
    });
    expect(obj(followUp.assignment)).toEqual({ consumer1: [tp('topic', 0), tp('topic', 1)], consumer2: [tp('topic', 2)] });
    expect(followUp.pending).toEqual([]);

    // consumer1 leaves: its partitions are free, so consumer2 takes them at once.
    const left = cooperativeStickyPlan({ members: [member('consumer2', ['topic'], [tp('topic', 2)], 3)], partitionsPerTopic });
    expect(obj(left.assignment)).toEqual({ consumer2: [tp('topic', 0), tp('topic', 1), tp('topic', 2)] });
  });

  it('a claim from an older generation loses to a newer one; same-generation double claims are withheld', () => {
    const partitionsPerTopic = { t: 2 };
    const stale = cooperativeStickyPlan({
      members: [member('a', ['t'], [tp('t', 0)], 5), member('b', ['t'], [tp('t', 0), tp('t', 1)], 6)],
      partitionsPerTopic,
    });
    expect(stale.target.get('b')).toContainEqual(tp('t', 0));
    expect(stale.assignment.get('b')).toContainEqual(tp('t', 0));
    expect(stale.assignment.get('a')).toEqual([]); // t-1 moves b -> a: withheld
    expect(stale.pending).toEqual([{ topic: 't', partition: 1, to: 'a', owners: ['b'] }]);

    const twice = cooperativeStickyPlan({
      members: [member('a', ['t'], [tp('t', 0)], 6), member('b', ['t'], [tp('t', 0)], 6)],
      partitionsPerTopic,
    });
    expect(twice.pending.map((p) => key(p))).toEqual(['t-0']);
    expectCoversExactlyOnce({ members: [member('a', ['t']), member('b', ['t'])], partitionsPerTopic }, twice.assignment, twice.pending);
  });

  it('drops claims on partitions that no longer exist or topics nobody subscribes to', () => {
    const plan = cooperativeStickyPlan({
      members: [member('a', ['t'], [tp('t', 7), tp('gone', 0), tp('t', 0)], 1), member('b', ['t'], [], 1)],
      partitionsPerTopic: { t: 2, gone: 1 },
    });
    // t-1 is claimed by nobody (t-7 does not exist), so b gets it at once.
    expect(obj(plan.assignment)).toEqual({ a: [tp('t', 0)], b: [tp('t', 1)] });
    expect(plan.pending).toEqual([]);
  });
});

describe('cooperative-sticky assignor: properties', () => {
  it('fresh group: every subscribed partition once, to a subscriber, nothing pending', () => {
    fc.assert(
      fc.property(arbInput(), (input) => {
        const plan = cooperativeStickyPlan(input);
        expectValidPlan(input, plan);
        expect(plan.pending).toEqual([]);
        expect(obj(plan.assignment)).toEqual(obj(plan.target));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('identical subscriptions: balanced within one, fresh or with any (even conflicting) ownership', () => {
    const arb = arbInput({ identical: true }).chain((input) => {
      const all = subscribedPartitions(input).concat([tp('a', 99)]);
      const owned = fc.subarray(all);
      return fc.tuple(
        fc.constant(input),
        fc.array(fc.tuple(owned, fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined })), {
          minLength: input.members.length,
          maxLength: input.members.length,
        }),
      );
    });
    fc.assert(
      fc.property(arb, ([input, ownership]) => {
        const members = input.members.map((m, i) => ({ ...m, ownedPartitions: ownership[i][0], generation: ownership[i][1] }));
        const withOwnership = { ...input, members };
        const plan = cooperativeStickyPlan(withOwnership);
        expectValidPlan(withOwnership, plan);
        expectWithinOne(plan.target);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('identical subscriptions: members join and leave; moves are minimal and never hand over an owned partition', () => {
    const arb = fc.record({
      partitions: fc.integer({ min: 0, max: 24 }),
      initial: fc.integer({ min: 1, max: 6 }),
      steps: fc.array(fc.oneof(fc.constant({ join: true }), fc.nat({ max: 20 }).map((i) => ({ leave: i }))), { minLength: 1, maxLength: 6 }),
    });
    fc.assert(
      fc.property(arb, ({ partitions, initial, steps }) => {
        const partitionsPerTopic = { x: partitions, y: Math.ceil(partitions / 2) };
        const topics = ['x', 'y'];
        const total = partitions + Math.ceil(partitions / 2);
        let nextId = 0;
        const fresh = (): AssignorMember => ({ memberId: `member-${String(nextId++).padStart(2, '0')}`, topics });
        let { members, generation } = converge({ members: Array.from({ length: initial }, fresh), partitionsPerTopic });
        for (const step of steps) {
          if ('join' in step) members = [...members, fresh()];
          else if (members.length > 1) members = members.filter((_, i) => i !== step.leave % members.length);
          const input = { members, partitionsPerTopic };
          const plan = cooperativeStickyPlan(input);
          expectValidPlan(input, plan);
          expectWithinOne(plan.target);
          const lower = lowerBoundOfMoves(members, total);
          expect(moved(members, plan.target)).toBe(lower);
          // Every move is of an owned partition, so each one is withheld this round.
          expect(plan.pending.length).toBe(lower);

          // Follow-up: owners revoked what they lost; everything is assigned, nothing more moves.
          const revoked = owning(members, plan.assignment, generation++);
          const followUp = cooperativeStickyPlan({ members: revoked, partitionsPerTopic });
          expectValidPlan({ members: revoked, partitionsPerTopic }, followUp);
          expect(followUp.pending).toEqual([]);
          expect(moved(revoked, followUp.target)).toBe(0);
          expectWithinOne(followUp.assignment);
          members = owning(revoked, followUp.assignment, generation++);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('different subscriptions: valid, locally balanced, and settles after a membership change', () => {
    const arb = arbInput({ maxMembers: 6 }).chain((input) =>
      fc.tuple(fc.constant(input), fc.subarray(['a', 'b', 'c']), fc.nat({ max: 10 })),
    );
    fc.assert(
      fc.property(arb, ([input, joinerTopics, leaver]) => {
        const first = converge(input);
        const changed = [...first.members.filter((_, i) => i !== leaver % Math.max(1, first.members.length)), { memberId: 'joiner', topics: joinerTopics }];
        const next = { ...input, members: changed };
        const plan = cooperativeStickyPlan(next);
        expectValidPlan(next, plan);
        // No partition can go from a member to an eligible one holding two fewer.
        const byId = new Map(changed.map((m) => [m.memberId, new Set(m.topics)]));
        for (const list of plan.target.values()) {
          for (const p of list) {
            for (const [to, topics] of byId) {
              if (topics.has(p.topic)) expect(list.length - plan.target.get(to)!.length).toBeLessThanOrEqual(1);
            }
          }
        }
        converge({ ...next, members: owning(changed, plan.assignment, first.generation) }, first.generation + 1);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
