/**
 * `tributary consumer-groups`: kafka-consumer-groups for an embedded data directory, over the
 * group admin (`rt.admin`): list groups, describe their offsets and lag, members or state, reset
 * their offsets, delete them.
 *
 * Where Kafka's tool reports a bad group and goes on with the next (exit 0), this command checks
 * every group first and fails with one typed error before changing or printing anything:
 * GROUP_ID_NOT_FOUND for a group that does not exist (describe, delete), NON_EMPTY_GROUP for one
 * with members (reset, delete; reachable only through `runConsumerGroups` on a runtime that has
 * members, since the CLI itself holds the directory's lock). As in Kafka, a reset may name a group
 * that does not exist yet: it creates the group with the offsets given.
 */
import { TributaryError } from '../../errors.js';
import type { ConsumerGroupDescription, ResetTarget } from '../../group/group-admin.js';
import type { Tributary } from '../../tributary.js';
import { chooseAction, onlyWith } from '../action-flags.js';
import { defineCommand, type CommonValues, type FlagSpecs, type FlagValues } from '../command.js';
import { parseInteger, withRuntime } from '../data-dir.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { listTable, memberRows, memberTable, offsetRows, offsetTable, resetTable, stateRow, stateTable } from './consumer-group-views.js';

const ACTIONS = ['list', 'describe', 'reset-offsets', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

const TARGETS = ['to-earliest', 'to-latest', 'to-datetime', 'to-offset', 'shift-by'] as const;

type DescribeView = 'offsets' | 'members' | 'state';

/** The groups a command acts on: those named, or every group (`--all-groups`). */
type GroupSelection = readonly string[] | 'all';

/** One topic of a reset's scope; `partitions` undefined means all of them. */
export interface TopicScope {
  readonly topic: string;
  readonly partitions?: readonly number[];
}

/** A checked command line: what `runConsumerGroups` does. */
export type ConsumerGroupsRequest =
  | { readonly action: 'list'; readonly withState: boolean }
  | { readonly action: 'describe'; readonly groups: GroupSelection; readonly view: DescribeView; readonly verbose: boolean }
  | {
      readonly action: 'reset-offsets';
      readonly groups: GroupSelection;
      /** The topics to reset, or every partition each group has a commit for (`--all-topics`). */
      readonly scope: readonly TopicScope[] | 'all-topics';
      readonly to: ResetTarget;
      readonly execute: boolean;
    }
  | { readonly action: 'delete'; readonly groups: GroupSelection };

const FLAGS = {
  list: { type: 'boolean', help: 'list consumer groups' },
  describe: { type: 'boolean', help: 'describe groups: offsets and lag, members or state' },
  'reset-offsets': { type: 'boolean', help: 'plan or apply new committed offsets for a group without members' },
  delete: { type: 'boolean', help: 'delete groups and their committed offsets' },
  group: { type: 'string', multiple: true, value: 'GROUP', help: 'a group to act on' },
  'all-groups': { type: 'boolean', help: 'act on every group' },
  offsets: { type: 'boolean', help: 'with --describe: partitions with offsets and lag (the default)' },
  members: { type: 'boolean', help: 'with --describe: the members' },
  state: { type: 'boolean', help: 'with --describe: coordinator, assignor, state and member count; with --list: each group with its state' },
  topic: { type: 'string', multiple: true, value: 'TOPIC[:P,P...]', help: 'with --reset-offsets: a topic, or some of its partitions' },
  'all-topics': { type: 'boolean', help: 'with --reset-offsets: every partition the group has a commit for' },
  'to-earliest': { type: 'boolean', help: 'reset to the log start' },
  'to-latest': { type: 'boolean', help: 'reset to the log end' },
  'to-datetime': { type: 'string', value: 'DATETIME', help: 'reset to the first record at or after this time (the log end if none)' },
  'to-offset': { type: 'string', value: 'N', help: 'reset to this offset (clamped to the log)' },
  'shift-by': { type: 'string', value: 'N', help: 'move the committed offset by N (negative: back)' },
  'dry-run': { type: 'boolean', help: 'print the new offsets without applying them (the default)' },
  execute: { type: 'boolean', help: 'apply the new offsets' },
} as const satisfies FlagSpecs;

type Flags = FlagValues<typeof FLAGS> & CommonValues;

export default defineCommand({
  usage: [
    '--list [--state]',
    '--describe (--group GROUP ... | --all-groups) [--offsets | --members [--verbose] | --state]',
    '--reset-offsets (--group GROUP ... | --all-groups) (--topic TOPIC[:P,P...] ... | --all-topics) ' +
      '(--to-earliest | --to-latest | --to-datetime DATETIME | --to-offset N | --shift-by N) [--dry-run | --execute]',
    '--delete (--group GROUP ... | --all-groups)',
  ],
  about:
    "Consumer groups as kafka-consumer-groups shows them. --describe prints, per group, Kafka's columns: each partition the group is " +
    'assigned or has a commit for, with its committed offset, log end offset and lag, and the member consuming it (--offsets, the default); ' +
    'each member with its partition count (--members; --verbose adds the assignment); or the coordinator, assignor, state and member count (--state). ' +
    "HOST is always '-': members are in the process holding the data directory.\n" +
    '--reset-offsets moves a group without members: to the log start or end, to the first record at or after a time (DATETIME is ' +
    "YYYY-MM-DDTHH:mm:SS[.sss] with an optional zone, Z or +02:00; UTC without one, as Kafka reads it), to an offset (clamped to the log), " +
    'or by N from its committed offset (a partition without one shifts from the log start). Without --execute it only prints the plan, as Kafka does. ' +
    '--topic TOPIC:0,2 resets only those partitions; --all-topics resets every partition the group has a commit for.\n' +
    'A group that does not exist is an error (GROUP_ID_NOT_FOUND) for --describe and --delete; --reset-offsets creates it, as Kafka does. ' +
    'With --json: --list prints group ids (with --state, { groupId, state }), --describe one object per group with its rows, ' +
    '--reset-offsets { dryRun, offsets }, --delete { deleted }.',
  flags: FLAGS,
  dataDir: true,
  examples: [
    'tributary consumer-groups --list --state',
    'tributary consumer-groups --describe --group billing',
    'tributary consumer-groups --describe --all-groups --members --verbose',
    'tributary consumer-groups --reset-offsets --group billing --topic orders --to-datetime 2024-05-01T00:00:00Z --execute',
    'tributary consumer-groups --reset-offsets --group billing --topic orders:0,1 --shift-by -100',
    'tributary consumer-groups --delete --group billing',
  ],
  async run({ flags, out }) {
    const action = chooseAction(flags, ACTIONS);
    onlyWith(action, flags.group.length > 0, '--group', ['describe', 'reset-offsets', 'delete']);
    onlyWith(action, flags['all-groups'], '--all-groups', ['describe', 'reset-offsets', 'delete']);
    onlyWith(action, flags.offsets, '--offsets', ['describe']);
    onlyWith(action, flags.members, '--members', ['describe']);
    onlyWith(action, flags.state, '--state', ['describe', 'list']);
    for (const flag of ['topic', 'all-topics', ...TARGETS, 'dry-run', 'execute'] as const) onlyWith(action, isGiven(flags[flag]), `--${flag}`, ['reset-offsets']);
    const request = checkedRequest(action, flags);
    const code = await withRuntime(flags, true, (rt) => runConsumerGroups(rt, out, request));
    if (action === 'reset-offsets' && !flags['dry-run'] && !flags.execute) {
      out.note('WARN: No action was performed as the --execute option is missing: this was a dry run (pass --dry-run to say so, --execute to apply it).');
    }
    return code;
  },
});

function checkedRequest(action: Action, flags: Flags): ConsumerGroupsRequest {
  if (action === 'list') return { action, withState: flags.state };
  const groups = groupSelection(action, flags.group, flags['all-groups']);
  if (action === 'delete') return { action, groups };
  if (action === 'describe') {
    const views = (['offsets', 'members', 'state'] as const).filter((view) => flags[view]);
    if (views.length > 1) throw new UsageError(`--describe takes at most one of --offsets, --members and --state, not ${views.map((v) => `--${v}`).join(' and ')}`);
    return { action, groups, view: views[0] ?? 'offsets', verbose: flags.verbose };
  }
  if (flags.topic.length > 0 && flags['all-topics']) throw new UsageError('--topic and --all-topics cannot be given together');
  if (flags.topic.length === 0 && !flags['all-topics']) throw new UsageError('--reset-offsets needs a scope: --topic or --all-topics');
  if (flags['dry-run'] && flags.execute) throw new UsageError('--reset-offsets takes one of --dry-run and --execute, not both');
  return { action, groups, scope: flags['all-topics'] ? 'all-topics' : topicScopes(flags.topic), to: resetTarget(flags), execute: flags.execute };
}

function groupSelection(action: Action, groups: readonly string[], all: boolean): GroupSelection {
  if (groups.length > 0 && all) throw new UsageError('--group and --all-groups cannot be given together');
  if (groups.length === 0 && !all) throw new UsageError(`--${action} needs --group or --all-groups`);
  return all ? 'all' : [...new Set(groups)].sort();
}

function resetTarget(flags: Flags): ResetTarget {
  const given = TARGETS.filter((target) => isGiven(flags[target]));
  if (given.length === 0) throw new UsageError(`--reset-offsets needs a target: ${TARGETS.map((t) => `--${t}`).join(', ')}`);
  if (given.length > 1) throw new UsageError(`choose one reset target, not ${given.map((t) => `--${t}`).join(' and ')}`);
  switch (given[0]) {
    case 'to-earliest':
      return 'earliest';
    case 'to-latest':
      return 'latest';
    case 'to-datetime':
      return { timestamp: parseDatetime(flags['to-datetime']!) };
    case 'to-offset':
      return { offset: parseInteger('--to-offset', flags['to-offset']!, 0) };
    case 'shift-by':
      return { shiftBy: parseInteger('--shift-by', flags['shift-by']!, -Number.MAX_SAFE_INTEGER) };
  }
}

/** A switch that is on, a value that is there, a repeatable flag given at least once. */
function isGiven(value: boolean | string | readonly string[] | undefined): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== false && value !== undefined;
}

