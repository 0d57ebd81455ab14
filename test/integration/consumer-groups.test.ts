/**
 * Consumer groups through `open()`, with real worker threads hosting the partitions and the
 * group coordinators: three members share a 12-partition topic while a producer runs; one is
 * closed, one hangs (its heartbeats stop, it never leaves), one joins. Afterwards every produced
 * record was processed at least once, records were processed twice only where the hung member had
 * processed past its last commit, each partition was processed in order and never by two members
 * at once; and a restarted runtime resumes the group from its committed offsets.
 */
import { describe, expect, it } from 'vitest';
import type { Consumer, ConsumerEvent } from '../../src/client/consumer.js';
import type { GroupMember } from '../../src/group/group-member.js';
import type { Tributary } from '../../src/index.js';
import { integrationFixture, sleep, until } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

const TOPIC = 'events';
const PARTITIONS = 12;
const GROUP = { groupId: 'g', sessionTimeout: 1_500, heartbeatInterval: 50, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 } as const;

interface Processed {
  readonly member: string;
  readonly partition: number;
  readonly offset: number;
}

interface Member {
  readonly name: string;
  readonly consumer: Consumer;
  /** The latest assignment (GROUP_JOIN). */
  owned(): number[];
  /** Per partition, the last offset this member committed (COMMIT_OFFSETS). */
  readonly commits: Map<number, number>;
}

/** Everything processed, in processing order, and partitions being processed right now. */
class Ledger {
  readonly log: Processed[] = [];
  readonly overlaps: string[] = [];
  private readonly busy = new Map<number, string>();

  async process(member: string, partition: number, offset: number): Promise<void> {
    const holder = this.busy.get(partition);
    if (holder !== undefined) this.overlaps.push(`${member} and ${holder} on partition ${partition} at offset ${offset}`);
    this.busy.set(partition, member);
    // A little work, so that a rebalance finds handlers in progress.
    if (offset % 50 === 0) await sleep(1);
    this.log.push({ member, partition, offset });
    this.busy.delete(partition);
  }

  byPartition(): Map<number, Processed[]> {
    const result = new Map<number, Processed[]>();
    for (const entry of this.log) {
      const list = result.get(entry.partition) ?? [];
      list.push(entry);
      result.set(entry.partition, list);
    }
    return result;
  }
}

async function startMember(rt: Tributary, name: string, ledger: Ledger, partitionAssigners: readonly string[]): Promise<Member> {
  const consumer = rt.consumer({ ...GROUP, partitionAssigners });
  let owned: number[] = [];
  const commits = new Map<number, number>();
  consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerEvent<'consumer.group_join'>) => {
    owned = [...(event.payload.memberAssignment[TOPIC] ?? [])].sort((a, b) => a - b);
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
    for (const topic of event.payload.topics) for (const { partition, offset } of topic.partitions) commits.set(partition, Number(offset));
  });
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: ({ partition, message }) => ledger.process(name, partition, Number(message.offset)) });
  return { name, consumer, owned: () => owned, commits };
}

/** The group is Stable with exactly these members, and their latest assignments cover the topic, balanced. */
async function settled(rt: Tributary, members: readonly Member[]): Promise<boolean> {
  const description = await rt.admin.describeGroup('g');
  if (description.state !== 'Stable' || description.members.length !== members.length) return false;
  const sizes = members.map((m) => m.owned().length);
  const all = members.flatMap((m) => m.owned());
  return new Set(all).size === PARTITIONS && all.length === PARTITIONS && Math.max(...sizes) - Math.min(...sizes) <= 1;
}

async function waitSettled(rt: Tributary, members: readonly Member[]): Promise<void> {
  while (!(await settled(rt, members))) await sleep(20);
}

/** A member whose process hangs: its heartbeats stop and it delivers nothing more, but it never leaves. */
function hang(member: Member): void {
  (member.consumer['group']!.current as GroupMember)['actor'].stop();
  member.consumer['fetcher'].stop();
}

