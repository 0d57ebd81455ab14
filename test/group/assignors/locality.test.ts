import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors.js';
import {
  assignorByName,
  decodeSlot,
  decodeTask,
  encodeSlot,
  localityAssign,
  localityAssignor,
  type AssignorInput,
  type AssignorMember,
  type PartitionSlots,
} from '../../../src/group/assignors/index.js';
import { arbInput, expectCoversExactlyOnce, SEED, tp } from './helpers.js';

const THREADS = 3;

/** Partitions placed over the slots as the runtime's placement does on an even field: round-robin, topic after topic. */
function placement(input: AssignorInput, threads = THREADS): PartitionSlots {
  const slots = new Map<string, number>();
  let next = 0;
  for (const topic of Object.keys(input.partitionsPerTopic).sort()) {
    for (let p = 0; p < input.partitionsPerTopic[topic]; p++) slots.set(`${topic}-${p}`, next++ % threads);
  }
  return (topic, partition) => slots.get(`${topic}-${partition}`);
}

const member = (memberId: string, topics: string[], slot: number | null, groupInstanceId?: string): AssignorMember => ({
  memberId,
  topics,
  groupInstanceId,
  userData: slot === null ? null : encodeSlot(slot),
});

/** Members of `arbInput` placed on random slots (some without one). */
const arbPlacedInput = arbInput().chain((input) =>
  fc.array(fc.option(fc.integer({ min: 0, max: THREADS - 1 }), { nil: null }), { minLength: input.members.length, maxLength: input.members.length }).map(
    (slots): AssignorInput => ({
      ...input,
      members: input.members.map((m, i) => ({ ...m, userData: slots[i] === null ? null : encodeSlot(slots[i]!) })),
    }),
  ),
);

