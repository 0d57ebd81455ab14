/**
 * Consumer groups from the command line, end to end on one data directory: console-consumer
 * --group twice (the second run continues where the first stopped), consumer-groups --list and
 * --describe (offsets and lag), --reset-offsets as a dry run (nothing changes) and with --execute
 * (a third run re-reads), the other reset targets, --delete, and the bad command lines. Steps that
 * show what a user sees spawn the bin; the rest run `main()` in this process.
 *
 * The CLI holds the directory's lock, so a group never has members while it runs: the views of a
 * group with live members, and the refusal to reset or delete one, run `runConsumerGroups` on a
 * runtime this test opens.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { assignmentText } from '../../src/cli/commands/consumer-group-views.js';
import { parseDatetime, runConsumerGroups } from '../../src/cli/commands/consumer-groups.js';
import { Output } from '../../src/cli/output.js';
import { TributaryError } from '../../src/errors.js';
import { open } from '../../src/index.js';
import { tempDirs } from '../temp-dirs.js';
import { jsonLines, oneLineError, runCli, runMain } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cli-groups-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = ['--dir', dir, '--threads', '1'];
const RECORDS = 30;

interface Printed {
  partition: number;
  offset: number;
  value: string;
}
interface OffsetRowJson {
  group: string;
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number;
  lag: number | null;
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}
interface PlanJson {
  dryRun: boolean;
  offsets: Array<{ group: string; topic: string; partition: number; previousOffset: number | null; newOffset: number }>;
}

/** The log end offset of each partition of `orders`, found by the first consume. */
let logEnd: number[] = [];

async function consume(group: string, extra: readonly string[] = []): Promise<Printed[]> {
  const result = await runCli(['console-consumer', '--topic', 'orders', '--group', group, '--from-beginning', '--json', ...extra, ...at]);
  expect(result.code, result.stderr).toBe(0);
  return jsonLines(result.stdout).map((r) => ({ partition: r.partition as number, offset: r.offset as number, value: r.value as string }));
}

async function offsets(group: string): Promise<OffsetRowJson[]> {
  const result = await runMain(['consumer-groups', '--describe', '--group', group, '--json', ...at]);
  expect(result.code, result.stderr).toBe(0);
  const [described] = JSON.parse(result.stdout) as Array<{ group: string; state: string; offsets: OffsetRowJson[] }>;
  expect(described).toMatchObject({ group, state: 'Empty' });
  return described.offsets;
}

async function plan(args: readonly string[]): Promise<PlanJson> {
  const result = await runMain(['consumer-groups', '--reset-offsets', ...args, '--json', ...at]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PlanJson;
}

/** Splits a table's lines into cells (no cell here contains a space). */
function table(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/\s+/));
}

