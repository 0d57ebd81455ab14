/**
 * The group coordinator for the groups of one `__consumer_offsets` partition, as Kafka's broker
 * runs one per partition it leads: it serves the group requests of `messages.ts` (join, sync,
 * heartbeat, leave, offset commit/fetch, describe, list, delete), drives one coordinator machine
 * (`coordinator-machine.ts`) per group, and keeps what must survive a restart — committed offsets
 * and each group's generation — as Kafka's own records in that partition.
 *
 * It owns no thread and no file: records leave through `OffsetsLog.append` (the partition host
 * appends them to the partition, and the answer to a commit leaves only once they are in the
 * log), and a reopened partition's records come back through `replay`. So it runs the same on a
 * worker thread and in a test, with the real clock or a SimulatedClock.
 *
 * What is recorded, as Kafka does: one OffsetCommit record per committed partition, a
 * GroupMetadata record each time a group settles (Stable with a new generation, or Empty), and
 * tombstones for all of a group's keys when it is deleted. Reloaded groups start Empty with their
 * last generation: their members were in the process that stopped (tributary is embedded), so
 * none can still be heartbeating. Kafka instead reloads members and waits out their sessions.
 *
 * Not modelled: offset expiry (`offsets.retention.minutes`), transactional offset commits.
 */
