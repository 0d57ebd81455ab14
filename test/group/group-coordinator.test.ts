import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { GroupCoordinator, type GroupRequestType, type OffsetsRecord } from '../../src/group/group-coordinator.js';
import { decodeOffsetsKey } from '../../src/group/offsets-records.js';
import type { WorkerRequests } from '../../src/runtime/messages.js';

const REF = { topic: '__consumer_offsets', partition: 3, groupId: 'g' } as const;
const PROTOCOLS = [{ name: 'range', metadata: new Uint8Array([1, 2, 3]) }];

/** A coordinator over an in-memory log, with a simulated clock and predictable member ids. */
function setup(records: OffsetsRecord[] = []) {
  const clock = new SimulatedClock();
  let ids = 0;
  let failAppends = false;
  const log = {
    append(batch: readonly OffsetsRecord[]) {
      if (failAppends) throw new TributaryError('STORAGE_ERROR', 'disk full (injected)', {});
      records.push(...batch);
    },
  };
  const coordinator = new GroupCoordinator(log, { clock, now: () => clock.now(), newMemberId: (clientId) => `${clientId}-${++ids}` });
  for (const record of records) coordinator.replay(record.key, record.value);
  const call = <T extends GroupRequestType>(type: T, args: WorkerRequests[T]['args']): Promise<WorkerRequests[T]['result']> =>
    new Promise((resolve, reject) => coordinator.handle(type, args, (outcome) => (outcome.ok ? resolve(outcome.result) : reject(outcome.error))));
  const join = (memberId = '', clientId = 'c', extra: Partial<WorkerRequests['joinGroup']['args']> = {}) =>
    call('joinGroup', {
      ...REF,
      memberId,
      groupInstanceId: null,
      clientId,
      protocolType: 'consumer',
      protocols: PROTOCOLS,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      ...extra,
    });
  return {
    clock,
    records,
    coordinator,
    call,
    join,
    failAppends: (on: boolean) => {
      failAppends = on;
    },
  };
}

const commitArgs = (memberId: string, generationId: number, offset: number, metadata: string | null = null) => ({
  ...REF,
  memberId,
  groupInstanceId: null,
  generationId,
  offsets: [{ topic: 'clicks', partition: 0, offset, metadata }],
});

async function stableSingleMember(env: ReturnType<typeof setup>) {
  const joined = await env.join();
  const assignment = new Uint8Array([9, 9]);
  const synced = await env.call('syncGroup', {
    ...REF,
    memberId: joined.memberId,
    groupInstanceId: null,
    generationId: joined.generationId,
    assignments: { [joined.memberId]: assignment },
  });
  return { joined, synced };
}