describe('console-consumer --group and consumer-groups, end to end', () => {
  it('creates a topic and produces keyed records', async () => {
    const created = await runCli(['topics', '--create', '--topic', 'orders', '--partitions', '3', ...at]);
    expect(created.code, created.stderr).toBe(0);
    const input = Array.from({ length: RECORDS }, (_, i) => `k${i}:order-${i}\n`).join('');
    const produced = await runCli(['console-producer', '--topic', 'orders', '--property', 'parse.key=true', '--property', 'key.separator=:', ...at], { input });
    expect(produced.code, produced.stderr).toBe(0);
  });

  it('commits what the first run printed, and a second run of the group prints exactly the rest', async () => {
    const first = await consume('billing', ['--max-messages', '10']);
    expect(first).toHaveLength(10);

    const topic = await runMain(['topics', '--describe', '--topic', 'orders', '--json', ...at]);
    logEnd = (JSON.parse(topic.stdout) as Array<{ partitions: Array<{ logEndOffset: number }> }>)[0].partitions.map((p) => p.logEndOffset);
    expect(logEnd.reduce((sum, end) => sum + end, 0)).toBe(RECORDS);

    const described = await offsets('billing');
    for (const [partition, end] of logEnd.entries()) {
      const printed = first.filter((record) => record.partition === partition).map((record) => record.offset);
      const row = described.find((r) => r.partition === partition);
      const common = { group: 'billing', topic: 'orders', logEndOffset: end, consumerId: null, host: null, clientId: null };
      if (printed.length > 0) {
        // The offset after the last record printed, though the run had fetched further.
        const next = Math.max(...printed) + 1;
        expect(row).toEqual({ ...common, partition, currentOffset: next, lag: end - next });
      } else if (row !== undefined) {
        // Nothing printed from it: committed at its start, or not at all.
        expect(row).toEqual({ ...common, partition, currentOffset: 0, lag: end });
      }
    }

    const second = await consume('billing');
    expect(second).toHaveLength(RECORDS - 10);
    const values = [...first, ...second].map((record) => record.value).sort();
    expect(values).toEqual(Array.from({ length: RECORDS }, (_, i) => `order-${i}`).sort());
  });

  it('lists and describes the group in Kafka\'s columns, with no lag left', async () => {
    const described = await runCli(['consumer-groups', '--describe', '--group', 'billing', ...at]);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stderr).toBe("Consumer group 'billing' has no active members.\n");
    const [header, ...rows] = table(described.stdout);
    expect(header).toEqual(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']);
    expect(rows).toEqual(logEnd.map((end, partition) => ['billing', 'orders', String(partition), String(end), String(end), '0', '-', '-', '-']));

    const listed = await runMain(['consumer-groups', '--list', ...at]);
    expect(listed.stdout).toBe('billing\n');
    const states = await runMain(['consumer-groups', '--list', '--state', ...at]);
    expect(table(states.stdout)).toEqual([['GROUP', 'STATE'], ['billing', 'Empty']]);
    const state = await runMain(['consumer-groups', '--describe', '--all-groups', '--state', '--json', ...at]);
    expect(JSON.parse(state.stdout)).toEqual([{ group: 'billing', coordinator: { partition: expect.any(Number), thread: 0 }, assignmentStrategy: null, state: 'Empty', members: 0 }]);
    const members = await runMain(['consumer-groups', '--describe', '--group', 'billing', '--members', '--json', ...at]);
    expect(JSON.parse(members.stdout)).toEqual([{ group: 'billing', state: 'Empty', members: [] }]);
  });

  it('plans a reset without --execute and changes nothing', async () => {
    const dryRun = await runCli(['consumer-groups', '--reset-offsets', '--group', 'billing', '--topic', 'orders', '--to-earliest', ...at]);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stderr).toMatch(/^WARN: No action was performed as the --execute option is missing/);
    expect(table(dryRun.stdout)).toEqual([['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], ...logEnd.map((_, partition) => ['billing', 'orders', String(partition), '0'])]);
    expect((await offsets('billing')).map((row) => row.currentOffset)).toEqual(logEnd);
  });

  it('resets with --execute, and a third run reads everything again', async () => {
    const executed = await plan(['--group', 'billing', '--topic', 'orders', '--to-earliest', '--execute']);
    expect(executed).toEqual({
      dryRun: false,
      offsets: logEnd.map((end, partition) => ({ group: 'billing', topic: 'orders', partition, previousOffset: end, newOffset: 0 })),
    });
    expect((await offsets('billing')).map((row) => row.currentOffset)).toEqual([0, 0, 0]);
    expect(await consume('billing')).toHaveLength(RECORDS);
  });

  it('plans every reset target as Kafka computes it', async () => {
    const dry = ['--group', 'billing', '--dry-run'];
    const newOffsets = async (args: readonly string[]) => (await plan([...dry, ...args])).offsets.map((row) => [row.partition, row.newOffset]);
    expect(await newOffsets(['--topic', 'orders', '--to-latest'])).toEqual(logEnd.map((end, p) => [p, end]));
    expect(await newOffsets(['--topic', 'orders', '--to-datetime', '2000-01-01T00:00:00Z'])).toEqual(logEnd.map((_, p) => [p, 0]));
    // No record is that recent: the log end.
    expect(await newOffsets(['--topic', 'orders', '--to-datetime', '2999-01-01T00:00:00.000+02:00'])).toEqual(logEnd.map((end, p) => [p, end]));
    expect(await newOffsets(['--topic', 'orders:2,0', '--to-offset', '12'])).toEqual([0, 2].map((p) => [p, Math.min(12, logEnd[p])]));
    expect(await newOffsets(['--topic', 'orders', '--shift-by', '-12'])).toEqual(logEnd.map((end, p) => [p, Math.max(0, end - 12)]));
    expect(await newOffsets(['--all-topics', '--shift-by=-1'])).toEqual(logEnd.map((end, p) => [p, Math.max(0, end - 1)]));
    // None of these was executed.
    expect((await offsets('billing')).map((row) => row.currentOffset)).toEqual(logEnd);
  });

  it('creates a group that does not exist when a reset is executed, as Kafka does', async () => {
    const executed = await plan(['--group', 'audit', '--topic', 'orders:1', '--to-offset', '2', '--execute']);
    expect(executed.offsets).toEqual([{ group: 'audit', topic: 'orders', partition: 1, previousOffset: null, newOffset: Math.min(2, logEnd[1]) }]);
    const listed = await runMain(['consumer-groups', '--list', '--state', '--json', ...at]);
    expect(JSON.parse(listed.stdout)).toEqual([
      { groupId: 'audit', state: 'Empty' },
      { groupId: 'billing', state: 'Empty' },
    ]);
    expect((await consume('audit')).filter((record) => record.partition === 1).map((record) => record.offset)[0]).toBe(Math.min(2, logEnd[1]));
  });

  it('deletes groups, after which they do not exist', async () => {
    const deleted = await runCli(['consumer-groups', '--delete', '--group', 'billing', ...at]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe("Deletion of requested consumer groups ('billing') was successful.\n");
    expect(oneLineError(await runMain(['consumer-groups', '--describe', '--group', 'billing', ...at]), 1)).toBe(
      'error: Consumer group "billing" does not exist [GROUP_ID_NOT_FOUND]',
    );
    const all = await runMain(['consumer-groups', '--delete', '--all-groups', '--json', ...at]);
    expect(JSON.parse(all.stdout)).toEqual({ deleted: ['audit'] });
    expect(JSON.parse((await runMain(['consumer-groups', '--list', '--json', ...at])).stdout)).toEqual([]);
  });

  it('fails with one typed line for an unknown group, topic or partition, changing nothing', async () => {
    await plan(['--group', 'kept', '--topic', 'orders', '--to-offset', '1', '--execute']);
    for (const [args, message] of [
      [['--describe', '--group', 'kept', '--group', 'ghost'], 'error: Consumer group "ghost" does not exist [GROUP_ID_NOT_FOUND]'],
      [['--delete', '--group', 'ghost', '--group', 'kept'], 'error: Consumer group "ghost" does not exist [GROUP_ID_NOT_FOUND]'],
      [['--reset-offsets', '--group', 'kept', '--topic', 'absent', '--to-earliest', '--execute'], 'error: Topic "absent" does not exist [UNKNOWN_TOPIC_OR_PARTITION]'],
      [['--reset-offsets', '--group', 'kept', '--topic', 'orders:0,3', '--to-earliest', '--execute'], 'error: Topic "orders" has 3 partition(s), so partition 3 does not exist [UNKNOWN_TOPIC_OR_PARTITION]'],
    ] as const) {
      expect(oneLineError(await runMain(['consumer-groups', ...args, ...at]), 1)).toBe(message);
    }
    const spawned = await runCli(['consumer-groups', '--describe', '--group', 'ghost', ...at]);
    expect(oneLineError(spawned, 1)).toBe('error: Consumer group "ghost" does not exist [GROUP_ID_NOT_FOUND]');
    expect((await offsets('kept')).map((row) => row.currentOffset)).toEqual(logEnd.map((end) => Math.min(1, end)));
  });
});

describe('bad command lines exit 2 and name the mistake', () => {
  it.each([
    [['consumer-groups'], 'choose an action: --list, --describe, --reset-offsets or --delete'],
    [['consumer-groups', '--list', '--delete', '--group', 'g'], 'choose one action, not --list and --delete'],
    [['consumer-groups', '--describe'], '--describe needs --group or --all-groups'],
    [['consumer-groups', '--delete'], '--delete needs --group or --all-groups'],
    [['consumer-groups', '--describe', '--group', 'g', '--all-groups'], '--group and --all-groups cannot be given together'],
    [['consumer-groups', '--list', '--group', 'g'], '--group goes with --describe or --reset-offsets or --delete, not --list'],
    [['consumer-groups', '--list', '--members'], '--members goes with --describe, not --list'],
    [['consumer-groups', '--describe', '--group', 'g', '--topic', 't'], '--topic goes with --reset-offsets, not --describe'],
    [['consumer-groups', '--delete', '--group', 'g', '--execute'], '--execute goes with --reset-offsets, not --delete'],
    [['consumer-groups', '--describe', '--group', 'g', '--members', '--state'], '--describe takes at most one of --offsets, --members and --state, not --members and --state'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--to-earliest'], '--reset-offsets needs a scope: --topic or --all-topics'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't', '--all-topics', '--to-earliest'], '--topic and --all-topics cannot be given together'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't'], '--reset-offsets needs a target: --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't', '--to-earliest', '--shift-by', '-2'], 'choose one reset target, not --to-earliest and --shift-by'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't', '--to-latest', '--dry-run', '--execute'], '--reset-offsets takes one of --dry-run and --execute, not both'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't', '--to-offset', '-1'], '--to-offset must be an integer >= 0, got "-1"'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't', '--shift-by', 'back'], '--shift-by must be an integer'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't:', '--to-latest'], '--topic takes TOPIC or TOPIC:P,P..., got "t:"'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't:0,x', '--to-latest'], '--topic t: partition must be an integer >= 0, got "x"'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't', '--to-datetime', '2024-02-30T00:00:00'], '--to-datetime takes YYYY-MM-DDTHH:mm:SS[.sss] with an optional zone'],
    [['consumer-groups', '--reset-offsets', '--group', 'g', '--topic', 't', '--to-datetime', 'yesterday'], 'got "yesterday"'],
    [['consumer-groups', '--describe', '--group'], 'option --group needs a value'],
    [['console-consumer', '--topic', 't', '--group', 'g', '--partition', '0'], '--group and --partition cannot be given together'],
  ])('%j', async (args, message) => {
    const line = oneLineError(await runMain([...args, ...at]), 2);
    expect(line).toContain(message);
    expect(line).toContain('--help)');
  });

  it('reads --to-datetime as Kafka does: UTC without a zone, any of its zone forms', () => {
    const utc = Date.UTC(2024, 4, 1, 12, 30, 15, 250);
    expect(parseDatetime('2024-05-01T12:30:15.250')).toBe(utc);
    expect(parseDatetime('2024-05-01T12:30:15.250Z')).toBe(utc);
    expect(parseDatetime('2024-05-01T14:30:15.250+02:00')).toBe(utc);
    expect(parseDatetime('2024-05-01T14:30:15.250+0200')).toBe(utc);
    expect(parseDatetime('2024-05-01T14:30:15.250+02')).toBe(utc);
    expect(parseDatetime('2024-05-01T07:00:15.25-05:30')).toBe(utc);
    expect(parseDatetime('2024-02-29T00:00:00')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of ['2023-02-29T00:00:00', '2024-05-01T24:00:00', '2024-05-01 12:00:00', '2024-05-01T12:00', '2024-05-01T12:00:00.1234']) {
      expect(() => parseDatetime(bad), bad).toThrow('--to-datetime takes');
    }
  });
});

