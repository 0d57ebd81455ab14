/**
 * GroupMember (the member machine's driver) against a real GroupCoordinator, both on one
 * SimulatedClock: which partitions each member is handed and asked to give up, and when, under
 * the eager and cooperative protocols; being removed from the group; a retriable JoinGroup
 * failure; stale commits; and how a member leaves.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { assignorByName } from '../../src/group/assignors/index.js';
import { GroupMember, type Generation, type MembershipListener } from '../../src/group/group-member.js';
import type { TopicPartition } from '../../src/group/assignors/types.js';
import { fakes, type FakePartitionClient } from '../client/consumer-fakes/helpers.js';

const HEARTBEAT = 100;
const SESSION = 1_000;
const BACKOFF = 50;
const REF = { topic: '__consumer_offsets', partition: 0, groupId: 'g' } as const;

const { client: fakeClient } = fakes();

/** Lets every request in flight (each answered on a later event-loop turn) and what follows from it run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve));
}

const names = (partitions: readonly TopicPartition[]): number[] => partitions.map((p) => p.partition).sort((a, b) => a - b);

/** A member whose listener writes down every call. */
function newMember(client: FakePartitionClient, clock: SimulatedClock, name: string, assignor: string, groupInstanceId: string | null = null) {
  const calls: string[] = [];
  const listener: MembershipListener = {
    topics: () => ['t'],
    revoke: async (partitions, lost) => void calls.push(`${lost ? 'lost' : 'revoke'} ${names(partitions).join(',')}`),
    assign: async (added, assigned) => void calls.push(`assign +${names(added).join(',')} =${names(assigned).join(',')}`),
    joined: () => undefined,
    rebalancing: () => undefined,
    heartbeat: () => undefined,
    failed: (error) => void calls.push(`failed ${(error as TributaryError).code}`),
  };
  const member = new GroupMember(
    client,
    {
      groupId: 'g',
      groupInstanceId,
      clientId: name,
      sessionTimeout: SESSION,
      rebalanceTimeout: 5_000,
      heartbeatInterval: HEARTBEAT,
      retryBackoffMs: BACKOFF,
      assignors: [assignorByName(assignor)],
    },
    listener,
    clock,
  );
  return { member, calls };
}

function setup() {
  const clock = new SimulatedClock();
  let ids = 0;
  const client = fakeClient({ clock, now: () => clock.now(), newMemberId: (clientId) => `${clientId}-${++ids}` });
  client.createTopic('t', 4);
  /** Advances the clock one heartbeat at a time, letting the requests run in between. */
  const pass = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += HEARTBEAT) {
      clock.increment(HEARTBEAT);
      await settle();
    }
  };
  return { clock, client, pass };
}

