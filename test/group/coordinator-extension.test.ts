/**
 * Group coordinators hosted on the worker threads beside `__consumer_offsets`: requests reach the
 * thread owning the group's partition, commits persist across a runtime restart and across the
 * death of that thread (the replacement rebuilds the coordinator from the partition).
 */
import { describe, expect, it } from 'vitest';
import { OFFSETS_TOPIC, offsetsPartitionFor } from '../../src/runtime/offsets-topic.js';
import type { WorkerRestartedEvent } from '../../src/index.js';
import type { GroupRef } from '../../src/runtime/messages.js';
import { integrationFixture, threadsOf } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();

const join = (rt: Awaited<ReturnType<typeof openRuntime>>, ref: GroupRef) =>
  rt.runtime.request('joinGroup', {
    ...ref,
    memberId: '',
    groupInstanceId: null,
    clientId: 'test',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: new Uint8Array(0) }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
  });

describe('group coordinators on the worker threads', () => {
  it('find the coordinator by Java hash, and keep commits across a restart of the runtime', async () => {
    const dir = newDir();
    const rt = await openRuntime({ dir, threads: 2, offsetsTopicPartitions: 4 });
    const ref = await rt.runtime.groupCoordinator('orders-app');
    expect(ref).toEqual({ topic: OFFSETS_TOPIC, partition: offsetsPartitionFor('orders-app', 4), groupId: 'orders-app' });
    // Created by the first FindCoordinator, and listed, as KafkaJS lists internal topics.
    expect(await rt.admin.listTopics()).toContain(OFFSETS_TOPIC);

    const joined = await join(rt, ref);
    await rt.runtime.request('syncGroup', { ...ref, memberId: joined.memberId, groupInstanceId: null, generationId: joined.generationId, assignments: {} });
    await rt.runtime.request('commitOffsets', {
      ...ref,
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: joined.generationId,
      offsets: [{ topic: 'clicks', partition: 3, offset: 1234, metadata: 'after restart' }],
    });
    await rt.close();

    const reopened = await openRuntime({ dir, threads: 3 });
    const again = await reopened.runtime.groupCoordinator('orders-app');
    expect(again.partition).toBe(ref.partition);
    expect(await reopened.runtime.request('fetchOffsets', { ...again, partitions: null })).toMatchObject([
      { topic: 'clicks', partition: 3, offset: 1234, metadata: 'after restart' },
    ]);
    expect(await reopened.runtime.request('describeGroup', again)).toMatchObject({ state: 'Empty', generationId: joined.generationId });
    expect((await join(reopened, again)).generationId).toBe(joined.generationId + 1);
  });

  it('rebuild a coordinator on the replacement of a thread that died', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2, offsetsTopicPartitions: 2 });
    const ref = await rt.runtime.groupCoordinator('g');
    await rt.runtime.request('commitOffsets', { ...ref, memberId: '', groupInstanceId: null, generationId: -1, offsets: [{ topic: 't', partition: 0, offset: 7 }] });
    // Every thread dies, so the one owning the group's partition surely does.
    const restarts: WorkerRestartedEvent[] = [];
    const restarted = new Promise<void>((resolve) => rt.on('workerRestarted', (event) => restarts.push(event) === 2 && resolve()));
    for (const thread of threadsOf(rt)) void thread.terminate();
    await restarted;
    expect(await rt.runtime.request('fetchOffsets', { ...ref, partitions: [{ topic: 't', partition: 0 }] })).toMatchObject([{ offset: 7, metadata: '' }]);
  });

  it('reject a group request sent to a partition of an ordinary topic, and an empty group id', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 1 });
    await rt.admin.createTopic('plain', { partitions: 1 });
    await expect(rt.runtime.request('describeGroup', { topic: 'plain', partition: 0, groupId: 'g' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(rt.runtime.groupCoordinator('')).rejects.toMatchObject({ code: 'INVALID_GROUP_ID' });
  });
});
