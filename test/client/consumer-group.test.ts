/**
 * The consumer's group mode against the Log-backed fake, whose group requests go to a real
 * in-process GroupCoordinator: assignment and commits, eager and cooperative rebalances (who
 * processes what, and when), static membership, fencing, a member that stops heartbeating, and
 * auto-commit timing. Timeouts are short and real; every wait has a deadline.
 */
import { describe, expect, test } from 'vitest';
import { Consumer, type ConsumerEvent, type ConsumerOptions } from '../../src/client/consumer.js';
import type { Assignor } from '../../src/group/assignors/index.js';
import { decodeConsumerAssignment } from '../../src/group/consumer-protocol.js';
import type { GroupMember } from '../../src/group/group-member.js';
import { TributaryError } from '../../src/errors.js';
import { fakes, records, sleep, take, waitUntil, type FakePartitionClient } from './consumer-fakes/helpers.js';

const { client: fakeClient, track } = fakes();

const GROUP = { groupId: 'g', sessionTimeout: 600, heartbeatInterval: 20, rebalanceTimeout: 5_000, maxWaitTimeInMs: 50 } as const;

interface Processed {
  readonly member: string;
  readonly partition: number;
  readonly offset: number;
}

/** A group consumer that records what it processes (in one shared log, in processing order) and its group events. */
function member(client: FakePartitionClient, name: string, log: Processed[], options: ConsumerOptions = {}) {
  const revoked: number[][] = [];
  const assigned: number[][] = [];
  const joins: ConsumerEvent<'consumer.group_join'>[] = [];
  const consumer = track(
    new Consumer(client, {
      ...GROUP,
      onPartitionsRevoked: (partitions) => void revoked.push(partitions.map((p) => p.partition).sort((a, b) => a - b)),
      onPartitionsAssigned: (partitions) => void assigned.push(partitions.map((p) => p.partition).sort((a, b) => a - b)),
      ...options,
    }),
  );
  consumer.on(consumer.events.GROUP_JOIN, (event) => void joins.push(event));
  const owned = (): number[] => (joins.at(-1)?.payload.memberAssignment.t ?? []).slice().sort((a, b) => a - b);
  return { consumer, name, revoked, assigned, joins, owned, processed: () => log.filter((p) => p.member === name) };
}

async function runMember(m: ReturnType<typeof member>, log: Processed[], delayMs = 0): Promise<void> {
  await m.consumer.subscribe({ topics: ['t'], fromBeginning: true });
  await m.consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (delayMs > 0) await sleep(delayMs);
      log.push({ member: m.name, partition, offset: Number(message.offset) });
    },
  });
}

async function committed(client: FakePartitionClient): Promise<Map<number, number>> {
  const offsets = await client.request('fetchOffsets', { topic: '__consumer_offsets', partition: 0, groupId: 'g', partitions: null });
  return new Map(offsets.map((o) => [o.partition, o.offset]));
}

/** Per partition, the offsets in the order they were processed, across members. */
function byPartition(log: readonly Processed[]): Map<number, number[]> {
  const result = new Map<number, number[]>();
  for (const { partition, offset } of log) {
    const list = result.get(partition) ?? [];
    list.push(offset);
    result.set(partition, list);
  }
  return result;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('group membership and committed offsets', () => {
  test('a member commits what it processed; the next member of the group resumes after it', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    client.produce('t', 0, records('a', 5));
    client.produce('t', 1, records('b', 5));
    const log: Processed[] = [];
    const first = member(client, 'first', log);
    const commits: ConsumerEvent<'consumer.commit_offsets'>[] = [];
    first.consumer.on(first.consumer.events.COMMIT_OFFSETS, (event) => void commits.push(event));
    await runMember(first, log);
    await waitUntil(() => log.length === 10, 3000, 'the first member to read all 10');
    expect(first.joins[0].payload).toMatchObject({ groupId: 'g', isLeader: true, groupProtocol: 'roundrobin', memberAssignment: { t: [0, 1] } });
    expect(first.assigned).toEqual([[0, 1]]);
    await waitUntil(() => commits.some((c) => c.payload.topics[0].partitions.some((p) => p.offset === '5')), 3000, 'a commit');
    await first.consumer.disconnect();
    expect(first.revoked).toEqual([[0, 1]]);
    expect(await committed(client)).toEqual(new Map([[0, 5], [1, 5]]));
    expect((await client.request('describeGroup', { topic: '__consumer_offsets', partition: 0, groupId: 'g' })).state).toBe('Empty');

    client.produce('t', 0, records('c', 3, 5));
    const second = member(client, 'second', log);
    await runMember(second, log);
    await waitUntil(() => second.processed().length === 3, 3000, 'the second member to read the 3 new records');
    await sleep(100);
    expect(second.processed().map((p) => `${p.partition}:${p.offset}`)).toEqual(['0:5', '0:6', '0:7']);
  });

  test('subscribing to another topic while running rejoins the group with it', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    client.createTopic('u', 1);
    client.produce('u', 0, records('u', 3));
    const consumer = track(new Consumer(client, GROUP));
    const assignments: Record<string, number[]>[] = [];
    consumer.on(consumer.events.GROUP_JOIN, (event) => void assignments.push({ ...event.payload.memberAssignment }));
    await consumer.subscribe({ topic: 't' });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
    await waitUntil(() => assignments.length === 1);
    await consumer.subscribe({ topic: 'u', fromBeginning: true });
    await waitUntil(() => values.length === 3, 3000, 'the new topic to be read');
    expect(assignments.at(-1)).toEqual({ t: [0, 1], u: [0] });
    expect(values).toEqual(['u-0', 'u-1', 'u-2']);
  });

  test('an iteration in a group starts from the committed offsets and commits when it ends', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 10));
    const consumer = track(new Consumer(client, GROUP));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    expect((await take(consumer, 4)).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    await waitUntil(() => client.count('leaveGroup') === 1, 3000, 'the member to leave');
    expect(await committed(client)).toEqual(new Map([[0, 4]]));
    expect((await take(consumer, 6)).map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
  });
});