describe('GroupMember against a GroupCoordinator (simulated clock)', () => {
  it('eager: a member gives up everything before rejoining, then takes its whole new assignment', async () => {
    const { clock, client, pass } = setup();
    const a = newMember(client, clock, 'a', 'range');
    const b = newMember(client, clock, 'b', 'range');
    a.member.start();
    await settle();
    expect(a.calls).toEqual(['assign +0,1,2,3 =0,1,2,3']);
    b.member.start();
    await pass(HEARTBEAT);
    // a learnt of the rebalance from its heartbeat: it revoked everything, rejoined, and got its share.
    expect(a.calls).toEqual(['assign +0,1,2,3 =0,1,2,3', 'revoke 0,1,2,3', 'assign +0,1 =0,1']);
    expect(b.calls).toEqual(['assign +2,3 =2,3']);
    expect(a.member.state).toBe('Stable');
    expect(a.member.generation.generationId).toBe(b.member.generation.generationId);
  });

  it('cooperative: only moved partitions are revoked, and a second rebalance hands them over', async () => {
    const { clock, client, pass } = setup();
    const a = newMember(client, clock, 'a', 'cooperative-sticky');
    const b = newMember(client, clock, 'b', 'cooperative-sticky');
    a.member.start();
    await settle();
    b.member.start();
    await pass(HEARTBEAT);
    // First round: a keeps 0,1 and revokes 2,3, which nobody gets yet; a rejoins at once.
    expect(a.calls.slice(0, 3)).toEqual(['assign +0,1,2,3 =0,1,2,3', 'revoke 2,3', 'assign + =0,1']);
    expect(b.calls[0]).toBe('assign + =');
    await pass(HEARTBEAT);
    // Second round: b learnt from its heartbeat; 2,3 go to b; a keeps 0,1 throughout.
    expect(a.calls.slice(3)).toEqual(['assign + =0,1']);
    expect(b.calls.slice(1)).toEqual(['assign +2,3 =2,3']);
    expect(a.member.assignment.map((p) => p.partition)).toEqual([0, 1]);
  });

  it('a member removed from the group learns it from UNKNOWN_MEMBER_ID: its partitions are lost, and it rejoins as a new member', async () => {
    const { clock, client, pass } = setup();
    const a = newMember(client, clock, 'a', 'cooperative-sticky');
    a.member.start();
    await settle();
    const old = a.member.generation;
    await client.request('leaveGroup', { ...REF, memberId: old.memberId, groupInstanceId: null });
    await pass(HEARTBEAT);
    expect(a.calls).toEqual(['assign +0,1,2,3 =0,1,2,3', 'lost 0,1,2,3', 'assign +0,1,2,3 =0,1,2,3']);
    expect(a.member.generation.memberId).not.toBe(old.memberId);
    expect(a.member.state).toBe('Stable');
  });

  it('a retriable JoinGroup failure is retried after the backoff', async () => {
    const { clock, client } = setup();
    client.failNext('joinGroup', REF.topic, REF.partition, new TributaryError('PARTITION_UNAVAILABLE', 'thread restarting (injected)'));
    const a = newMember(client, clock, 'a', 'range');
    a.member.start();
    await settle();
    expect(a.member.state).toBe('Unjoined');
    clock.increment(BACKOFF);
    await settle();
    expect(a.member.state).toBe('Stable');
    expect(client.count('joinGroup')).toBe(2);
  });

  it('commits: typed refusals; a refusal for an old generation does not make the member rejoin', async () => {
    const { clock, client } = setup();
    const a = newMember(client, clock, 'a', 'range');
    a.member.start();
    await settle();
    const current = a.member.generation;
    const offsets = [{ topic: 't', partition: 0, offset: 3 }];
    await a.member.commit(offsets);
    expect(await a.member.committed([{ topic: 't', partition: 0 }])).toMatchObject([{ partition: 0, offset: 3 }]);
    const stale: Generation = { memberId: current.memberId, generationId: current.generationId - 1 };
    await expect(a.member.commit(offsets, stale)).rejects.toMatchObject({ code: 'ILLEGAL_GENERATION', kafkaCode: 22 });
    await expect(a.member.commit(offsets, { memberId: 'nobody', generationId: current.generationId })).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    await settle();
    expect(a.member.state).toBe('Stable');
    expect(a.calls).toEqual(['assign +0,1,2,3 =0,1,2,3']);
  });

  it('leaving: a dynamic member revokes and sends LeaveGroup; a static one revokes only (KIP-345)', async () => {
    const { clock, client } = setup();
    const dynamic = newMember(client, clock, 'a', 'range');
    dynamic.member.start();
    await settle();
    await dynamic.member.leave();
    expect(dynamic.calls).toEqual(['assign +0,1,2,3 =0,1,2,3', 'revoke 0,1,2,3']);
    expect(client.count('leaveGroup')).toBe(1);

    const fixed = newMember(client, clock, 's', 'range', 'instance-1');
    fixed.member.start();
    await settle();
    await fixed.member.leave();
    expect(fixed.calls).toEqual(['assign +0,1,2,3 =0,1,2,3', 'revoke 0,1,2,3']);
    expect(client.count('leaveGroup')).toBe(1);
    expect((await client.request('describeGroup', REF)).members.map((m) => m.groupInstanceId)).toEqual(['instance-1']);
  });
});