describe('GroupCoordinator', () => {
  it('runs a member through join, sync and heartbeat, and describes the group', async () => {
    const env = setup();
    const { joined, synced } = await stableSingleMember(env);
    expect(joined).toMatchObject({ memberId: 'c-1', generationId: 1, leaderId: 'c-1', protocolName: 'range' });
    expect(joined.members).toEqual([{ memberId: 'c-1', groupInstanceId: null, metadata: PROTOCOLS[0].metadata }]);
    expect([...synced.assignment]).toEqual([9, 9]);
    await expect(env.call('heartbeat', { ...REF, memberId: 'c-1', groupInstanceId: null, generationId: 1 })).resolves.toBeNull();
    const description = await env.call('describeGroup', REF);
    expect(description).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocol: 'range', generationId: 1, leaderId: 'c-1' });
    expect([...description.members[0].memberAssignment]).toEqual([9, 9]);
    expect(await env.call('listGroups', { topic: REF.topic, partition: REF.partition })).toEqual([{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }]);
  });

  it('answers a rebalance: the first member learns of it by heartbeat, rejoins, and both get the new generation', async () => {
    const env = setup();
    const { joined } = await stableSingleMember(env);
    const second = env.join('', 'd');
    await expect(env.call('heartbeat', { ...REF, memberId: joined.memberId, groupInstanceId: null, generationId: 1 })).rejects.toMatchObject({
      code: 'REBALANCE_IN_PROGRESS',
    });
    const [first, other] = await Promise.all([env.join(joined.memberId), second]);
    expect(first).toMatchObject({ generationId: 2, leaderId: 'c-1' });
    expect(first.members.map((m) => m.memberId)).toEqual(['c-1', 'd-2']);
    expect(other).toMatchObject({ memberId: 'd-2', generationId: 2, leaderId: 'c-1', members: [] });
  });

  it('holds a heartbeat with waitMs until the wait ends, or answers at once when the group starts rebalancing', async () => {
    const env = setup();
    const { joined } = await stableSingleMember(env);
    const beat = { ...REF, memberId: joined.memberId, groupInstanceId: null, generationId: 1, waitMs: 3000 };
    let answered = false;
    const held = env.call('heartbeat', beat).then(() => (answered = true));
    await Promise.resolve();
    env.clock.increment(2999);
    await Promise.resolve();
    expect(answered).toBe(false);
    env.clock.increment(1);
    await held;

    // A member joins while a heartbeat is held: the holder hears of the rebalance at once.
    const rebalance = env.call('heartbeat', beat);
    const joining = env.join('', 'd');
    await expect(rebalance).rejects.toMatchObject({ code: 'REBALANCE_IN_PROGRESS' });
    void joining.catch(() => undefined);
    await expect(env.call('heartbeat', { ...beat, waitMs: -1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('answers a held heartbeat when the round completes, and fails it when the coordinator closes', async () => {
    const env = setup();
    const first = await env.join();
    // Still CompletingRebalance (no SyncGroup yet): the held heartbeat is answered when the leader's sync makes the group Stable.
    const held = env.call('heartbeat', { ...REF, memberId: first.memberId, groupInstanceId: null, generationId: 1, waitMs: 60_000 });
    await env.call('syncGroup', { ...REF, memberId: first.memberId, groupInstanceId: null, generationId: 1, assignments: {} });
    await expect(held).resolves.toBeNull();
    const pending = env.call('heartbeat', { ...REF, memberId: first.memberId, groupInstanceId: null, generationId: 1, waitMs: 60_000 });
    env.coordinator.close();
    await expect(pending).rejects.toMatchObject({ code: 'COORDINATOR_NOT_AVAILABLE' });
  });

  it('validates commits as Kafka does and serves them back', async () => {
    const env = setup();
    const { joined } = await stableSingleMember(env);
    await env.call('commitOffsets', commitArgs(joined.memberId, 1, 42, 'm'));
    await expect(env.call('commitOffsets', commitArgs(joined.memberId, 7, 43))).rejects.toMatchObject({ code: 'ILLEGAL_GENERATION' });
    await expect(env.call('commitOffsets', commitArgs('nobody', 1, 43))).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    // A commit from outside the group (generation -1) is only for a group without members.
    await expect(env.call('commitOffsets', commitArgs('', -1, 43))).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    await expect(env.call('commitOffsets', commitArgs(joined.memberId, 1, 1, 'x'.repeat(4097)))).rejects.toMatchObject({ code: 'OFFSET_METADATA_TOO_LARGE' });
    await expect(env.call('commitOffsets', commitArgs(joined.memberId, 1, -5))).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const committed = await env.call('fetchOffsets', { ...REF, partitions: [{ topic: 'clicks', partition: 0 }, { topic: 'clicks', partition: 1 }] });
    expect(committed).toEqual([{ topic: 'clicks', partition: 0, offset: 42, metadata: 'm', commitTimestamp: 0 }]);
  });

  it('accepts a commit from outside the group for a group with no members, creating it', async () => {
    const env = setup();
    await env.call('commitOffsets', commitArgs('', -1, 10));
    expect(await env.call('describeGroup', REF)).toMatchObject({ state: 'Empty', protocolType: '', members: [] });
    expect(await env.call('fetchOffsets', { ...REF, partitions: null })).toHaveLength(1);
    // A generation names a member's group: unknown member first, as Kafka checks them.
    await expect(env.call('commitOffsets', commitArgs('', 3, 10))).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    // For a group that does not exist, Kafka (OffsetCommit before v9) answers ILLEGAL_GENERATION.
    await expect(env.call('commitOffsets', { ...commitArgs('', 3, 10), groupId: 'other' })).rejects.toMatchObject({ code: 'ILLEGAL_GENERATION' });
  });

  it('leaves nothing changed when the commit records cannot be appended', async () => {
    const env = setup();
    await env.call('commitOffsets', commitArgs('', -1, 10));
    env.failAppends(true);
    await expect(env.call('commitOffsets', commitArgs('', -1, 11))).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    env.failAppends(false);
    expect(await env.call('fetchOffsets', { ...REF, partitions: null })).toMatchObject([{ offset: 10 }]);
  });

  it('expires a silent member after its session timeout and records the Empty group', async () => {
    const env = setup();
    await stableSingleMember(env);
    env.clock.increment(10_001);
    expect(await env.call('describeGroup', REF)).toMatchObject({ state: 'Empty', generationId: 2, members: [] });
    const groupRecords = env.records.filter((record) => decodeOffsetsKey(record.key).type === 'group');
    // Stable at generation 1, then Empty at generation 2 (the rebalance that removed the member).
    expect(groupRecords).toHaveLength(2);
  });

  it('rebuilds committed offsets and the generation from its records after a restart', async () => {
    const first = setup();
    const { joined } = await stableSingleMember(first);
    await first.call('commitOffsets', commitArgs(joined.memberId, 1, 42, 'kept'));
    await first.call('leaveGroup', { ...REF, memberId: joined.memberId, groupInstanceId: null });
    first.coordinator.close();

    const second = setup([...first.records]);
    expect(await second.call('describeGroup', REF)).toMatchObject({ state: 'Empty', protocolType: 'consumer', generationId: 2, members: [] });
    expect(await second.call('fetchOffsets', { ...REF, partitions: null })).toMatchObject([{ topic: 'clicks', partition: 0, offset: 42, metadata: 'kept' }]);
    expect(await second.join()).toMatchObject({ generationId: 3 });
  });

  it('skips record types of newer group protocols on replay, as Kafka does, but not corrupt keys', async () => {
    const env = setup();
    await env.call('commitOffsets', commitArgs('', -1, 10));
    const consumerGroupKey = { key: new Uint8Array([0, 3, 0, 1, 0x67]), value: new Uint8Array([0, 0]) };
    const restarted = setup([...env.records, consumerGroupKey]);
    expect(await restarted.call('fetchOffsets', { ...REF, partitions: null })).toMatchObject([{ offset: 10 }]);
    expect(() => setup([{ key: new Uint8Array([0]), value: null }])).toThrow(expect.objectContaining({ code: 'INVALID_RECORD' }));
  });

  it('deletes only a group without members, with tombstones that survive a restart', async () => {
    const env = setup();
    const { joined } = await stableSingleMember(env);
    await env.call('commitOffsets', commitArgs(joined.memberId, 1, 5));
    await expect(env.call('deleteGroup', REF)).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' });
    await env.call('leaveGroup', { ...REF, memberId: joined.memberId, groupInstanceId: null });
    await env.call('deleteGroup', REF);
    expect(await env.call('describeGroup', REF)).toMatchObject({ state: 'Dead', members: [] });
    await expect(env.call('deleteGroup', REF)).rejects.toMatchObject({ code: 'GROUP_ID_NOT_FOUND' });

    const restarted = setup([...env.records]);
    expect(await restarted.call('describeGroup', REF)).toMatchObject({ state: 'Dead' });
    expect(await restarted.call('fetchOffsets', { ...REF, partitions: null })).toEqual([]);
  });

  it('answers requests waiting for a rebalance with COORDINATOR_NOT_AVAILABLE when it closes', async () => {
    const env = setup();
    const { joined } = await stableSingleMember(env);
    const waiting = env.join('', 'd');
    env.coordinator.close();
    await expect(waiting).rejects.toMatchObject({ code: 'COORDINATOR_NOT_AVAILABLE' });
    await expect(env.call('heartbeat', { ...REF, memberId: joined.memberId, groupInstanceId: null, generationId: 1 })).rejects.toMatchObject({
      code: 'COORDINATOR_NOT_AVAILABLE',
    });
  });

  it('rejects an empty group id and group requests for unknown groups with typed errors', async () => {
    const env = setup();
    await expect(env.call('describeGroup', { ...REF, groupId: '' })).rejects.toMatchObject({ code: 'INVALID_GROUP_ID' });
    await expect(env.call('heartbeat', { ...REF, groupId: 'nope', memberId: 'x', groupInstanceId: null, generationId: 1 })).rejects.toMatchObject({
      code: 'UNKNOWN_MEMBER_ID',
    });
    expect(await env.call('describeGroup', { ...REF, groupId: 'nope' })).toMatchObject({ state: 'Dead', generationId: -1 });
  });
});