describe('rebalancing', () => {
  test('a custom assignor, passed as an Assignor object, decides the assignment', async () => {
    const client = fakeClient();
    client.createTopic('t', 3);
    // Everything to the member whose id sorts first.
    const allToFirst: Assignor = {
      name: 'all-to-first',
      protocol: 'eager',
      assign: ({ members, partitionsPerTopic }) => {
        const first = [...members].map((m) => m.memberId).sort()[0];
        return new Map(members.map((m) => [m.memberId, m.memberId === first ? range(partitionsPerTopic.t).map((partition) => ({ topic: 't', partition })) : []]));
      },
    };
    const log: Processed[] = [];
    const a = member(client, 'a', log, { partitionAssigners: [allToFirst] });
    const b = member(client, 'b', log, { partitionAssigners: [allToFirst] });
    await runMember(a, log);
    await runMember(b, log);
    const ref = { topic: '__consumer_offsets', partition: 0, groupId: 'g' };
    let group = await client.request('describeGroup', ref);
    while (group.state !== 'Stable' || group.members.length !== 2) {
      await sleep(5);
      group = await client.request('describeGroup', ref);
    }
    expect(group.protocol).toBe('all-to-first');
    const assigned = group.members.map((m) => [m.memberId, decodeConsumerAssignment(m.memberAssignment).assignedPartitions.length]).sort();
    expect(assigned.map(([, count]) => count)).toEqual([3, 0]);
  });

  test('eager: members split the partitions, and take over those of a member that leaves, each record processed once', async () => {
    const client = fakeClient();
    client.createTopic('t', 4);
    for (const p of range(4)) client.produce('t', p, records(`p${p}`, 20));
    const log: Processed[] = [];
    const a = member(client, 'a', log);
    const b = member(client, 'b', log);
    await runMember(a, log, 1);
    await waitUntil(() => a.owned().length === 4, 3000, 'a to own everything');
    await runMember(b, log, 1);
    await waitUntil(() => a.owned().length === 2 && b.owned().length === 2, 5000, 'a and b to split the partitions');
    expect([...a.owned(), ...b.owned()].sort()).toEqual([0, 1, 2, 3]);
    // Eager: a gave everything up before the second generation, then got its share back.
    expect(a.revoked[0]).toEqual([0, 1, 2, 3]);
    await waitUntil(() => log.length >= 80, 5000, 'all 80 records');

    await b.consumer.disconnect();
    await waitUntil(() => a.owned().length === 4, 5000, 'a to take over');
    for (const p of range(4)) client.produce('t', p, records(`late${p}`, 5, 20));
    await waitUntil(() => log.length >= 100, 5000, 'the 20 late records');
    await sleep(100);
    for (const [partition, offsets] of byPartition(log)) expect(offsets, `partition ${partition}`).toEqual(range(25));
  });

  test('cooperative: only moved partitions are revoked, a second rebalance assigns them, and no partition is processed by two members at once', async () => {
    const client = fakeClient();
    client.createTopic('t', 6);
    const log: Processed[] = [];
    const busy = new Map<number, string>();
    const overlaps: string[] = [];
    const cooperative = { partitionAssigners: ['cooperative-sticky'] } as const;
    const members = ['a', 'b', 'c'].map((name) => member(client, name, log, cooperative));
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        for (const p of range(6)) client.produce('t', p, records(`r${p}`, 2, 2 * i));
        await sleep(5);
      }
    })();
    for (const m of members) {
      await m.consumer.subscribe({ topics: ['t'], fromBeginning: true });
      await m.consumer.run({
        eachMessage: async ({ partition, message }) => {
          const holder = busy.get(partition);
          if (holder !== undefined) overlaps.push(`${m.name} and ${holder} on partition ${partition}`);
          busy.set(partition, m.name);
          await sleep(1);
          log.push({ member: m.name, partition, offset: Number(message.offset) });
          busy.delete(partition);
        },
      });
      await waitUntil(() => settled(members.slice(0, members.indexOf(m) + 1)), 8000, `the group to settle with ${m.name}`);
    }
    producing = false;
    await producer;
    const [a, b, c] = members;
    expect([...a.owned(), ...b.owned(), ...c.owned()].sort()).toEqual(range(6));
    expect(members.map((m) => m.owned().length)).toEqual([2, 2, 2]);
    // a owned 6, then 3, then 2: it gave up exactly 4 partitions, none of those it kept.
    const aRevoked = a.revoked.flat();
    expect(aRevoked).toHaveLength(4);
    for (const p of a.owned()) expect(aRevoked).not.toContain(p);
    // A member is only ever told of what it gained (cooperative), never of what it kept.
    expect(b.assigned.flat().sort()).toEqual([...b.owned(), ...b.revoked.flat()].sort());
    expect(overlaps).toEqual([]);
    await waitUntil(() => {
      const seen = byPartition(log);
      return range(6).every((p) => (seen.get(p)?.length ?? 0) >= client['topics'].get('t')!.logs[p].latestOffset());
    }, 8000, 'every produced record');
    for (const [partition, offsets] of byPartition(log)) expect(offsets, `partition ${partition}: in order, once each`).toEqual(range(offsets.length));
  });
});

