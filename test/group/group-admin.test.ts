import { describe, expect, it } from 'vitest';
import { encodeConsumerAssignment } from '../../src/group/consumer-protocol.js';
import type { Tributary } from '../../src/index.js';
import { integrationFixture } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();

/** Three partitions with 10, 20 and 0 records; record i of a partition is stamped 1000 + i. */
async function seeded(): Promise<Tributary> {
  const rt = await openRuntime({ dir: newDir(), threads: 2, offsetsTopicPartitions: 3 });
  await rt.admin.createTopic('clicks', { partitions: 3 });
  const producer = rt.producer();
  for (const [partition, count] of [
    [0, 10],
    [1, 20],
  ]) {
    await producer.send({ topic: 'clicks', messages: Array.from({ length: count }, (_, i) => ({ value: `v${i}`, partition, timestamp: String(1000 + i) })) });
  }
  await producer.disconnect();
  return rt;
}

describe('GroupAdmin', () => {
  it('sets, fetches and resets a group\'s offsets to every kind of target, with dry runs', async () => {
    const rt = await seeded();
    await rt.admin.setOffsets({ groupId: 'g', topic: 'clicks', partitions: [{ partition: 0, offset: '4' }, { partition: 1, offset: '15' }] });
    expect(await rt.admin.fetchOffsets({ groupId: 'g' })).toEqual([
      {
        topic: 'clicks',
        partitions: [
          { partition: 0, offset: '4', metadata: '' },
          { partition: 1, offset: '15', metadata: '' },
          { partition: 2, offset: '-1', metadata: null },
        ],
      },
    ]);

    const plan = await rt.admin.resetOffsets({ groupId: 'g', topic: 'clicks', to: 'earliest', dryRun: true });
    expect(plan).toEqual([
      { topic: 'clicks', partition: 0, previous: 4, offset: 0 },
      { topic: 'clicks', partition: 1, previous: 15, offset: 0 },
      { topic: 'clicks', partition: 2, previous: null, offset: 0 },
    ]);
    // A dry run commits nothing.
    expect((await rt.admin.fetchOffsets({ groupId: 'g' }))[0].partitions[0].offset).toBe('4');

    const offsets = async (request: Parameters<Tributary['admin']['resetOffsets']>[0]) => (await rt.admin.resetOffsets(request)).map((p) => p.offset);
    expect(await offsets({ groupId: 'g', topic: 'clicks', to: 'latest' })).toEqual([10, 20, 0]);
    expect(await offsets({ groupId: 'g', topic: 'clicks', to: { shiftBy: -3 } })).toEqual([7, 17, 0]);
    expect(await offsets({ groupId: 'g', topic: 'clicks', to: { shiftBy: 100 } })).toEqual([10, 20, 0]);
    expect(await offsets({ groupId: 'g', topic: 'clicks', to: { timestamp: 1005 } })).toEqual([5, 5, 0]);
    expect(await offsets({ groupId: 'g', topic: 'clicks', to: { timestamp: 1015 } })).toEqual([10, 15, 0]);
    expect(await offsets({ groupId: 'g', topic: 'clicks', to: { offset: 12 }, partitions: [0, 1] })).toEqual([10, 12]);
    expect(await offsets({ groupId: 'g', topic: 'clicks', earliest: true })).toEqual([0, 0, 0]);
    expect((await rt.admin.fetchOffsets({ groupId: 'g', topics: ['clicks'] }))[0].partitions.map((p) => p.offset)).toEqual(['0', '0', '0']);
  });

  it('describes a group with its members\' assignments and the lag of each partition, and lists and deletes groups', async () => {
    const rt = await seeded();
    await rt.admin.setOffsets({ groupId: 'g', topic: 'clicks', partitions: [{ partition: 1, offset: '5' }] });
    const idle = await rt.admin.describeGroup('g');
    expect(idle).toMatchObject({ groupId: 'g', state: 'Empty', members: [], totalLag: 15 });
    expect(idle.partitions).toEqual([{ topic: 'clicks', partition: 1, committedOffset: 5, logEndOffset: 20, lag: 15, memberId: null }]);

    // A member, joined by hand through the coordinator, owning partitions 0 and 1.
    const ref = await rt.runtime.groupCoordinator('g');
    const joined = await rt.runtime.request('joinGroup', {
      ...ref,
      memberId: '',
      groupInstanceId: null,
      clientId: 'by-hand',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: new Uint8Array(0) }],
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
    });
    const assignment = encodeConsumerAssignment({ assignedPartitions: [{ topic: 'clicks', partition: 0 }, { topic: 'clicks', partition: 1 }] });
    await rt.runtime.request('syncGroup', { ...ref, memberId: joined.memberId, groupInstanceId: null, generationId: joined.generationId, assignments: { [joined.memberId]: assignment } });

    const active = await rt.admin.describeGroup('g');
    expect(active).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocol: 'range', generationId: joined.generationId, leaderId: joined.memberId });
    expect(active.members).toEqual([{ memberId: joined.memberId, groupInstanceId: null, clientId: 'by-hand', assignment: [{ topic: 'clicks', partition: 0 }, { topic: 'clicks', partition: 1 }] }]);
    expect(active.partitions).toEqual([
      { topic: 'clicks', partition: 0, committedOffset: null, logEndOffset: 10, lag: null, memberId: joined.memberId },
      { topic: 'clicks', partition: 1, committedOffset: 5, logEndOffset: 20, lag: 15, memberId: joined.memberId },
    ]);
    const kafkaShape = await rt.admin.describeGroups(['g', 'unknown']);
    expect(kafkaShape.groups.map((g) => [g.groupId, g.state, g.members.length])).toEqual([
      ['g', 'Stable', 1],
      ['unknown', 'Dead', 0],
    ]);
    expect(await rt.admin.listGroups()).toEqual({ groups: [{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }] });

    // Offsets of an active group are its members' business, and it cannot be deleted.
    await expect(rt.admin.resetOffsets({ groupId: 'g', topic: 'clicks', to: 'earliest' })).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' });
    await expect(rt.admin.deleteGroups(['g'])).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP', details: { results: [{ groupId: 'g', errorCode: 68 }] } });

    await rt.runtime.request('leaveGroup', { ...ref, memberId: joined.memberId, groupInstanceId: null });
    expect(await rt.admin.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: 0 }]);
    expect(await rt.admin.fetchOffsets({ groupId: 'g' })).toEqual([]);
    await expect(rt.admin.deleteGroups(['g'])).rejects.toMatchObject({ code: 'GROUP_ID_NOT_FOUND' });
  });

  describe('bad input', () => {
    const runtimeWithTopic = async () => {
      const rt = await openRuntime({ dir: newDir(), threads: 1 });
      await rt.admin.createTopic('t', { partitions: 2 });
      return rt;
    };

    it.each([
      ['an unknown target', { groupId: 'g', topic: 't', to: 'middle' }, 'INVALID_REQUEST'],
      ['a target with two kinds', { groupId: 'g', topic: 't', to: { offset: 1, shiftBy: 2 } }, 'INVALID_REQUEST'],
      ['a negative offset', { groupId: 'g', topic: 't', to: { offset: -1 } }, 'INVALID_REQUEST'],
      ['both dialects at once', { groupId: 'g', topic: 't', to: 'latest', earliest: true }, 'INVALID_REQUEST'],
      ['a partition the topic lacks', { groupId: 'g', topic: 't', partitions: [2] }, 'INVALID_REQUEST'],
      ['an unknown field', { groupId: 'g', topic: 't', execute: true }, 'INVALID_REQUEST'],
      ['an unknown topic', { groupId: 'g', topic: 'nope' }, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['an empty group id', { groupId: '', topic: 't' }, 'INVALID_GROUP_ID'],
    ])('resetOffsets rejects %s', async (_, request, code) => {
      const rt = await runtimeWithTopic();
      await expect(rt.admin.resetOffsets(request as never)).rejects.toMatchObject({ code });
    });

    it('setOffsets rejects offsets that are not offsets', async () => {
      const rt = await runtimeWithTopic();
      await expect(rt.admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: 'x' }] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
      await expect(rt.admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: '1' }, { partition: 0, offset: '2' }] })).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
      });
    });
  });
});
