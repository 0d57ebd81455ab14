import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rangeAssign, rangeAssignor, type AssignorMember } from '../../../src/group/assignors/index.js';
import { compareMembers } from '../../../src/group/assignors/common.js';
import { arbInput, expectCoversExactlyOnce, SEED, tp } from './helpers.js';

const m = (memberId: string, topics: string[], groupInstanceId?: string): AssignorMember => ({ memberId, topics, groupInstanceId });
const obj = (a: Map<string, unknown>) => Object.fromEntries(a);

describe('range assignor: worked examples from Kafka RangeAssignorTest / javadoc', () => {
  it('has the Kafka protocol name and eager protocol', () => {
    expect(rangeAssignor.name).toBe('range');
    expect(rangeAssignor.protocol).toBe('eager');
  });

  it('one consumer, no topic / nonexistent topic: empty assignment', () => {
    expect(obj(rangeAssign({ members: [m('c', [])], partitionsPerTopic: {} }))).toEqual({ c: [] });
    expect(obj(rangeAssign({ members: [m('c', ['missing'])], partitionsPerTopic: { t: 3 } }))).toEqual({ c: [] });
  });

  it('only assigns partitions from subscribed topics', () => {
    expect(obj(rangeAssign({ members: [m('c', ['topic'])], partitionsPerTopic: { topic: 3, other: 3 } }))).toEqual({
      c: [tp('topic', 0), tp('topic', 1), tp('topic', 2)],
    });
  });

  it('two consumers, one topic, one partition', () => {
    expect(obj(rangeAssign({ members: [m('c1', ['t']), m('c2', ['t'])], partitionsPerTopic: { t: 1 } }))).toEqual({
      c1: [tp('t', 0)],
      c2: [],
    });
  });

  it('multiple consumers, mixed topics', () => {
    const input = {
      members: [m('consumer1', ['topic1']), m('consumer2', ['topic1', 'topic2']), m('consumer3', ['topic1'])],
      partitionsPerTopic: { topic1: 3, topic2: 2 },
    };
    expect(obj(rangeAssign(input))).toEqual({
      consumer1: [tp('topic1', 0)],
      consumer2: [tp('topic1', 1), tp('topic2', 0), tp('topic2', 1)],
      consumer3: [tp('topic1', 2)],
    });
  });

  it('two consumers, two topics, six partitions (the javadoc example)', () => {
    const input = { members: [m('C1', ['t1', 't0']), m('C0', ['t0', 't1'])], partitionsPerTopic: { t0: 3, t1: 3 } };
    expect(obj(rangeAssign(input))).toEqual({
      C0: [tp('t0', 0), tp('t0', 1), tp('t1', 0), tp('t1', 1)],
      C1: [tp('t0', 2), tp('t1', 2)],
    });
  });

  it('static members sort by groupInstanceId, before dynamic members (KIP-345 MemberInfo order)', () => {
    const input = {
      members: [m('consumer-a', ['t'], 'instance-2'), m('consumer-b', ['t'], 'instance-1'), m('consumer-0', ['t'])],
      partitionsPerTopic: { t: 5 },
    };
    expect(obj(rangeAssign(input))).toEqual({
      'consumer-b': [tp('t', 0), tp('t', 1)],
      'consumer-a': [tp('t', 2), tp('t', 3)],
      'consumer-0': [tp('t', 4)],
    });
  });
});

describe('range assignor: properties', () => {
  it('assigns every subscribed partition once, to a subscriber, in contiguous per-topic ranges', () => {
    fc.assert(
      fc.property(arbInput(), (input) => {
        const assignment = rangeAssign(input);
        expectCoversExactlyOnce(input, assignment);
        for (const [topic, count] of Object.entries(input.partitionsPerTopic)) {
          const subs = input.members.filter((x) => x.topics.includes(topic)).sort(compareMembers);
          if (subs.length === 0) continue;
          const per = Math.floor(count / subs.length);
          let next = 0;
          subs.forEach((s, i) => {
            const mine = assignment.get(s.memberId)!.filter((p) => p.topic === topic).map((p) => p.partition);
            const expected = per + (i < count % subs.length ? 1 : 0);
            expect(mine).toEqual(Array.from({ length: expected }, (_, k) => next + k));
            next += expected;
          });
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('does not depend on the order members are listed in', () => {
    fc.assert(
      fc.property(arbInput(), (input) => {
        const reversed = { ...input, members: [...input.members].reverse() };
        expect(obj(rangeAssign(reversed))).toEqual(obj(rangeAssign(input)));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