describe('a group with live members', () => {
  const newDir = tempDirs('tributary-cli-live-');

  it('shows members, assignments and state, and is neither reset nor deleted', async () => {
    const rt = await open({ dir: newDir(), threads: 1 });
    try {
      await rt.admin.createTopic('live', { partitions: 4 });
      await rt.producer().send({ topic: 'live', messages: Array.from({ length: 8 }, (_, i) => ({ value: `v${i}`, partition: i % 4 })) });
      const consumers = [
        rt.consumer({ groupId: 'live-group', clientId: 'alpha', maxWaitTimeInMs: 50 }),
        rt.consumer({ groupId: 'live-group', clientId: 'beta', groupInstanceId: 'beta-1', maxWaitTimeInMs: 50 }),
      ];
      for (const consumer of consumers) {
        await consumer.subscribe({ topic: 'live', fromBeginning: true });
        await consumer.run({ eachMessage: async () => {} });
      }
      const group = await vi.waitFor(
        async () => {
          const described = await rt.admin.describeGroup('live-group');
          if (described.state !== 'Stable' || described.members.length !== 2 || described.members.some((m) => m.assignment.length !== 2)) throw new Error(described.state);
          return described;
        },
        { timeout: 10_000, interval: 20 },
      );

      const run = async (request: Parameters<typeof runConsumerGroups>[2]) => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        const code = await runConsumerGroups(rt, new Output(stdout, stderr, false), request);
        return { code, stdout: String(stdout.read() ?? ''), stderr: String(stderr.read() ?? '') };
      };

      const offsetsView = await run({ action: 'describe', groups: ['live-group'], view: 'offsets', verbose: false });
      expect(offsetsView).toMatchObject({ code: 0, stderr: '' });
      const [, ...rows] = table(offsetsView.stdout);
      // Kafka's order: members with more partitions first (here both have two), each member's in partition order.
      const owned = group.members.flatMap((member) =>
        member.assignment
          .map(({ partition }) => partition)
          .sort((x, y) => x - y)
          .map((partition) => ['live-group', 'live', String(partition), member.memberId, '-', member.clientId]),
      );
      // Committed offsets and lag move as the members consume; ownership and the log end do not.
      expect(rows.map((row) => [row[0], row[1], row[2], row[6], row[7], row[8]])).toEqual(owned);
      expect(rows.map((row) => row[4])).toEqual(rows.map(() => '2'));

      const membersView = await run({ action: 'describe', groups: ['live-group'], view: 'members', verbose: true });
      expect(table(membersView.stdout)).toEqual([
        ['GROUP', 'CONSUMER-ID', 'GROUP-INSTANCE-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
        ...group.members.map((m) => ['live-group', m.memberId, m.groupInstanceId ?? '-', '-', m.clientId, '2', assignmentText(m.assignment)]),
      ]);
      for (const member of group.members) expect(assignmentText(member.assignment)).toMatch(/^live:\d,\d$/);

      const stateView = await run({ action: 'describe', groups: ['live-group'], view: 'state', verbose: false });
      const [stateHeader, stateRow] = stateView.stdout.trimEnd().split('\n');
      expect(stateHeader).toMatch(/^GROUP +COORDINATOR \(ID\) +ASSIGNMENT-STRATEGY +STATE +#MEMBERS$/);
      expect(stateRow).toMatch(/^live-group +thread 0 {2}\(__consumer_offsets-\d+\) +roundrobin +Stable +2$/);

      const scope = [{ topic: 'live' }];
      for (const request of [
        { action: 'reset-offsets', groups: ['live-group'], scope, to: 'earliest', execute: true },
        { action: 'delete', groups: ['live-group'] },
      ] as const) {
        const refused = await run(request).catch((error: unknown) => error);
        expect(TributaryError.is(refused, 'NON_EMPTY_GROUP'), String(refused)).toBe(true);
      }
      expect((await rt.admin.describeGroup('live-group')).state).toBe('Stable');
      for (const consumer of consumers) await consumer.disconnect();
    } finally {
      await rt.close();
    }
  });
});
