/**
 * What `tributary consumer-groups` shows, as kafka-consumer-groups shows it: the rows of each
 * view (as objects, which `--json` prints) and the fixed-width tables they print as, with Kafka's
 * column names and minimum widths, and `-` for a value that is missing.
 *
 * A member's HOST is always missing: tributary's coordinator learns no client address (every
 * member runs in the process that has the data directory open).
 */
import type { ConsumerGroupDescription } from '../../group/group-admin.js';
import type { TopicPartition } from '../../group/assignors/types.js';
import type { GroupStateName } from '../../runtime/messages.js';

/** `--describe` (`--offsets`): one row per partition the group is assigned or has a commit for. */
export interface OffsetRow {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** The committed offset; null without a commit. */
  readonly currentOffset: number | null;
  readonly logEndOffset: number;
  readonly lag: number | null;
  /** The member consuming the partition; null when none is. */
  readonly consumerId: string | null;
  readonly host: string | null;
  readonly clientId: string | null;
}

/** `--describe --members`: one row per member. */
export interface MemberRow {
  readonly group: string;
  readonly consumerId: string;
  readonly groupInstanceId: string | null;
  readonly host: string | null;
  readonly clientId: string;
  readonly partitions: number;
  readonly assignment: readonly TopicPartition[];
}

/** `--describe --state`: one row per group. */
export interface StateRow {
  readonly group: string;
  /** The `__consumer_offsets` partition whose coordinator runs the group, and the worker thread hosting it. */
  readonly coordinator: { readonly partition: number; readonly thread: number };
  /** The assignor the group chose; null outside Stable and CompletingRebalance. */
  readonly assignmentStrategy: string | null;
  readonly state: GroupStateName;
  readonly members: number;
}

/**
 * Kafka's order: the partitions of each member, members with more partitions first, then the
 * partitions with a commit that no member holds.
 */
export function offsetRows(group: ConsumerGroupDescription): OffsetRow[] {
  const row = (partition: ConsumerGroupDescription['partitions'][number], consumerId: string | null, clientId: string | null): OffsetRow => ({
    group: group.groupId,
    topic: partition.topic,
    partition: partition.partition,
    currentOffset: partition.committedOffset,
    logEndOffset: partition.logEndOffset,
    lag: partition.lag,
    consumerId,
    host: null,
    clientId,
  });
  const members = group.members.filter((member) => member.assignment.length > 0).sort((a, b) => b.assignment.length - a.assignment.length);
  return [
    ...members.flatMap((member) => group.partitions.filter((p) => p.memberId === member.memberId).map((p) => row(p, member.memberId, member.clientId))),
    ...group.partitions.filter((p) => p.memberId === null && p.committedOffset !== null).map((p) => row(p, null, null)),
  ];
}

export function memberRows(group: ConsumerGroupDescription): MemberRow[] {
  return group.members.map((member) => ({
    group: group.groupId,
    consumerId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    host: null,
    clientId: member.clientId,
    partitions: member.assignment.length,
    assignment: member.assignment,
  }));
}

export function stateRow(group: ConsumerGroupDescription, coordinator: StateRow['coordinator']): StateRow {
  return { group: group.groupId, coordinator, assignmentStrategy: group.protocol === '' ? null : group.protocol, state: group.state, members: group.members.length };
}

/** A table column: its header and the least width Kafka gives it. */
interface Column {
  readonly header: string;
  readonly min: number;
}

const MISSING = '-';

function cell(value: string | number | null): string {
  return value === null ? MISSING : String(value);
}

/**
 * Lines of a table: each column as wide as its widest cell or its minimum, cells left-aligned and
 * one space apart, the last column unpadded (Kafka's `%-Ns` formats).
 */