/** Every member has joined, and their latest assignments cover the 6 partitions, balanced. */
function settled(members: readonly ReturnType<typeof member>[]): boolean {
  const generations = members.map((m) => m.joins.at(-1)?.payload);
  if (generations.some((g) => g === undefined)) return false;
  const sizes = members.map((m) => m.owned().length);
  const total = sizes.reduce((x, y) => x + y, 0);
  return total === 6 && Math.max(...sizes) - Math.min(...sizes) <= 1;
}

describe('membership failures', () => {
  test('static membership: a member that restarts within the session timeout gets its partitions back without a rebalance', async () => {
    const client = fakeClient();
    client.createTopic('t', 4);
    const log: Processed[] = [];
    const a = member(client, 'a', log, { groupInstanceId: 'instance-a' });
    const b = member(client, 'b', log, { groupInstanceId: 'instance-b' });
    await runMember(a, log);
    await runMember(b, log);
    await waitUntil(() => a.owned().length === 2 && b.owned().length === 2, 5000, 'a and b to split');
    const describe = () => client.request('describeGroup', { topic: '__consumer_offsets', partition: 0, groupId: 'g' });
    const generation = (await describe()).generationId;
    const rebalances: unknown[] = [];
    b.consumer.on(b.consumer.events.REBALANCING, (event) => void rebalances.push(event));
    await a.consumer.disconnect();
    expect(client.count('leaveGroup')).toBe(0);
    expect(await describe()).toMatchObject({ state: 'Stable', generationId: generation });
    const restarted = member(client, 'a2', log, { groupInstanceId: 'instance-a' });
    await runMember(restarted, log);
    await waitUntil(() => restarted.owned().length === 2, 3000, 'the restarted member to be assigned');
    expect(restarted.owned()).toEqual(a.owned());
    await sleep(100);
    expect(await describe()).toMatchObject({ state: 'Stable', generationId: generation });
    expect(rebalances).toEqual([]);
  });

  test('a second process with the same groupInstanceId fences the first: FENCED_INSTANCE_ID crashes it', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    const log: Processed[] = [];
    const first = member(client, 'first', log, { groupInstanceId: 'same' });
    const crashes: ConsumerEvent<'consumer.crash'>[] = [];
    first.consumer.on(first.consumer.events.CRASH, (event) => void crashes.push(event));
    await runMember(first, log);
    await waitUntil(() => first.owned().length === 2, 3000, 'the first to join');
    const second = member(client, 'second', log, { groupInstanceId: 'same' });
    await runMember(second, log);
    await waitUntil(() => crashes.length === 1, 3000, 'the first to be fenced');
    expect(crashes[0].payload).toMatchObject({ groupId: 'g', restart: false });
    expect(crashes[0].payload.error).toMatchObject({ code: 'FENCED_INSTANCE_ID', kafkaCode: 82 });
    expect(first.revoked).toEqual([[0, 1]]);
    // The first crashes as soon as the coordinator fences it; the second's own join completes after that.
    await waitUntil(() => second.owned().length === 2, 3000, 'the second to take both partitions');
    expect(second.owned()).toEqual([0, 1]);
  });

  test('a member that stops heartbeating is expired; its partitions resume from its last commit, and its late commits are refused as UNKNOWN_MEMBER_ID', async () => {
    const client = fakeClient();
    client.createTopic('t', 2);
    for (const p of range(2)) client.produce('t', p, records(`p${p}`, 30));
    const log: Processed[] = [];
    // a hangs at these offsets, having committed every 10 records by hand.
    const hangAt = [25, 15];
    let hung = 0;
    let thaw = (): void => undefined;
    const frozen = new Promise<void>((resolve) => (thaw = resolve));
    const a = member(client, 'a', log);
    const b = member(client, 'b', log);
    await a.consumer.subscribe({ topics: ['t'], fromBeginning: true });
    await a.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 2,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        if (offset === hangAt[partition]) {
          hung++;
          await frozen;
          return;
        }
        log.push({ member: 'a', partition, offset });
        if (offset % 10 === 9) await a.consumer.commitOffsets([{ topic: 't', partition, offset: offset + 1 }]);
      },
    });
    await waitUntil(() => hung === 2, 3000, 'a to hang on both partitions');
    // The process hangs: no more heartbeats, no more processing, no leave.
    (a.consumer['group']!.current as GroupMember)['actor'].stop();
    expect(await committed(client)).toEqual(new Map([[0, 20], [1, 10]]));
    await runMember(b, log);
    await waitUntil(() => b.owned().length === 2, 5000, 'b to take over after a expired');
    await waitUntil(() => b.processed().length === 10 + 20, 5000, 'b to process from the commits');
    // Duplicates exactly where a processed past its last commit.
    expect(byPartition(b.processed())).toEqual(new Map([[0, range(30).slice(20)], [1, range(30).slice(10)]]));
    const refused = await a.consumer.commitOffsets([{ topic: 't', partition: 0, offset: 25 }]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TributaryError);
    expect(refused).toMatchObject({ code: 'UNKNOWN_MEMBER_ID', kafkaCode: 25 });
    thaw();
  });
});

