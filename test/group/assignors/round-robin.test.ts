import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundRobinAssign, roundRobinAssignor, type AssignorMember } from '../../../src/group/assignors/index.js';
import { arbInput, counts, expectCoversExactlyOnce, SEED, tp } from './helpers.js';

const m = (memberId: string, topics: string[], groupInstanceId?: string): AssignorMember => ({ memberId, topics, groupInstanceId });
const obj = (a: Map<string, unknown>) => Object.fromEntries(a);

describe('round-robin assignor: worked examples from Kafka RoundRobinAssignorTest / javadoc', () => {
  it('has the Kafka protocol name and eager protocol', () => {
    expect(roundRobinAssignor.name).toBe('roundrobin');
    expect(roundRobinAssignor.protocol).toBe('eager');
  });

  it('one consumer, nonexistent topic', () => {
    expect(obj(roundRobinAssign({ members: [m('c', ['missing'])], partitionsPerTopic: { t: 3 } }))).toEqual({ c: [] });
  });

  it('two consumers, one topic, two partitions', () => {
    expect(obj(roundRobinAssign({ members: [m('c2', ['t']), m('c1', ['t'])], partitionsPerTopic: { t: 2 } }))).toEqual({
      c1: [tp('t', 0)],
      c2: [tp('t', 1)],
    });
  });

  it('multiple consumers, mixed topics', () => {
    const input = {
      members: [m('consumer1', ['topic1']), m('consumer2', ['topic1', 'topic2']), m('consumer3', ['topic1'])],
      partitionsPerTopic: { topic1: 3, topic2: 2 },
    };
    expect(obj(roundRobinAssign(input))).toEqual({
      consumer1: [tp('topic1', 0)],
      consumer2: [tp('topic1', 1), tp('topic2', 0), tp('topic2', 1)],
      consumer3: [tp('topic1', 2)],
    });
  });

  it('two consumers, two topics, six partitions (the javadoc example)', () => {
    const input = { members: [m('C0', ['t0', 't1']), m('C1', ['t0', 't1'])], partitionsPerTopic: { t0: 3, t1: 3 } };
    expect(obj(roundRobinAssign(input))).toEqual({
      C0: [tp('t0', 0), tp('t0', 2), tp('t1', 1)],
      C1: [tp('t0', 1), tp('t1', 0), tp('t1', 2)],
    });
  });

  it('differing subscriptions skip non-subscribers and can be unbalanced (the javadoc example)', () => {
    const input = {
      members: [m('C0', ['t0']), m('C1', ['t0', 't1']), m('C2', ['t0', 't1', 't2'])],
      partitionsPerTopic: { t0: 1, t1: 2, t2: 3 },
    };
    expect(obj(roundRobinAssign(input))).toEqual({
      C0: [tp('t0', 0)],
      C1: [tp('t1', 0)],
      C2: [tp('t1', 1), tp('t2', 0), tp('t2', 1), tp('t2', 2)],
    });
  });

  it('static members are ordered by groupInstanceId, not memberId', () => {
    const input = {
      members: [m('consumer-a', ['t0', 't1'], 'instance-2'), m('consumer-b', ['t0', 't1'], 'instance-1')],
      partitionsPerTopic: { t0: 3, t1: 3 },
    };
    expect(obj(roundRobinAssign(input))).toEqual({
      'consumer-b': [tp('t0', 0), tp('t0', 2), tp('t1', 1)],
      'consumer-a': [tp('t0', 1), tp('t1', 0), tp('t1', 2)],
    });
  });
});

describe('round-robin assignor: properties', () => {
  it('assigns every subscribed partition exactly once, only to subscribers', () => {
    fc.assert(
      fc.property(arbInput(), (input) => expectCoversExactlyOnce(input, roundRobinAssign(input))),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('is balanced within one when subscriptions are identical', () => {
    fc.assert(
      fc.property(arbInput({ identical: true }), (input) => {
        const assignment = roundRobinAssign(input);
        expectCoversExactlyOnce(input, assignment);
        const c = counts(assignment);
        if (c.length > 0) expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