import { createActor, type ActorOptions, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { TributaryError } from '../errors.js';
import type {
  CommittedOffset,
  GroupDescription,
  GroupListing,
  GroupRef,
  PartitionRef,
  WorkerRequests,
} from '../runtime/messages.js';
import {
  createCoordinatorMachine,
  responseError,
  type CoordinatorContext,
  type CoordinatorMachineOptions,
  type CoordinatorResponse,
  type GroupState,
} from './coordinator-machine.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from './offsets-records.js';

/** Kafka's `offset.metadata.max.bytes` default. */
export const OFFSET_METADATA_MAX_BYTES = 4096;

export type GroupRequestType =
  | 'joinGroup'
  | 'syncGroup'
  | 'heartbeat'
  | 'leaveGroup'
  | 'commitOffsets'
  | 'fetchOffsets'
  | 'describeGroup'
  | 'listGroups'
  | 'deleteGroup';

export const GROUP_REQUEST_TYPES: ReadonlySet<string> = new Set<GroupRequestType>([
  'joinGroup',
  'syncGroup',
  'heartbeat',
  'leaveGroup',
  'commitOffsets',
  'fetchOffsets',
  'describeGroup',
  'listGroups',
  'deleteGroup',
]);

export type GroupOutcome<T extends GroupRequestType> =
  | { readonly ok: true; readonly result: WorkerRequests[T]['result'] }
  | { readonly ok: false; readonly error: TributaryError };

export type GroupReply<T extends GroupRequestType> = (outcome: GroupOutcome<T>) => void;

/** A `__consumer_offsets` record: Kafka's key and value bytes; a null value is a tombstone. */
export interface OffsetsRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

/** Where the coordinator's records go: the partition it coordinates for. Throws if they could not be appended. */
export interface OffsetsLog {
  append(records: readonly OffsetsRecord[]): void;
}

export interface GroupCoordinatorOptions extends CoordinatorMachineOptions {
  /** xstate's clock for the machines' timers (sessions, rebalance timeouts); the real one by default. */
  readonly clock?: ActorOptions<AnyActorLogic>['clock'];
}

/** A successful heartbeat whose answer is held (see the `heartbeat` request's `waitMs`). */
interface HeldHeartbeat {
  readonly args: WorkerRequests['heartbeat']['args'];
  readonly reply: GroupReply<GroupRequestType>;
  readonly timer: unknown;
}

type Timers = Pick<NonNullable<GroupCoordinatorOptions['clock']>, 'setTimeout' | 'clearTimeout'>;

/** The longest a heartbeat may be held: Kafka's largest session timeout (`group.max.session.timeout.ms`). */
const MAX_HEARTBEAT_WAIT_MS = 1_800_000;

interface Group {
  readonly id: string;
  readonly actor: ReturnType<typeof createActor<ReturnType<typeof createCoordinatorMachine>>>;
  /** `topic/partition` → committed offset. */
  readonly offsets: Map<string, CommittedOffset>;
  readonly held: Set<HeldHeartbeat>;
  /** The state and generation last seen: a change releases the held heartbeats. */
  seen: { state: GroupState; generationId: number };
  /** Replies waiting for the machine's answer, by requestId; an error when the group stops first. */
  readonly waiting: Map<string, (answer: CoordinatorResponse | TributaryError) => void>;
  /** What the last GroupMetadata record written (or replayed) says: generation, member count, protocol type. */
  stored: { generationId: number; members: number; protocolType: string | null } | null;
  lastResponses: readonly CoordinatorResponse[];
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly machine;
  private readonly now: () => number;
  private readonly timers: Timers;
  private nextRequestId = 0;
  private closed = false;

  constructor(
    private readonly log: OffsetsLog,
    private readonly options: GroupCoordinatorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.timers = options.clock ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout) };
    this.machine = createCoordinatorMachine({ ...options, now: this.now });
  }

  /**
   * Rebuilds state from one record of the partition, in offset order, before any request is
   * served: the latest value of each key wins and a tombstone removes it, as compaction would.
   */
  replay(key: Uint8Array, value: Uint8Array | null): void {
    let decoded: ReturnType<typeof decodeOffsetsKey>;
    try {
      decoded = decodeOffsetsKey(key);
    } catch (error) {
      // Record types newer than the classic protocol's (KIP-848 groups, share groups) are skipped, as Kafka's loader skips types it does not own.
      if (TributaryError.is(error, 'INVALID_RECORD') && typeof error.details.version === 'number' && error.details.version > 2) return;
      throw error;
    }
    if (decoded.type === 'offset') {
      const ref = `${decoded.topic}/${decoded.partition}`;
      if (value === null) {
        this.groups.get(decoded.group)?.offsets.delete(ref);
        return;
      }
      const commit = decodeOffsetCommitValue(value);
      this.groupFor(decoded.group).offsets.set(ref, {
        topic: decoded.topic,
        partition: decoded.partition,
        offset: commit.offset,
        metadata: commit.metadata ?? '',
        commitTimestamp: commit.commitTimestamp,
      });
      return;
    }
    if (value === null) {
      this.dropGroup(decoded.group);
      return;
    }
    const metadata = decodeGroupMetadataValue(value);
    const group = this.groups.get(decoded.group);
    const offsets = group?.offsets;
    if (group !== undefined) this.dropGroup(decoded.group);
    const restored = this.groupFor(decoded.group, { generationId: metadata.generation, members: 0, protocolType: metadata.protocolType === '' ? null : metadata.protocolType });
    for (const [ref, offset] of offsets ?? []) restored.offsets.set(ref, offset);
  }

  /** Serves one group request; the answer comes through `reply`, now or when the group's rebalance gets there. */
  handle<T extends GroupRequestType>(type: T, args: WorkerRequests[T]['args'], reply: GroupReply<T>): void {
    try {
      if (this.closed) throw new TributaryError('COORDINATOR_NOT_AVAILABLE', 'the group coordinator is closed', {});
      this.dispatch(type, args, reply as GroupReply<GroupRequestType>);
    } catch (error) {
      reply({ ok: false, error: asTributaryError(error) });
    }
  }

  /** Stops every group's timers; answers still waiting fail COORDINATOR_NOT_AVAILABLE (retriable: the member finds the coordinator again). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const group of this.groups.values()) this.stopGroup(group);
    this.groups.clear();
  }

  private dispatch(type: GroupRequestType, input: unknown, reply: GroupReply<GroupRequestType>): void {
    switch (type) {
      case 'joinGroup': {
        const args = input as WorkerRequests['joinGroup']['args'];
        const group = this.groupFor(checkGroupId(args));
        this.send(group, reply, (requestId) => ({
          type: 'JOIN',
          requestId,
          memberId: args.memberId,
          groupInstanceId: args.groupInstanceId,
          clientId: args.clientId,
          protocolType: args.protocolType,
          protocols: args.protocols,
          sessionTimeoutMs: args.sessionTimeoutMs,
          rebalanceTimeoutMs: args.rebalanceTimeoutMs,
        }));
        return;
      }
      case 'syncGroup': {
        const args = input as WorkerRequests['syncGroup']['args'];
        const group = this.existingGroup(args);
        this.send(group, reply, (requestId) => ({
          type: 'SYNC',
          requestId,
          memberId: args.memberId,
          groupInstanceId: args.groupInstanceId,
          generationId: args.generationId,
          ...(args.assignments === null ? {} : { assignments: args.assignments }),
        }));
        return;
      }
      case 'heartbeat': {
        const args = input as WorkerRequests['heartbeat']['args'];
        const group = this.existingGroup(args);
        const waitMs = args.waitMs ?? 0;
        if (!Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > MAX_HEARTBEAT_WAIT_MS) {
          throw new TributaryError('INVALID_REQUEST', `heartbeat waitMs must be an integer in [0, ${MAX_HEARTBEAT_WAIT_MS}], got ${String(waitMs)}`, { waitMs: String(waitMs) });
        }
        const answer: GroupReply<GroupRequestType> = waitMs === 0 ? reply : (outcome) => (outcome.ok ? this.hold(group, args, reply, waitMs) : reply(outcome));
        this.heartbeat(group, args, answer);
        return;
      }
      case 'leaveGroup': {
        const args = input as WorkerRequests['leaveGroup']['args'];
        const group = this.existingGroup(args);
        this.send(group, reply, (requestId) => ({ type: 'LEAVE', requestId, memberId: args.memberId, groupInstanceId: args.groupInstanceId }));
        return;
      }
      case 'commitOffsets':
        this.commit(input as WorkerRequests['commitOffsets']['args']);
        reply({ ok: true, result: null });
        return;
      case 'fetchOffsets': {
        const args = input as WorkerRequests['fetchOffsets']['args'];
        const offsets = this.groups.get(checkGroupId(args))?.offsets ?? new Map<string, CommittedOffset>();
        const result =
          args.partitions === null
            ? [...offsets.values()]
            : args.partitions.flatMap((ref) => {
                const committed = offsets.get(`${ref.topic}/${ref.partition}`);
                return committed === undefined ? [] : [committed];
              });
        reply({ ok: true, result });
        return;
      }
      case 'describeGroup':
        reply({ ok: true, result: this.describe(checkGroupId(input as GroupRef)) });
        return;
      case 'listGroups':
        reply({ ok: true, result: this.list() });
        return;
      case 'deleteGroup': {
        const args = input as GroupRef;
        const group = this.groups.get(checkGroupId(args));
        if (group === undefined) throw new TributaryError('GROUP_ID_NOT_FOUND', `group ${JSON.stringify(args.groupId)} does not exist`, { groupId: args.groupId });
        // Tombstones first, and only for a group the machine will let go: a failed append leaves the group as it was.
        if (group.actor.getSnapshot().value === 'Empty') {
          const tombstones: OffsetsRecord[] = [...group.offsets.values()].map((offset) => ({
            key: encodeOffsetCommitKey({ group: group.id, topic: offset.topic, partition: offset.partition }),
            value: null,
          }));
          tombstones.push({ key: encodeGroupMetadataKey(group.id), value: null });
          this.log.append(tombstones);
        }
        this.send(group, reply, (requestId) => ({ type: 'DELETE', requestId }), () => this.dropGroup(group.id));
        return;
      }
    }
  }

  /**
   * Sends one event to the group's machine and answers `reply` with the response carrying its
   * requestId (now, or when a later event or timer produces it). `onSuccess` runs before a
   * successful answer leaves.
   */
  private send(
    group: Group,
    reply: GroupReply<GroupRequestType>,
    event: (requestId: string) => Parameters<Group['actor']['send']>[0],
    onSuccess?: () => void,
  ): void {
    const requestId = String(this.nextRequestId++);
    group.waiting.set(requestId, (answer) => {
      const error = answer instanceof TributaryError ? answer : responseError(answer);
      if (error !== undefined) {
        reply({ ok: false, error });
        return;
      }
      onSuccess?.();
      reply({ ok: true, result: resultOf(answer as CoordinatorResponse) } as GroupOutcome<GroupRequestType>);
    });
    group.actor.send(event(requestId));
  }

  private heartbeat(group: Group, args: WorkerRequests['heartbeat']['args'], reply: GroupReply<GroupRequestType>): void {
    this.send(group, reply, (requestId) => ({
      type: 'HEARTBEAT',
      requestId,
      memberId: args.memberId,
      groupInstanceId: args.groupInstanceId,
      generationId: args.generationId,
    }));
  }

  private hold(group: Group, args: WorkerRequests['heartbeat']['args'], reply: GroupReply<GroupRequestType>, waitMs: number): void {
    const held: HeldHeartbeat = {
      args,
      reply,
      timer: this.timers.setTimeout(() => {
        if (group.held.delete(held)) reply({ ok: true, result: null });
      }, waitMs),
    };
    group.held.add(held);
  }

  /** The group changed state or generation: each held heartbeat is answered with what it would get now. */
  private releaseHeld(group: Group): void {
    const held = [...group.held];
    group.held.clear();
    for (const heartbeat of held) {
      this.timers.clearTimeout(heartbeat.timer);
      this.heartbeat(group, heartbeat.args, heartbeat.reply);
    }
  }

  private commit(args: WorkerRequests['commitOffsets']['args']): void {
    const groupId = checkGroupId(args);
    const existing = this.groups.get(groupId);
    if (existing !== undefined) validateCommit(existing.actor.getSnapshot(), args);
    else if (args.generationId >= 0) throw new TributaryError('ILLEGAL_GENERATION', `group ${JSON.stringify(groupId)} has no generation ${args.generationId}`, { groupId, generationId: args.generationId });
    const commitTimestamp = this.now();
    const entries = args.offsets.map((entry, i) => checkCommitEntry(entry, i, commitTimestamp));
    // Appended before the in-memory state changes, so a failed append changes nothing.
    this.log.append(
      entries.map((entry) => ({
        key: encodeOffsetCommitKey({ group: groupId, topic: entry.topic, partition: entry.partition }),
        value: encodeOffsetCommitValue({ offset: entry.offset, leaderEpoch: -1, metadata: entry.metadata, commitTimestamp }),
      })),
    );
    const group = existing ?? this.groupFor(groupId);
    for (const entry of entries) group.offsets.set(`${entry.topic}/${entry.partition}`, entry);
  }

  private describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (group === undefined) {
      return { groupId, state: 'Dead', protocolType: '', protocol: '', generationId: -1, leaderId: null, members: [] };
    }
    const snapshot = group.actor.getSnapshot();
    const context = snapshot.context;
    const state = snapshot.value as GroupState;
    const settled = state === 'Stable' || state === 'CompletingRebalance';
    return {
      groupId,
      state,
      protocolType: context.protocolType ?? '',
      protocol: settled ? (context.protocolName ?? '') : '',
      generationId: context.generationId,
      leaderId: context.leaderId,
      members: Object.values(context.members).map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        memberMetadata: member.protocols.find((protocol) => protocol.name === context.protocolName)?.metadata ?? new Uint8Array(0),
        memberAssignment: state === 'Stable' ? (member.assignment ?? new Uint8Array(0)) : new Uint8Array(0),
      })),
    };
  }

  private list(): GroupListing[] {
    return [...this.groups.values()].map((group) => {
      const snapshot = group.actor.getSnapshot();
      return { groupId: group.id, protocolType: snapshot.context.protocolType ?? '', state: snapshot.value as GroupState };
    });
  }

  private existingGroup(ref: GroupRef): Group {
    const groupId = checkGroupId(ref);
    const group = this.groups.get(groupId);
    // Kafka answers a member of a group it does not know with UNKNOWN_MEMBER_ID: the member rejoins.
    if (group === undefined) throw new TributaryError('UNKNOWN_MEMBER_ID', `group ${JSON.stringify(groupId)} has no members`, { groupId });
    return group;
  }

  /** The group, created (Empty) if new; `stored` is what the log already says of a reloaded group. */
  private groupFor(groupId: string, stored: Group['stored'] = null): Group {
    const known = this.groups.get(groupId);
    if (known !== undefined) return known;
    const actor = createActor(this.machine, {
      input: { groupId, generationId: stored?.generationId ?? 0, protocolType: stored?.protocolType ?? null },
      ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
    });
    const group: Group = {
      id: groupId,
      actor,
      offsets: new Map(),
      held: new Set(),
      seen: { state: 'Empty', generationId: stored?.generationId ?? 0 },
      waiting: new Map(),
      stored,
      lastResponses: [],
    };
    actor.subscribe({
      next: (snapshot) => this.onSnapshot(group, snapshot.context, snapshot.value as GroupState),
      // The machine's actions are pure; an error here is a bug, surfaced to every waiting request.
      error: (error) => this.failWaiting(group, asTributaryError(error)),
    });
    actor.start();
    this.groups.set(groupId, group);
    return group;
  }

  /** Routes the responses of the event just processed and records a group that has settled. */
  private onSnapshot(group: Group, context: CoordinatorContext, state: GroupState): void {
    if (context.responses !== group.lastResponses) {
      group.lastResponses = context.responses;
      this.recordSettled(group, context, state);
      for (const response of context.responses) {
        const waiting = response.requestId === null ? undefined : group.waiting.get(response.requestId);
        if (waiting === undefined) continue;
        group.waiting.delete(response.requestId!);
        waiting(response);
      }
    } else {
      this.recordSettled(group, context, state);
    }
    if (state !== group.seen.state || context.generationId !== group.seen.generationId) {
      group.seen = { state, generationId: context.generationId };
      // After this event is processed: the release sends the machine events of its own.
      if (group.held.size > 0) queueMicrotask(() => this.releaseHeld(group));
    }
  }

  /**
   * Kafka stores the group when a generation's assignment is complete and when it becomes Empty.
   * A failed append is not fatal to the group: the record is written again at the next settle.
   */
  private recordSettled(group: Group, context: CoordinatorContext, state: GroupState): void {
    if (state !== 'Stable' && state !== 'Empty') return;
    const members = Object.values(context.members);
    const stored = group.stored;
    if (stored !== null && stored.generationId === context.generationId && stored.members === members.length) return;
    if (stored === null && context.generationId === 0) return;
    const now = this.now();
    try {
      this.log.append([
        {
          key: encodeGroupMetadataKey(group.id),
          value: encodeGroupMetadataValue({
            protocolType: context.protocolType ?? '',
            generation: context.generationId,
            protocol: state === 'Stable' ? context.protocolName : null,
            leader: state === 'Stable' ? context.leaderId : null,
            currentStateTimestamp: now,
            members: members.map((member) => ({
              memberId: member.memberId,
              groupInstanceId: member.groupInstanceId,
              clientId: member.clientId,
              clientHost: '',
              rebalanceTimeout: member.rebalanceTimeoutMs,
              sessionTimeout: member.sessionTimeoutMs,
              subscription: member.protocols.find((protocol) => protocol.name === context.protocolName)?.metadata ?? new Uint8Array(0),
              assignment: member.assignment ?? new Uint8Array(0),
            })),
          }),
        },
      ]);
      group.stored = { generationId: context.generationId, members: members.length, protocolType: context.protocolType };
    } catch {
      // Left unrecorded; `stored` still differs, so the next settle writes it.
    }
  }

  private dropGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    this.groups.delete(groupId);
    this.stopGroup(group);
  }

  private stopGroup(group: Group): void {
    const stopped = new TributaryError('COORDINATOR_NOT_AVAILABLE', `the coordinator of group ${JSON.stringify(group.id)} stopped`, { groupId: group.id });
    for (const heartbeat of group.held) {
      this.timers.clearTimeout(heartbeat.timer);
      heartbeat.reply({ ok: false, error: stopped });
    }
    group.held.clear();
    this.failWaiting(group, stopped);
    (group.actor as AnyActorRef).stop();
  }

  private failWaiting(group: Group, error: TributaryError): void {
    const waiting = [...group.waiting.values()];
    group.waiting.clear();
    for (const answer of waiting) answer(error);
  }
}