describe('commits', () => {
  test('autoCommitThreshold commits after the message that reaches it, and every batch end', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 10));
    const consumer = track(new Consumer(client, GROUP));
    const commits: string[] = [];
    consumer.on(consumer.events.COMMIT_OFFSETS, (event) => void commits.push(event.payload.topics[0].partitions[0].offset));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    let handled = 0;
    await consumer.run({ autoCommitThreshold: 3, eachMessage: async () => void handled++ });
    await waitUntil(() => commits.includes('10'), 3000, 'the batch-end commit');
    // The first commit has nothing committed to count from, so it comes at the batch end; after that, every 3.
    expect(handled).toBe(10);
    expect(commits).toEqual(['10']);
    client.produce('t', 0, records('b', 7, 10));
    await waitUntil(() => commits.includes('17'), 3000, 'the second batch');
    expect(commits).toEqual(['10', '13', '16', '17']);
  });

  test('autoCommit false commits nothing by itself; commitOffsets without a group, or assign() in one, are refused', async () => {
    const client = fakeClient();
    client.createTopic('t', 1);
    client.produce('t', 0, records('a', 3));
    const consumer = track(new Consumer(client, GROUP));
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    let handled = 0;
    await expect(consumer.commitOffsets()).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await consumer.run({ autoCommit: false, eachMessage: async () => void handled++ });
    await waitUntil(() => handled === 3);
    await consumer.disconnect();
    expect(await committed(client)).toEqual(new Map());
    expect(() => track(new Consumer(client, GROUP)).assign([{ topic: 't', partition: 0 }])).toThrow(/assign\(\) is for consumers without a groupId/);
    const loner = track(new Consumer(client));
    loner.assign([{ topic: 't', partition: 0 }]);
    await expect(loner.commitOffsets()).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(loner.run({ autoCommit: true, eachMessage: async () => undefined })).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { field: 'autoCommit' } });
  });
});