describe('locality assignor', () => {
  it('gives each partition to a member on its thread, balancing members that share one', () => {
    const input = {
      members: [member('a', ['t'], 0), member('b', ['t'], 1), member('c', ['t'], 1)],
      partitionsPerTopic: { t: 6 },
    };
    const slotOf: PartitionSlots = (_, p) => p % 2;
    expect(Object.fromEntries(localityAssign(input, slotOf))).toEqual({
      a: [tp('t', 0), tp('t', 2), tp('t', 4)],
      b: [tp('t', 1), tp('t', 5)],
      c: [tp('t', 3)],
    });
  });

  it('deals partitions of threads without a member round-robin over every subscriber', () => {
    const input = { members: [member('a', ['t'], 0), member('b', ['t'], null)], partitionsPerTopic: { t: 6 } };
    const slotOf: PartitionSlots = (_, p) => p % 3;
    // p0, p3 are on slot 0 (a's); p1, p2, p4, p5 have no local member and are dealt a, b, a, b.
    expect(Object.fromEntries(localityAssign(input, slotOf))).toEqual({
      a: [tp('t', 0), tp('t', 1), tp('t', 3), tp('t', 4)],
      b: [tp('t', 2), tp('t', 5)],
    });
  });

  it('depends only on groupInstanceIds and slots when every member is static', () => {
    const input = (ids: string[]): AssignorInput => ({
      members: ids.map((id, i) => member(id, ['t', 'u'], i % 2, `run-${i}`)),
      partitionsPerTopic: { t: 5, u: 3 },
    });
    const slotOf: PartitionSlots = (topic, p) => (topic === 't' ? p % 3 : 2);
    const byInstance = (ids: string[]) => {
      const assignment = localityAssign(input(ids), slotOf);
      return ids.map((id) => assignment.get(id));
    };
    expect(byInstance(['x1', 'x2', 'x3'])).toEqual(byInstance(['z9', 'a0', 'm5']));
  });

  it('carries the member slot in its subscription userData', () => {
    const assignor = localityAssignor({ slot: 7, slotOf: () => undefined });
    expect(assignor.name).toBe('locality');
    expect(assignor.protocol).toBe('eager');
    expect(decodeSlot(assignor.subscriptionUserData!(['t']))).toBe(7);
    expect(decodeSlot(null)).toBeUndefined();
    expect(decodeSlot(new Uint8Array(3))).toBeUndefined();
  });

  it('cannot be looked up by name alone: it needs the placement', () => {
    expect(() => assignorByName('locality')).toThrow(TributaryError);
    expect(() => assignorByName('locality')).toThrow(/localityAssignor/);
    const made = localityAssignor({ slot: 0, slotOf: () => 0 });
    expect(assignorByName('locality', [made])).toBe(made);
  });

  it('assigns every subscribed partition exactly once, only to subscribers', () => {
    fc.assert(
      fc.property(arbPlacedInput, (input) => expectCoversExactlyOnce(input, localityAssign(input, placement(input)))),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('assigns a partition locally whenever a subscribed member runs on its thread', () => {
    fc.assert(
      fc.property(arbPlacedInput, (input) => {
        const slotOf = placement(input);
        const slotOfMember = new Map(input.members.map((m) => [m.memberId, decodeSlot(m.userData)]));
        for (const [memberId, partitions] of localityAssign(input, slotOf)) {
          for (const { topic, partition } of partitions) {
            const slot = slotOf(topic, partition);
            const localExists = input.members.some((m) => m.topics.includes(topic) && decodeSlot(m.userData) === slot);
            if (localExists) expect(slotOfMember.get(memberId), `${topic}-${partition} (slot ${slot}) went to ${memberId}`).toBe(slot);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('keeps members of one thread within one partition of each other when they subscribe alike', () => {
    fc.assert(
      fc.property(arbInput({ identical: true }), fc.array(fc.integer({ min: 0, max: THREADS - 1 }), { minLength: 7, maxLength: 7 }), (base, slots) => {
        const input = { ...base, members: base.members.map((m, i) => ({ ...m, userData: encodeSlot(slots[i]) })) };
        const slotOf = placement(input);
        const assignment = localityAssign(input, slotOf);
        for (let slot = 0; slot < THREADS; slot++) {
          const counts = input.members.filter((m) => decodeSlot(m.userData) === slot).map((m) => assignment.get(m.memberId)!.filter((p) => slotOf(p.topic, p.partition) === slot).length);
          if (counts.length > 0) expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  describe('members of stream tasks (co-partitioning)', () => {
    /** `tasks` tasks on random slots, each with one member per topic, as a run's tasks join; topics with random partition counts. */
    const arbTasks = fc
      .record({
        slots: fc.array(fc.integer({ min: 0, max: THREADS - 1 }), { minLength: 1, maxLength: 6 }),
        counts: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
      })
      .map(({ slots, counts }): AssignorInput => {
        const topics = counts.map((_, i) => `topic-${String.fromCharCode(97 + i)}`);
        return {
          members: slots.flatMap((slot, task) => topics.map((topic, n) => ({ memberId: `m-${task}-${n}`, groupInstanceId: `run-${task}-${n}`, topics: [topic], userData: encodeSlot(slot, task) }))),
          partitionsPerTopic: Object.fromEntries(topics.map((topic, i) => [topic, counts[i]])),
        };
      });
    const taskOf = (input: AssignorInput, memberId: string): number => decodeTask(input.members.find((m) => m.memberId === memberId)!.userData)!;

    it('gives partition p of every topic to one task, every partition exactly once', () => {
      fc.assert(
        fc.property(arbTasks, (input) => {
          const assignment = localityAssign(input, placement(input));
          expectCoversExactlyOnce(input, assignment);
          const owner = new Map<number, number>();
          for (const [memberId, partitions] of assignment) {
            for (const { partition } of partitions) {
              const task = taskOf(input, memberId);
              expect(owner.get(partition) ?? task, `partition ${partition}`).toBe(task);
              owner.set(partition, task);
            }
          }
        }),
        { seed: SEED, numRuns: 300 },
      );
    });

    it('with one topic, assigns as it does to members without tasks', () => {
      fc.assert(
        fc.property(
          arbTasks.filter((input) => Object.keys(input.partitionsPerTopic).length === 1),
          (input) => {
            const plain = { ...input, members: input.members.map((m) => ({ ...m, userData: encodeSlot(decodeSlot(m.userData)!) })) };
            expect(localityAssign(input, placement(input))).toEqual(localityAssign(plain, placement(plain)));
          },
        ),
        { seed: SEED, numRuns: 200 },
      );
    });

    it('carries the task beside the slot, and only then', () => {
      const assignor = localityAssignor({ slot: 2, task: 5, slotOf: () => undefined });
      const userData = assignor.subscriptionUserData!(['t']);
      expect([decodeSlot(userData), decodeTask(userData)]).toEqual([2, 5]);
      expect(decodeTask(encodeSlot(2))).toBeUndefined();
    });
  });
});