/** The result a successful response answers its request with. */
function resultOf(response: CoordinatorResponse): WorkerRequests[GroupRequestType]['result'] {
  switch (response.kind) {
    case 'join': {
      if (response.error !== null) throw new Error('unreachable: failed join');
      const { memberId, generationId, protocolName, leaderId, members, skipAssignment } = response;
      return { memberId, generationId, protocolName, leaderId, members, skipAssignment };
    }
    case 'sync':
      if (response.error !== null) throw new Error('unreachable: failed sync');
      return { assignment: response.assignment };
    default:
      return null;
  }
}

/** Kafka's ClassicGroup.validateOffsetCommit, in its order. */
function validateCommit(
  snapshot: { value: unknown; context: CoordinatorContext },
  args: WorkerRequests['commitOffsets']['args'],
): void {
  const state = snapshot.value as GroupState;
  const { context } = snapshot;
  const details = { groupId: args.groupId, memberId: args.memberId, generationId: args.generationId };
  if (state === 'Dead') throw new TributaryError('COORDINATOR_NOT_AVAILABLE', `group ${JSON.stringify(args.groupId)} is being deleted`, details);
  if (args.generationId < 0 && state === 'Empty') return;
  if (state === 'CompletingRebalance') {
    throw new TributaryError('REBALANCE_IN_PROGRESS', `group ${JSON.stringify(args.groupId)} is completing a rebalance; commit after it settles`, details);
  }
  const member = context.members[args.memberId];
  if (args.groupInstanceId !== null) {
    const owner = Object.values(context.members).find((m) => m.groupInstanceId === args.groupInstanceId);
    if (owner !== undefined && owner.memberId !== args.memberId) {
      throw new TributaryError('FENCED_INSTANCE_ID', `static member ${JSON.stringify(args.groupInstanceId)} was replaced by a newer instance`, details);
    }
  }
  if (member === undefined) throw new TributaryError('UNKNOWN_MEMBER_ID', `member ${JSON.stringify(args.memberId)} is not in group ${JSON.stringify(args.groupId)}`, details);
  if (args.generationId !== context.generationId) {
    throw new TributaryError(
      'ILLEGAL_GENERATION',
      `commit for generation ${args.generationId} of group ${JSON.stringify(args.groupId)}, which is at generation ${context.generationId}`,
      { ...details, currentGenerationId: context.generationId },
    );
  }
}