/** `TOPIC` or `TOPIC:0,2` (Kafka's form); a topic given twice is reset once, over all partitions named. */
function topicScopes(args: readonly string[]): TopicScope[] {
  const scopes = new Map<string, Set<number> | 'all'>();
  for (const arg of args) {
    const [topic, list, extra] = arg.split(':');
    if (topic === '' || extra !== undefined || list === '') throw new UsageError(`--topic takes TOPIC or TOPIC:P,P..., got ${JSON.stringify(arg)}`);
    const partitions = list === undefined ? 'all' : new Set(list.split(',').map((p) => parseInteger(`--topic ${topic}: partition`, p, 0)));
    const known = scopes.get(topic);
    scopes.set(topic, known === 'all' || partitions === 'all' ? 'all' : new Set([...(known ?? []), ...partitions]));
  }
  return [...scopes].map(([topic, partitions]) => (partitions === 'all' ? { topic } : { topic, partitions: [...partitions].sort((a, b) => a - b) }));
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Kafka's `--to-datetime`: `YYYY-MM-DDTHH:mm:SS.sss` with an optional zone (`Z`, `+08`, `+0800`,
 * `+08:00`), read as UTC without one. Strict, as Kafka's parser: 2024-02-30 is an error, not March 1.
 */
export function parseDatetime(value: string): number {
  const match = DATETIME.exec(value);
  const bad = () => new UsageError(`--to-datetime takes YYYY-MM-DDTHH:mm:SS[.sss] with an optional zone (Z, +02:00), got ${JSON.stringify(value)}`);
  if (match === null) throw bad();
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw bad();
  const zone = match[8] ?? 'Z';
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '') || '00'}`;
  return Date.parse(`${value.slice(0, 19)}${match[7] ?? ''}${offset}`);
}

/** Runs a checked request on an open runtime, printing to `out`; resolves with the exit code. */
export async function runConsumerGroups(rt: Tributary, out: Output, request: ConsumerGroupsRequest): Promise<number> {
  switch (request.action) {
    case 'list':
      return list(rt, out, request.withState);
    case 'describe':
      return describe(rt, out, await groupIds(rt, request.groups), request.view, request.verbose);
    case 'reset-offsets':
      return reset(rt, out, await groupIds(rt, request.groups), request.scope, request.to, request.execute);
    case 'delete':
      return remove(rt, out, await groupIds(rt, request.groups));
  }
}

async function groupIds(rt: Tributary, groups: GroupSelection): Promise<readonly string[]> {
  return groups === 'all' ? (await rt.admin.listGroups()).groups.map((group) => group.groupId) : groups;
}

async function list(rt: Tributary, out: Output, withState: boolean): Promise<number> {
  const { groups } = await rt.admin.listGroups();
  if (out.json) await out.document(withState ? groups.map(({ groupId, state }) => ({ groupId, state })) : groups.map((group) => group.groupId));
  else if (withState) await out.write(lines(listTable(groups)));
  else await out.write(lines(groups.map((group) => group.groupId)));
  return EXIT.OK;
}

async function describe(rt: Tributary, out: Output, ids: readonly string[], view: DescribeView, verbose: boolean): Promise<number> {
  const groups = await Promise.all(ids.map((id) => rt.admin.describeGroup(id)));
  const unknown = groups.find((group) => group.state === 'Dead');
  if (unknown !== undefined) throw groupNotFound(unknown.groupId);
  const shown = await Promise.all(groups.map((group) => describedGroup(rt, group, view, verbose)));
  if (out.json) {
    await out.document(shown.map(({ json }) => json));
    return EXIT.OK;
  }
  for (const { groupId, state } of groups) {
    if (state === 'Empty') out.note(`Consumer group '${groupId}' has no active members.`);
    if (state === 'PreparingRebalance' || state === 'CompletingRebalance') out.note(`Warning: Consumer group '${groupId}' is rebalancing.`);
  }
  // One table per group, as Kafka prints them, a blank line apart.
  await out.write(shown.filter(({ table }) => table.length > 0).map(({ table }) => lines(table)).join('\n'));
  return EXIT.OK;
}

/** One group in the chosen view: its `--json` value and its table (none when it has no rows). */
async function describedGroup(rt: Tributary, group: ConsumerGroupDescription, view: DescribeView, verbose: boolean): Promise<{ json: unknown; table: string[] }> {
  switch (view) {
    case 'offsets': {
      const rows = offsetRows(group);
      return { json: { group: group.groupId, state: group.state, offsets: rows }, table: rows.length === 0 ? [] : offsetTable(rows) };
    }
    case 'members': {
      const rows = memberRows(group);
      return { json: { group: group.groupId, state: group.state, members: rows }, table: rows.length === 0 ? [] : memberTable(rows, verbose) };
    }
    case 'state': {
      const { topic, partition } = await rt.runtime.groupCoordinator(group.groupId);
      const row = stateRow(group, { partition, thread: rt.runtime.slotOf(topic, partition) ?? -1 });
      return { json: row, table: stateTable([row]) };
    }
  }
}

interface PlannedRow {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly previousOffset: number | null;
  readonly newOffset: number;
}

/**
 * Plans every group's reset first (which fails for a group with members, an unknown topic or
 * partition), and only then, with `execute`, commits exactly the offsets planned: a failure
 * changes nothing, and what is printed is what was applied.
 */
async function reset(rt: Tributary, out: Output, ids: readonly string[], scope: readonly TopicScope[] | 'all-topics', to: ResetTarget, execute: boolean): Promise<number> {
  if (scope !== 'all-topics') for (const topic of scope) checkPartitions(rt, topic);
  const plans: PlannedRow[][] = [];
  for (const groupId of ids) {
    for (const { topic, partitions } of scope === 'all-topics' ? await committedScope(rt, groupId) : scope) {
      const planned = await rt.admin.resetOffsets({ groupId, topic, to, partitions, dryRun: true });
      plans.push(planned.map((p) => ({ group: groupId, topic, partition: p.partition, previousOffset: p.previous, newOffset: p.offset })));
    }
  }
  if (execute) {
    for (const plan of plans.filter((rows) => rows.length > 0)) {
      await rt.admin.setOffsets({ groupId: plan[0].group, topic: plan[0].topic, partitions: plan.map((row) => ({ partition: row.partition, offset: String(row.newOffset) })) });
    }
  }
  const rows = plans.flat();
  if (out.json) await out.document({ dryRun: !execute, offsets: rows });
  else if (rows.length === 0) out.note('Nothing to reset: the groups have no committed offsets (--all-topics resets the partitions a group has a commit for).');
  else await out.write(lines(resetTable(rows)));
  return EXIT.OK;
}

/** Kafka names a partition that does not exist before planning anything. */
function checkPartitions(rt: Tributary, { topic, partitions }: TopicScope): void {
  const { partitions: count } = rt.runtime.topic(topic);
  const missing = partitions?.find((partition) => partition >= count);
  if (missing !== undefined) {
    throw new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `Topic ${JSON.stringify(topic)} has ${count} partition(s), so partition ${missing} does not exist`, { topic, partition: missing });
  }
}

/** `--all-topics`: the partitions the group has a commit for, by topic. */
async function committedScope(rt: Tributary, groupId: string): Promise<TopicScope[]> {
  const topics = await rt.admin.fetchOffsets({ groupId });
  return topics
    .map(({ topic, partitions }) => ({ topic, partitions: partitions.filter((p) => p.offset !== '-1').map((p) => p.partition) }))
    .filter((scope) => scope.partitions.length > 0);
}

/** Deletes nothing unless every group exists; the admin refuses a group with members (NON_EMPTY_GROUP). */
async function remove(rt: Tributary, out: Output, ids: readonly string[]): Promise<number> {
  const { groups } = ids.length === 0 ? { groups: [] } : await rt.admin.describeGroups(ids);
  const unknown = groups.find((group) => group.state === 'Dead');
  if (unknown !== undefined) throw groupNotFound(unknown.groupId);
  if (ids.length > 0) await rt.admin.deleteGroups(ids);
  if (out.json) await out.document({ deleted: ids });
  else await out.line(`Deletion of requested consumer groups (${ids.map((id) => `'${id}'`).join(', ')}) was successful.`);
  return EXIT.OK;
}

function groupNotFound(groupId: string): TributaryError {
  return new TributaryError('GROUP_ID_NOT_FOUND', `Consumer group ${JSON.stringify(groupId)} does not exist`, { groupId });
}

function lines(texts: readonly string[]): string {
  return texts.map((text) => `${text}\n`).join('');
}