describe.each([
  ['eager (roundrobin)', ['roundrobin']],
  ['cooperative (cooperative-sticky)', ['cooperative-sticky']],
])('consumer groups, %s', (_name, assigners) => {
  it('members closing, hanging and joining while a producer runs: at-least-once, in order, no overlap; a restart resumes from the commits', async () => {
    const dir = newDir();
    const rt = await openRuntime({ dir, threads: 2 });
    await rt.admin.createTopic(TOPIC, { partitions: PARTITIONS });
    const ledger = new Ledger();

    const producer = rt.producer({ lingerMs: 2 });
    let producing = true;
    let produced = 0;
    const production = (async () => {
      for (let i = 0; producing; i++) {
        await producer.send({ topic: TOPIC, messages: Array.from({ length: 24 }, (_, j) => ({ key: `k${(i * 24 + j) % 997}`, value: `v${i}-${j}` })) });
        produced += 24;
        await sleep(2);
      }
    })();

    const [a, b, c] = [await startMember(rt, 'a', ledger, assigners), await startMember(rt, 'b', ledger, assigners), await startMember(rt, 'c', ledger, assigners)];
    await waitSettled(rt, [a, b, c]);
    await until(() => produced > 1_000);

    // a closes: it commits what it processed and leaves; b and c take its partitions.
    await a.consumer.disconnect();
    await waitSettled(rt, [b, c]);

    // b hangs: c takes its partitions once b's session expires, from b's last commits.
    hang(b);
    await waitSettled(rt, [c]);
    // The handler b was running when it hung finished (and may have committed) long before its session expired.
    const hungAt = new Map([...ledger.byPartition()].map(([p, list]) => [p, list.filter((x) => x.member === 'b').at(-1)?.offset]));

    // d joins.
    const d = await startMember(rt, 'd', ledger, assigners);
    await waitSettled(rt, [c, d]);
    await until(() => produced > 4_000);
    producing = false;
    await production;
    await producer.disconnect();

    const ends = new Map((await rt.admin.fetchTopicOffsets(TOPIC)).map((o) => [o.partition, Number(o.high)]));
    const processedAll = (): boolean => {
      const seen = ledger.byPartition();
      return [...ends].every(([p, end]) => new Set(seen.get(p)?.map((x) => x.offset)).size === end);
    };
    while (!processedAll()) await sleep(20);

    expect(ledger.overlaps).toEqual([]);
    for (const [partition, list] of ledger.byPartition()) {
      const offsets = list.map((x) => x.offset);
      // At least once: every offset up to the end.
      expect(new Set(offsets).size, `partition ${partition}`).toBe(ends.get(partition));
      for (let i = 1; i < list.length; i++) {
        const [prev, next] = [list[i - 1], list[i]];
        if (next.offset === prev.offset + 1) continue;
        // In order: the only step back is to where the hung member last committed, right after it.
        expect(prev.member, `partition ${partition}: offset ${prev.offset} then ${next.offset}`).toBe('b');
        expect(next.offset).toBe(b.commits.get(partition) ?? 0);
        expect(prev.offset).toBe(hungAt.get(partition));
      }
    }
    const duplicates = ledger.log.length - [...ends.values()].reduce((x, y) => x + y, 0);
    const uncommittedAtHang = [...hungAt].reduce((sum, [p, last]) => sum + (last === undefined ? 0 : last + 1 - (b.commits.get(p) ?? 0)), 0);
    expect(duplicates).toBe(uncommittedAtHang);

    // Closing commits everything processed; a restarted runtime resumes the group there.
    await c.consumer.disconnect();
    await d.consumer.disconnect();
    const committed = await rt.admin.fetchOffsets({ groupId: 'g', topics: [TOPIC] });
    expect(new Map(committed[0].partitions.map((p) => [p.partition, Number(p.offset)]))).toEqual(ends);
    await rt.close();

    const reopened = await openRuntime({ dir, threads: 2 });
    const more = reopened.producer();
    await more.send({ topic: TOPIC, messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: `after-restart-${p}` })) });
    await more.disconnect();
    const resumed = new Ledger();
    const e = await startMember(reopened, 'e', resumed, assigners);
    while (resumed.log.length < PARTITIONS) await sleep(20);
    await sleep(200);
    expect(resumed.log.map((x) => [x.partition, x.offset]).sort((x, y) => x[0] - y[0])).toEqual([...ends].sort((x, y) => x[0] - y[0]));
    await e.consumer.disconnect();
  });
});

describe('consumer groups, bad input', () => {
  it('an illegal generation, an unknown member and a fenced static member get typed errors with Kafka codes', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic(TOPIC, { partitions: 2 });
    const joins: ConsumerEvent<'consumer.group_join'>[] = [];
    const crashes: ConsumerEvent<'consumer.crash'>[] = [];
    const first = rt.consumer({ ...GROUP, groupInstanceId: 'instance-1' });
    first.on(first.events.GROUP_JOIN, (event) => void joins.push(event));
    first.on(first.events.CRASH, (event) => void crashes.push(event));
    await first.subscribe({ topic: TOPIC });
    await first.run({ eachMessage: async () => undefined });
    await until(() => joins.length === 1);
    const { memberId } = joins[0].payload;
    const ref = await rt.runtime.groupCoordinator('g');
    const { generationId } = await rt.runtime.request('describeGroup', ref);
    const commit = (member: string, generation: number, instance: string | null) =>
      rt.runtime.request('commitOffsets', { ...ref, memberId: member, groupInstanceId: instance, generationId: generation, offsets: [{ topic: TOPIC, partition: 0, offset: 1 }] });

    await expect(commit(memberId, generationId + 1, 'instance-1')).rejects.toMatchObject({ code: 'ILLEGAL_GENERATION', kafkaCode: 22 });
    await expect(commit('nobody', generationId, null)).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID', kafkaCode: 25 });
    await expect(rt.runtime.request('heartbeat', { ...ref, memberId: 'nobody', groupInstanceId: null, generationId })).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });

    // A second process claims instance-1: the first is fenced, and so are its commits.
    const second = rt.consumer({ ...GROUP, groupInstanceId: 'instance-1' });
    await second.subscribe({ topic: TOPIC });
    await second.run({ eachMessage: async () => undefined });
    await until(() => crashes.length === 1);
    expect(crashes[0].payload.error).toMatchObject({ name: 'TributaryError', code: 'FENCED_INSTANCE_ID', kafkaCode: 82 });
    await expect(commit(memberId, generationId, 'instance-1')).rejects.toMatchObject({ code: 'FENCED_INSTANCE_ID' });
    expect(() => rt.consumer({ groupId: '' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
