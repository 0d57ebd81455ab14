import fc from 'fast-check';
import { expect } from 'vitest';
import type { Assignment, AssignorInput, AssignorMember, TopicPartition } from '../../../src/group/assignors/index.js';

export const SEED = 0x7a1b;

export const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });
export const key = (p: TopicPartition): string => `${p.topic}-${p.partition}`;

/** Every existing partition of a topic some member subscribes to. */
export function subscribedPartitions(input: AssignorInput): TopicPartition[] {
  const topics = new Set(input.members.flatMap((m) => m.topics));
  const all: TopicPartition[] = [];
  for (const topic of topics) {
    const count = input.partitionsPerTopic[topic];
    if (count === undefined) continue;
    for (let p = 0; p < count; p++) all.push(tp(topic, p));
  }
  return all;
}

/**
 * Every subscribed partition appears exactly once across `lists` (assignment, plus pending
 * transfers for cooperative-sticky), only with members subscribed to its topic; every member has
 * an entry; nothing else is assigned.
 */
export function expectCoversExactlyOnce(input: AssignorInput, assignment: Assignment, extra: { topic: string; partition: number; to: string }[] = []): void {
  expect([...assignment.keys()].sort()).toEqual(input.members.map((m) => m.memberId).sort());
  const byId = new Map(input.members.map((m) => [m.memberId, m]));
  const seen = new Map<string, number>();
  const record = (memberId: string, p: TopicPartition): void => {
    expect(byId.get(memberId)!.topics, `${key(p)} given to ${memberId}, not subscribed`).toContain(p.topic);
    seen.set(key(p), (seen.get(key(p)) ?? 0) + 1);
  };
  for (const [memberId, list] of assignment) for (const p of list) record(memberId, p);
  for (const p of extra) record(p.to, p);
  const expected = subscribedPartitions(input).map(key).sort();
  expect([...seen.keys()].sort()).toEqual(expected);
  for (const [k, n] of seen) expect(n, `${k} assigned ${n} times`).toBe(1);
}

export function counts(assignment: Assignment): number[] {
  return [...assignment.values()].map((l) => l.length);
}

const TOPICS = ['a', 'b', 'c', 'd'];

/** Members with random subscriptions (sometimes to a topic missing from metadata). */
export function arbInput(options: { identical?: boolean; maxMembers?: number; maxPartitions?: number } = {}): fc.Arbitrary<AssignorInput> {
  const maxMembers = options.maxMembers ?? 7;
  const maxPartitions = options.maxPartitions ?? 9;
  const partitionsPerTopic = fc.record({
    a: fc.integer({ min: 0, max: maxPartitions }),
    b: fc.integer({ min: 1, max: maxPartitions }),
    c: fc.integer({ min: 1, max: maxPartitions }),
  }); // 'd' is never in the metadata
  const topicsArb = fc.subarray(TOPICS, { minLength: 0 });
  const member = fc.record({
    suffix: fc.string({ minLength: 1, maxLength: 3 }),
    topics: topicsArb,
    instance: fc.option(fc.constantFrom('i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7'), { nil: undefined }),
  });
  return fc
    .tuple(partitionsPerTopic, fc.uniqueArray(member, { maxLength: maxMembers, selector: (m) => m.suffix }), topicsArb, fc.boolean())
    .map(([ppt, raw, shared, useInstances]) => {
      const usedInstances = new Set<string>();
      const members: AssignorMember[] = raw.map((m) => {
        let groupInstanceId: string | undefined;
        if (useInstances && m.instance !== undefined && !usedInstances.has(m.instance)) {
          usedInstances.add(m.instance);
          groupInstanceId = m.instance;
        }
        return { memberId: `m-${m.suffix}`, groupInstanceId, topics: options.identical ? shared : m.topics };
      });
      return { members, partitionsPerTopic: ppt };
    });
}