export function formatTable(columns: readonly Column[], rows: ReadonlyArray<ReadonlyArray<string | number | null>>): string[] {
  const cells = rows.map((row) => row.map(cell));
  const widths = columns.map((column, i) => Math.max(column.min, column.header.length, ...cells.map((row) => row[i].length)));
  const line = (row: readonly string[]) =>
    row
      .map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i])))
      .join(' ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...cells.map(line)];
}

export function offsetTable(rows: readonly OffsetRow[]): string[] {
  return formatTable(
    [
      { header: 'GROUP', min: 15 },
      { header: 'TOPIC', min: 15 },
      { header: 'PARTITION', min: 10 },
      { header: 'CURRENT-OFFSET', min: 15 },
      { header: 'LOG-END-OFFSET', min: 15 },
      { header: 'LAG', min: 15 },
      { header: 'CONSUMER-ID', min: 15 },
      { header: 'HOST', min: 15 },
      { header: 'CLIENT-ID', min: 0 },
    ],
    rows.map((r) => [r.group, r.topic, r.partition, r.currentOffset, r.logEndOffset, r.lag, r.consumerId, r.host, r.clientId]),
  );
}

/** Kafka's member table: GROUP-INSTANCE-ID only when a member has one, ASSIGNMENT with `verbose`. */
export function memberTable(rows: readonly MemberRow[], verbose: boolean): string[] {
  const instances = rows.some((r) => r.groupInstanceId !== null);
  const columns: Column[] = [
    { header: 'GROUP', min: 15 },
    { header: 'CONSUMER-ID', min: 15 },
    ...(instances ? [{ header: 'GROUP-INSTANCE-ID', min: 17 }] : []),
    { header: 'HOST', min: 15 },
    { header: 'CLIENT-ID', min: 15 },
    { header: '#PARTITIONS', min: 15 },
    ...(verbose ? [{ header: 'ASSIGNMENT', min: 0 }] : []),
  ];
  return formatTable(
    columns,
    rows.map((r) => [
      r.group,
      r.consumerId,
      ...(instances ? [r.groupInstanceId] : []),
      r.host,
      r.clientId,
      r.partitions,
      ...(verbose ? [assignmentText(r.assignment)] : []),
    ]),
  );
}

export function stateTable(rows: readonly StateRow[]): string[] {
  return formatTable(
    [
      { header: 'GROUP', min: 15 },
      { header: 'COORDINATOR (ID)', min: 25 },
      { header: 'ASSIGNMENT-STRATEGY', min: 20 },
      { header: 'STATE', min: 20 },
      { header: '#MEMBERS', min: 0 },
    ],
    rows.map((r) => [r.group, `thread ${r.coordinator.thread}  (__consumer_offsets-${r.coordinator.partition})`, r.assignmentStrategy, r.state, r.members]),
  );
}

/** `--reset-offsets`: Kafka's plan table. */
export function resetTable(rows: ReadonlyArray<{ readonly group: string; readonly topic: string; readonly partition: number; readonly newOffset: number }>): string[] {
  return formatTable(
    [
      { header: 'GROUP', min: 15 },
      { header: 'TOPIC', min: 15 },
      { header: 'PARTITION', min: 10 },
      { header: 'NEW-OFFSET', min: 0 },
    ],
    rows.map((r) => [r.group, r.topic, r.partition, r.newOffset]),
  );
}

/** `--list --state`. */
export function listTable(rows: ReadonlyArray<{ readonly groupId: string; readonly state: GroupStateName }>): string[] {
  return formatTable(
    [
      { header: 'GROUP', min: 15 },
      { header: 'STATE', min: 0 },
    ],
    rows.map((r) => [r.groupId, r.state]),
  );
}

/** Kafka's assignment text: `topic:0,1;other:3`, topics in order, or `-` for none. */
export function assignmentText(assignment: readonly TopicPartition[]): string {
  if (assignment.length === 0) return MISSING;
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of assignment) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([topic, partitions]) => `${topic}:${partitions.sort((a, b) => a - b).join(',')}`)
    .join(';');
}
