/**
 * Rebalance: how long a consumer group takes to be Stable again after a member joins or leaves,
 * and how many partitions stop being consumed meanwhile, eager against cooperative.
 *
 *   npx tsx bench/rebalance.ts [-- --members 10 --partitions 100 --repeats 5 --heartbeat 3000]
 *
 * A group of `members - 1` consumers reads a topic of `partitions` partitions while a producer
 * writes to it (about 10k records/s). Then, `repeats` times: one more member joins (timed from its
 * `run()` call) and later leaves again (timed from its `disconnect()` call). The group counts as
 * Stable again at the first moment every member's latest assignment (GROUP_JOIN) is in place and
 * together they cover every partition exactly once, balanced — for cooperative, that is after
 * the second rebalance, the one that hands over the partitions revoked in the first.
 *
 * Partitions stopped = partitions revoked from their owner during the rebalance (they are not
 * consumed from their revocation until their new owner has its assignment); kept but stopped =
 * those revoked from a member that owns them again at the end. Eager stops every partition;
 * cooperative only the moved ones, and never one that stays.
 *
 * Members use `heartbeatInterval` `--heartbeat` ms (default 3000, KafkaJS's). With Kafka's classic
 * protocol a member learns of a rebalance only at its next heartbeat, so that interval would bound
 * every rebalance; tributary's coordinator holds each member's heartbeat and answers it the moment
 * the group starts rebalancing, so it does not.
 * Prints a table of medians and writes bench/results/rebalance.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Consumer } from '../src/client/consumer.js';
import { open, type Tributary } from '../src/index.js';
import { Progress, median, printTable, writeResults, type Row } from './lib/report.js';

const { values: args } = parseArgs({
  options: {
    members: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '100' },
    repeats: { type: 'string', default: '5' },
    heartbeat: { type: 'string', default: '3000' },
  },
});
const MEMBERS = Number(args.members);
const PARTITIONS = Number(args.partitions);
const REPEATS = Number(args.repeats);
const HEARTBEAT_MS = Number(args.heartbeat);
const TOPIC = 'rebalance';

const PROTOCOLS = [
  { protocol: 'eager', assigners: ['roundrobin'] },
  { protocol: 'cooperative', assigners: ['cooperative-sticky'] },
] as const;

interface BenchMember {
  readonly consumer: Consumer;
  /** Partitions of the latest GROUP_JOIN. */
  owned: Set<number>;
  /** Partitions revoked since the measurement began. */
  readonly revoked: number[];
}

interface Sample {
  readonly ms: number;
  readonly stopped: number;
  readonly keptButStopped: number;
}

class Group {
  readonly members: BenchMember[] = [];
  /** Called after every GROUP_JOIN and revocation, to see whether the group has settled. */
  private onChange: (() => void) | null = null;

  constructor(
    private readonly rt: Tributary,
    private readonly groupId: string,
    private readonly assigners: readonly string[],
  ) {}