function checkCommitEntry(entry: WorkerRequests['commitOffsets']['args']['offsets'][number], index: number, commitTimestamp: number): CommittedOffset {
  const where = `offsets[${index}]`;
  if (typeof entry?.topic !== 'string' || entry.topic === '' || !Number.isSafeInteger(entry.partition) || entry.partition < 0) {
    throw new TributaryError('INVALID_REQUEST', `${where} must name a topic and a partition number`, { index });
  }
  if (!Number.isSafeInteger(entry.offset) || entry.offset < 0) {
    throw new TributaryError('INVALID_REQUEST', `${where}.offset must be a non-negative integer, got ${String(entry.offset)}`, { index, offset: String(entry.offset) });
  }
  const metadata = entry.metadata ?? '';
  if (typeof metadata !== 'string') throw new TributaryError('INVALID_REQUEST', `${where}.metadata must be a string or null`, { index });
  if (Buffer.byteLength(metadata) > OFFSET_METADATA_MAX_BYTES) {
    throw new TributaryError('OFFSET_METADATA_TOO_LARGE', `${where}.metadata is ${Buffer.byteLength(metadata)} bytes; at most ${OFFSET_METADATA_MAX_BYTES} are kept`, {
      index,
      bytes: Buffer.byteLength(metadata),
    });
  }
  return { topic: entry.topic, partition: entry.partition, offset: entry.offset, metadata, commitTimestamp };
}

function checkGroupId(ref: GroupRef | PartitionRef): string {
  const groupId = (ref as Partial<GroupRef>).groupId;
  if (typeof groupId !== 'string' || groupId === '') {
    throw new TributaryError('INVALID_GROUP_ID', `a group id must be a non-empty string, got ${JSON.stringify(groupId)}`, { groupId: String(groupId) });
  }
  return groupId;
}

function asTributaryError(error: unknown): TributaryError {
  if (TributaryError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TributaryError('COORDINATOR_NOT_AVAILABLE', `the group coordinator failed: ${message}`, {}, { cause: error });
}