  async add(): Promise<BenchMember> {
    const member: BenchMember = { consumer: undefined as unknown as Consumer, owned: new Set(), revoked: [] };
    const consumer = this.rt.consumer({
      groupId: this.groupId,
      partitionAssigners: this.assigners,
      heartbeatInterval: HEARTBEAT_MS,
      sessionTimeout: 10_000,
      rebalanceTimeout: 30_000,
      maxWaitTimeInMs: 100,
      onPartitionsRevoked: (partitions) => {
        member.revoked.push(...partitions.map((p) => p.partition));
        this.onChange?.();
      },
    });
    (member as { consumer: Consumer }).consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      member.owned = new Set(event.payload.memberAssignment[TOPIC] ?? []);
      this.onChange?.();
    });
    this.members.push(member);
    await consumer.subscribe({ topic: TOPIC });
    await consumer.run({ eachMessage: async () => undefined });
    return member;
  }

  async remove(member: BenchMember): Promise<void> {
    this.members.splice(this.members.indexOf(member), 1);
    await member.consumer.disconnect();
  }

  /** Every partition owned exactly once, balanced, by the current members. */
  settled(): boolean {
    let total = 0;
    const seen = new Set<number>();
    let min = Infinity;
    let max = 0;
    for (const member of this.members) {
      total += member.owned.size;
      for (const p of member.owned) seen.add(p);
      min = Math.min(min, member.owned.size);
      max = Math.max(max, member.owned.size);
    }
    return total === PARTITIONS && seen.size === PARTITIONS && max - min <= 1;
  }

  /** Runs `change`, then resolves with the time until the group settled and what was revoked meanwhile. */
  async measure(change: () => Promise<unknown>): Promise<Sample> {
    for (const member of this.members) member.revoked.length = 0;
    // A member that leaves is counted too: its partitions stop as well.
    const involved = [...this.members];
    const started = performance.now();
    const done = new Promise<number>((resolve) => {
      this.onChange = () => {
        if (this.settled()) resolve(performance.now());
      };
    });
    await change();
    this.onChange?.();
    const ended = await done;
    this.onChange = null;
    for (const member of this.members) if (!involved.includes(member)) involved.push(member);
    const stopped = involved.reduce((sum, m) => sum + new Set(m.revoked).size, 0);
    const keptButStopped = this.members.reduce((sum, m) => sum + [...new Set(m.revoked)].filter((p) => m.owned.has(p)).length, 0);
    return { ms: ended - started, stopped, keptButStopped };
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-rebalance-'));
  const rt = await open({ dir, threads: os.availableParallelism() });
  const rows: Row[] = [];
  const results: unknown[] = [];
  try {
    await rt.admin.createTopic(TOPIC, { partitions: PARTITIONS });
    const producer = rt.producer({ lingerMs: 5 });
    let producing = true;
    const production = (async () => {
      for (let i = 0; producing; i++) {
        await producer.send({ topic: TOPIC, messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${i * 100 + j}`, value: 'x'.repeat(100) })) });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    const progress = new Progress(PROTOCOLS.length * REPEATS * 2);
    for (const { protocol, assigners } of PROTOCOLS) {
      const group = new Group(rt, `bench-${protocol}`, assigners);
      const initial = group.measure(async () => {
        for (let i = 0; i < MEMBERS - 1; i++) await group.add();
      });
      await initial;
      const joins: Sample[] = [];
      const leaves: Sample[] = [];
      for (let r = 0; r < REPEATS; r++) {
        let joined: BenchMember | undefined;
        joins.push(await group.measure(async () => (joined = await group.add())));
        progress.step(`${protocol} join ${joins.at(-1)!.ms.toFixed(0)} ms`);
        leaves.push(await group.measure(() => group.remove(joined!)));
        progress.step(`${protocol} leave ${leaves.at(-1)!.ms.toFixed(0)} ms`);
      }
      for (const [change, samples] of [
        ['join', joins],
        ['leave', leaves],
      ] as const) {
        const row = {
          protocol,
          change: `${change} (${MEMBERS - 1}${change === 'join' ? '+1' : '+1-1'} members)`,
          'ms to Stable (median)': Number(median(samples.map((s) => s.ms)).toFixed(1)),
          'partitions stopped': median(samples.map((s) => s.stopped)),
          'kept but stopped': median(samples.map((s) => s.keptButStopped)),
        };
        rows.push(row);
        results.push({ ...row, samples });
      }
      await Promise.all(group.members.map((member) => member.consumer.disconnect()));
    }
    progress.finish();
    producing = false;
    await production;
    await producer.disconnect();
  } finally {
    await rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${MEMBERS} members, ${PARTITIONS} partitions, heartbeatInterval ${HEARTBEAT_MS} ms, ${REPEATS} repeats\n`);
  printTable(rows);
  const file = writeResults('rebalance', { members: MEMBERS, partitions: PARTITIONS, heartbeatIntervalMs: HEARTBEAT_MS, repeats: REPEATS, rows: results });
  console.log(`\nwrote ${file}`);
}

await main();
