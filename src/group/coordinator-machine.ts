/**
 * The group coordinator's state machine (xstate v5), following Kafka's classic-protocol
 * `GroupMetadata` states: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead.
 *
 * Pure: it owns no sockets, no clock and no randomness. Inputs are events (JOIN, SYNC, HEARTBEAT,
 * LEAVE, DELETE; SESSION_TIMEOUT is raised by the machine itself); time passes only through
 * xstate's scheduler (`after` delays and delayed `raise`), so a test drives it with
 * `SimulatedClock`. Member-id generation and `now()` are injected via `createCoordinatorMachine`.
 *
 * How answers come out: every event (including the machine's own timers) *replaces*
 * `context.responses` with the responses that event produced: zero (a follower's SYNC waits for
 * the leader), one, or many (the last JOIN of a round answers every waiting member). A caller
 * reads `snapshot.context.responses` after each `send` / in `actor.subscribe`, and routes each
 * response by `memberId` / `requestId` (echoed from the request; the only way to match the answer
 * to a JOIN with an empty member id). Errors are `GroupErrorCode`s (TributaryError codes with
 * Kafka codes); `responseError()` turns one into a `TributaryError`. Responses are plain data, so
 * snapshots stay serialisable.
 *
 * Timers:
 * - session: one delayed `SESSION_TIMEOUT` per member (id `session:<memberId>`), cancelled and
 *   re-raised on every accepted JOIN / SYNC / HEARTBEAT. A member waiting in a JOIN or SYNC
 *   barrier is kept alive, as in Kafka (`shouldKeepAlive`); the rebalance timeout bounds it.
 * - PreparingRebalance `after` the largest member rebalance timeout: members that did not rejoin
 *   are removed, and the join completes with those that did.
 * - CompletingRebalance `after` the largest rebalance timeout: members that never sent SYNC
 *   (so the leader, if nobody got an assignment) are removed and the group rebalances again
 *   (Kafka's pending-sync timeout).
 *
 * Deliberate deviations / not modelled: no `group.initial.rebalance.delay.ms` (the first join
 * completes at once), no MEMBER_ID_REQUIRED handshake (KIP-394: a new member gets its id in
 * the JOIN response directly), no max group size, no offsets. A HEARTBEAT in
 * CompletingRebalance answers NONE (current Kafka; 2.x answered REBALANCE_IN_PROGRESS).
 */
import { randomUUID } from 'node:crypto';
import { enqueueActions, setup } from 'xstate';
import { plannedTransitions } from './planned-transitions.js';
import { TributaryError, type ErrorCode } from '../errors.js';
import type { GroupProtocol, GroupStateName, JoinGroupMember } from '../runtime/messages.js';

export type { GroupProtocol, JoinGroupMember };

export type GroupState = GroupStateName;

export type GroupErrorCode = Extract<
  ErrorCode,
  | 'UNKNOWN_MEMBER_ID'
  | 'ILLEGAL_GENERATION'
  | 'REBALANCE_IN_PROGRESS'
  | 'FENCED_INSTANCE_ID'
  | 'COORDINATOR_NOT_AVAILABLE'
  | 'INCONSISTENT_GROUP_PROTOCOL'
  | 'NON_EMPTY_GROUP'
>;


export interface GroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly protocols: readonly GroupProtocol[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  /** `now()` at the last accepted JOIN / SYNC / HEARTBEAT. */
  readonly lastHeartbeatMs: number;
  /** Has sent JOIN during the current PreparingRebalance (Kafka `isAwaitingJoin`); false in every other state. */
  readonly joinedThisRound: boolean;
  /** Has sent SYNC for the current generation (meaningful in CompletingRebalance). */
  readonly synced: boolean;
  /** The assignment of the current generation; null until the leader's SYNC. Non-null for all in Stable. */
  readonly assignment: Uint8Array | null;
  /** requestId of a JOIN / SYNC that waits for an answer. */
  readonly pendingJoinRequestId: string | null;
  readonly pendingSyncRequestId: string | null;
}

export interface CoordinatorContext {
  readonly groupId: string;
  readonly protocolType: string | null;
  readonly generationId: number;
  readonly leaderId: string | null;
  readonly protocolName: string | null;
  /** Members by id; insertion order is join order. */
  readonly members: Readonly<Record<string, GroupMember>>;
  /** The responses produced by the last event processed (see the module comment). */
  readonly responses: readonly CoordinatorResponse[];
}

export type CoordinatorResponse =
  | {
      readonly kind: 'join';
      readonly requestId: string | null;
      readonly memberId: string;
      readonly error: null;
      readonly generationId: number;
      readonly protocolName: string;
      readonly leaderId: string;
      /** The members and their metadata for the chosen protocol: only for the leader, else empty. */
      readonly members: readonly JoinGroupMember[];
      /** KIP-814: a static leader rejoining a Stable group must not compute a new assignment. */
      readonly skipAssignment: boolean;
    }
  | { readonly kind: 'sync'; readonly requestId: string | null; readonly memberId: string; readonly error: null; readonly assignment: Uint8Array }
  | { readonly kind: 'heartbeat' | 'leave' | 'delete'; readonly requestId: string | null; readonly memberId: string; readonly error: null }
  | {
      readonly kind: 'join' | 'sync' | 'heartbeat' | 'leave' | 'delete';
      readonly requestId: string | null;
      readonly memberId: string;
      readonly error: GroupErrorCode;
    };

export interface JoinEvent {
  readonly type: 'JOIN';
  readonly requestId?: string;
  /** '' for a new member. */
  readonly memberId: string;
  readonly groupInstanceId?: string | null;
  readonly clientId: string;
  readonly protocolType: string;
  readonly protocols: readonly GroupProtocol[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
}
export interface SyncEvent {
  readonly type: 'SYNC';
  readonly requestId?: string;
  readonly memberId: string;
  readonly groupInstanceId?: string | null;
  readonly generationId: number;
  /** The leader's assignments; ignored from followers. Members left out get an empty assignment. */
  readonly assignments?: Readonly<Record<string, Uint8Array>>;
}
export interface HeartbeatEvent {
  readonly type: 'HEARTBEAT';
  readonly requestId?: string;
  readonly memberId: string;
  readonly groupInstanceId?: string | null;
  readonly generationId: number;
}
export interface LeaveEvent {
  readonly type: 'LEAVE';
  readonly requestId?: string;
  readonly memberId: string;
  readonly groupInstanceId?: string | null;
}
export interface DeleteEvent {
  readonly type: 'DELETE';
  readonly requestId?: string;
}
/** Raised by the machine itself, `sessionTimeoutMs` after a member was last heard from. */
export interface SessionTimeoutEvent {
  readonly type: 'SESSION_TIMEOUT';
  readonly memberId: string;
}
export type CoordinatorEvent = JoinEvent | SyncEvent | HeartbeatEvent | LeaveEvent | DeleteEvent | SessionTimeoutEvent;

export interface CoordinatorMachineOptions {
  /** Kafka's `clientId + "-" + UUID` by default. */
  readonly newMemberId?: (clientId: string) => string;
  /** Clock for `lastHeartbeatMs`; `Date.now` by default (pass `() => clock.now()` with SimulatedClock). */
  readonly now?: () => number;
}

const EMPTY_ASSIGNMENT = new Uint8Array(0);

/** The TributaryError for a failed response; undefined for a success. */
export function responseError(response: CoordinatorResponse): TributaryError | undefined {
  if (response.error === null) return undefined;
  return new TributaryError(response.error, `group ${response.kind} failed for member ${JSON.stringify(response.memberId)}`, {
    memberId: response.memberId,
  });
}

// ---------------------------------------------------------------------------------------------
// Kafka's decisions as pure functions of (state, context, event). Each returns an Outcome; the
// machine uses `next` to pick the target and applies the rest.

interface Outcome {
  readonly patch?: Partial<Omit<CoordinatorContext, 'responses'>>;
  readonly responses: readonly CoordinatorResponse[];
  /** Members whose session timer restarts. */
  readonly touch?: readonly string[];
  /** Members whose session timer is cancelled (removed). */
  readonly cancel?: readonly string[];
  /** Target state; undefined stays (no re-entry, so `after` timers keep running). */
  readonly next?: GroupState;
}

interface Deps {
  readonly newMemberId: (clientId: string) => string;
  readonly now: () => number;
}

const fail = (kind: CoordinatorResponse['kind'], event: { requestId?: string; memberId?: string }, error: GroupErrorCode): Outcome => ({
  responses: [{ kind, requestId: event.requestId ?? null, memberId: event.memberId ?? '', error }],
});

const memberList = (ctx: CoordinatorContext): GroupMember[] => Object.values(ctx.members);

function staticOwner(ctx: CoordinatorContext, groupInstanceId: string | null | undefined): GroupMember | undefined {
  if (groupInstanceId == null) return undefined;
  return memberList(ctx).find((m) => m.groupInstanceId === groupInstanceId);
}

/** UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID for a request naming an existing member, as Kafka orders them. */
function memberError(ctx: CoordinatorContext, memberId: string, groupInstanceId: string | null | undefined): GroupErrorCode | null {
  const owner = staticOwner(ctx, groupInstanceId);
  if (owner !== undefined && owner.memberId !== memberId) return 'FENCED_INSTANCE_ID';
  if (ctx.members[memberId] === undefined) return 'UNKNOWN_MEMBER_ID';
  return null;
}

/** The protocols every member supports, in the first member's order of preference. */
function candidateProtocols(members: readonly GroupMember[]): string[] {
  if (members.length === 0) return [];
  return members[0].protocols.map((p) => p.name).filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
}

function supportsProtocols(ctx: CoordinatorContext, event: JoinEvent): boolean {
  if (event.protocolType === '' || event.protocols.length === 0) return false;
  const members = memberList(ctx);
  if (members.length === 0) return true;
  if (event.protocolType !== ctx.protocolType) return false;
  const candidates = candidateProtocols(members);
  return event.protocols.some((p) => candidates.includes(p.name));
}

/** Kafka's vote: each member votes for its most preferred candidate; most votes wins (ties: first candidate). */
function selectProtocol(members: readonly GroupMember[]): string {
  const candidates = candidateProtocols(members);
  const votes = new Map(candidates.map((c) => [c, 0]));
  for (const m of members) {
    const choice = m.protocols.find((p) => votes.has(p.name))!.name;
    votes.set(choice, votes.get(choice)! + 1);
  }
  let best = candidates[0];
  for (const c of candidates) if (votes.get(c)! > votes.get(best)!) best = c;
  return best;
}

const sameProtocols = (a: readonly GroupProtocol[], b: readonly GroupProtocol[]): boolean =>
  a.length === b.length &&
  a.every((p, i) => p.name === b[i].name && p.metadata.length === b[i].metadata.length && p.metadata.every((x, j) => x === b[i].metadata[j]));

function withMembers(ctx: CoordinatorContext, update: (members: Record<string, GroupMember>) => void): Record<string, GroupMember> {
  const members = { ...ctx.members };
  update(members);
  return members;
}

/** The JOIN answer of the current generation, as sent at join completion (or resent). */
function joinAnswer(ctx: CoordinatorContext, member: GroupMember, requestId: string | null, skipAssignment = false): CoordinatorResponse {
  const isLeader = member.memberId === ctx.leaderId;
  return {
    kind: 'join',
    requestId,
    memberId: member.memberId,
    error: null,
    generationId: ctx.generationId,
    protocolName: ctx.protocolName!,
    leaderId: ctx.leaderId!,
    members: isLeader
      ? memberList(ctx).map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          metadata: m.protocols.find((p) => p.name === ctx.protocolName)!.metadata,
        }))
      : [],
    skipAssignment,
  };
}

/** Leaving Stable / CompletingRebalance for PreparingRebalance: waiting SYNCs get REBALANCE_IN_PROGRESS. */
function prepareRebalance(members: Record<string, GroupMember>, responses: CoordinatorResponse[]): void {
  for (const m of Object.values(members)) {
    if (m.pendingSyncRequestId !== null || (m.synced && m.assignment === null)) {
      responses.push({ kind: 'sync', requestId: m.pendingSyncRequestId, memberId: m.memberId, error: 'REBALANCE_IN_PROGRESS' });
    }
    members[m.memberId] = { ...m, synced: false, pendingSyncRequestId: null, };
  }
}

function planJoin(state: GroupState, ctx: CoordinatorContext, event: JoinEvent, deps: Deps): Outcome {
  if (state === 'Dead') return fail('join', event, 'COORDINATOR_NOT_AVAILABLE');
  if (!supportsProtocols(ctx, event)) return fail('join', event, 'INCONSISTENT_GROUP_PROTOCOL');
  const requestId = event.requestId ?? null;
  const now = deps.now();
  const groupInstanceId = event.groupInstanceId ?? null;
  const fresh = (memberId: string): GroupMember => ({
    memberId,
    groupInstanceId,
    clientId: event.clientId,
    protocols: event.protocols,
    sessionTimeoutMs: event.sessionTimeoutMs,
    rebalanceTimeoutMs: event.rebalanceTimeoutMs,
    lastHeartbeatMs: now,
    joinedThisRound: true,
    synced: false,
    assignment: null,
    pendingJoinRequestId: requestId,
    pendingSyncRequestId: null,
  });
  const responses: CoordinatorResponse[] = [];
  const patch = { protocolType: event.protocolType };
  const rebalanceFrom = (members: Record<string, GroupMember>): GroupState | undefined => {
    if (state === 'PreparingRebalance') return undefined;
    if (state !== 'Empty') prepareRebalance(members, responses);
    return 'PreparingRebalance';
  };

  if (event.memberId === '') {
    const newId = deps.newMemberId(event.clientId);
    const previous = staticOwner(ctx, groupInstanceId);
    if (previous === undefined) {
      // A new member (dynamic, or static with an unknown instance id): it joins and a rebalance starts.
      let next: GroupState | undefined;
      const members = withMembers(ctx, (ms) => {
        ms[newId] = fresh(newId);
        next = rebalanceFrom(ms);
      });
      return { patch: { ...patch, members }, responses, touch: [newId], next };
    }
    // KIP-345: a known static member restarts. The new id replaces the old one; the old id is fenced.
    if (previous.pendingJoinRequestId !== null) {
      responses.push({ kind: 'join', requestId: previous.pendingJoinRequestId, memberId: previous.memberId, error: 'FENCED_INSTANCE_ID' });
    }
    if (previous.pendingSyncRequestId !== null) {
      responses.push({ kind: 'sync', requestId: previous.pendingSyncRequestId, memberId: previous.memberId, error: 'FENCED_INSTANCE_ID' });
    }
    const leaderId = ctx.leaderId === previous.memberId ? newId : ctx.leaderId;
    const replaced: GroupMember = { ...fresh(newId), assignment: previous.assignment, synced: previous.synced };
    const replace = (ms: Record<string, GroupMember>, member: GroupMember): void => {
      // Keep the join order: rebuild with the new id in the old one's place.
      const entries = Object.entries(ms).map(([id, m]): [string, GroupMember] => (id === previous.memberId ? [newId, member] : [id, m]));
      for (const id of Object.keys(ms)) delete ms[id];
      for (const [id, m] of entries) ms[id] = m;
    };
    const kept = withMembers(ctx, (ms) => replace(ms, { ...replaced, joinedThisRound: false, pendingJoinRequestId: null }));
    // Kafka's updateStaticMemberAndRebalance: no rebalance unless the protocol the group would select changes. The
    // metadata may differ (a restarted consumer no longer lists the partitions it owned), so it is not compared.
    if (state === 'Stable' && selectProtocol(Object.values(kept)) === ctx.protocolName) {
      // No rebalance: the restarted member takes over the old one's assignment.
      const members = kept;
      const after = { ...ctx, leaderId, members };
      responses.push(joinAnswer(after, members[newId], requestId, newId === leaderId));
      return { patch: { ...patch, leaderId, members }, responses, touch: [newId], cancel: [previous.memberId] };
    }
    let next: GroupState | undefined;
    const members = withMembers(ctx, (ms) => {
      replace(ms, replaced);
      next = rebalanceFrom(ms);
    });
    return { patch: { ...patch, leaderId, members }, responses, touch: [newId], cancel: [previous.memberId], next };
  }

  // An existing member rejoins.
  const error = memberError(ctx, event.memberId, groupInstanceId);
  if (error !== null) return fail('join', event, error);
  const member = ctx.members[event.memberId];
  const unchanged = sameProtocols(member.protocols, event.protocols);
  const answerNow =
    (state === 'CompletingRebalance' && unchanged) || (state === 'Stable' && unchanged && member.memberId !== ctx.leaderId);
  if (answerNow) {
    const members = withMembers(ctx, (ms) => {
      ms[member.memberId] = { ...member, lastHeartbeatMs: now };
    });
    return { patch: { members }, responses: [joinAnswer(ctx, member, requestId)], touch: [member.memberId] };
  }
  let next: GroupState | undefined;
  const members = withMembers(ctx, (ms) => {
    next = rebalanceFrom(ms);
    ms[member.memberId] = {
      ...ms[member.memberId],
      protocols: event.protocols,
      sessionTimeoutMs: event.sessionTimeoutMs,
      rebalanceTimeoutMs: event.rebalanceTimeoutMs,
      lastHeartbeatMs: now,
      joinedThisRound: true,
      pendingJoinRequestId: requestId,
    };
  });
  return { patch: { ...patch, members }, responses, touch: [member.memberId], next };
}

function planSync(state: GroupState, ctx: CoordinatorContext, event: SyncEvent, deps: Deps): Outcome {
  if (state === 'Dead') return fail('sync', event, 'COORDINATOR_NOT_AVAILABLE');
  const error = memberError(ctx, event.memberId, event.groupInstanceId);
  if (error !== null) return fail('sync', event, error);
  if (event.generationId !== ctx.generationId) return fail('sync', event, 'ILLEGAL_GENERATION');
  if (state === 'PreparingRebalance') return fail('sync', event, 'REBALANCE_IN_PROGRESS');
  const requestId = event.requestId ?? null;
  const member = ctx.members[event.memberId];
  const now = deps.now();
  if (state === 'Stable') {
    const members = withMembers(ctx, (ms) => {
      ms[member.memberId] = { ...member, lastHeartbeatMs: now };
    });
    return {
      patch: { members },
      responses: [{ kind: 'sync', requestId, memberId: member.memberId, error: null, assignment: member.assignment ?? EMPTY_ASSIGNMENT }],
      touch: [member.memberId],
    };
  }
  // CompletingRebalance: followers wait for the leader; the leader's SYNC answers everyone waiting.
  if (member.memberId !== ctx.leaderId) {
    const members = withMembers(ctx, (ms) => {
      ms[member.memberId] = { ...member, lastHeartbeatMs: now, synced: true, pendingSyncRequestId: requestId };
    });
    return { patch: { members }, responses: [], touch: [member.memberId] };
  }
  const responses: CoordinatorResponse[] = [];
  const members = withMembers(ctx, (ms) => {
    for (const m of Object.values(ms)) {
      const assignment = event.assignments?.[m.memberId] ?? EMPTY_ASSIGNMENT;
      const isLeader = m.memberId === member.memberId;
      if (isLeader || m.synced) {
        responses.push({ kind: 'sync', requestId: isLeader ? requestId : m.pendingSyncRequestId, memberId: m.memberId, error: null, assignment });
      }
      ms[m.memberId] = {
        ...m,
        assignment,
        synced: m.synced || isLeader,
        pendingSyncRequestId: null,
        lastHeartbeatMs: isLeader ? now : m.lastHeartbeatMs,
      };
    }
  });
  return { patch: { members }, responses, touch: [member.memberId], next: 'Stable' };
}

function planHeartbeat(state: GroupState, ctx: CoordinatorContext, event: HeartbeatEvent, deps: Deps): Outcome {
  if (state === 'Dead') return fail('heartbeat', event, 'COORDINATOR_NOT_AVAILABLE');
  const error = memberError(ctx, event.memberId, event.groupInstanceId);
  if (error !== null) return fail('heartbeat', event, error);
  if (event.generationId !== ctx.generationId) return fail('heartbeat', event, 'ILLEGAL_GENERATION');
  const members = withMembers(ctx, (ms) => {
    ms[event.memberId] = { ...ms[event.memberId], lastHeartbeatMs: deps.now() };
  });
  const touched = { patch: { members }, touch: [event.memberId] };
  if (state === 'PreparingRebalance') return { ...touched, ...fail('heartbeat', event, 'REBALANCE_IN_PROGRESS') };
  return { ...touched, responses: [{ kind: 'heartbeat', requestId: event.requestId ?? null, memberId: event.memberId, error: null }] };
}

/** Removes members; from Stable / CompletingRebalance that starts a rebalance. */
function removeMembers(state: GroupState, ctx: CoordinatorContext, ids: readonly string[], responses: CoordinatorResponse[]): Outcome {
  let next: GroupState | undefined;
  const members = withMembers(ctx, (ms) => {
    for (const id of ids) delete ms[id];
    if (state === 'Stable' || state === 'CompletingRebalance') {
      prepareRebalance(ms, responses);
      next = 'PreparingRebalance';
    }
  });
  return { patch: { members }, responses, cancel: ids, next };
}

function planLeave(state: GroupState, ctx: CoordinatorContext, event: LeaveEvent): Outcome {
  if (state === 'Dead') return fail('leave', event, 'COORDINATOR_NOT_AVAILABLE');
  const error = memberError(ctx, event.memberId, event.groupInstanceId);
  if (error !== null) return fail('leave', event, error);
  return removeMembers(state, ctx, [event.memberId], [
    { kind: 'leave', requestId: event.requestId ?? null, memberId: event.memberId, error: null },
  ]);
}

function planSessionTimeout(state: GroupState, ctx: CoordinatorContext, event: SessionTimeoutEvent): Outcome {
  const member = ctx.members[event.memberId];
  if (member === undefined) return { responses: [] };
  // Kafka's shouldKeepAlive: a member inside a JOIN or SYNC barrier is not expired by its session.
  const keepAlive =
    (state === 'PreparingRebalance' && member.joinedThisRound) || (state === 'CompletingRebalance' && member.synced);
  if (keepAlive) return { responses: [], touch: [member.memberId] };
  return removeMembers(state, ctx, [member.memberId], []);
}

function planDelete(state: GroupState, event: DeleteEvent): Outcome {
  const base = { kind: 'delete', requestId: event.requestId ?? null, memberId: '' } as const;
  if (state === 'Empty') return { responses: [{ ...base, error: null }], next: 'Dead' };
  return { responses: [{ ...base, error: state === 'Dead' ? 'COORDINATOR_NOT_AVAILABLE' : 'NON_EMPTY_GROUP' }] };
}

function plan(state: GroupState, ctx: CoordinatorContext, event: CoordinatorEvent, deps: Deps): Outcome {
  switch (event.type) {
    case 'JOIN':
      return planJoin(state, ctx, event, deps);
    case 'SYNC':
      return planSync(state, ctx, event, deps);
    case 'HEARTBEAT':
      return planHeartbeat(state, ctx, event, deps);
    case 'LEAVE':
      return planLeave(state, ctx, event);
    case 'SESSION_TIMEOUT':
      return planSessionTimeout(state, ctx, event);
    case 'DELETE':
      return planDelete(state, event);
  }
}

/** The join barrier is complete once every member has joined this round. */
const allJoined = (ctx: CoordinatorContext): boolean => memberList(ctx).every((m) => m.joinedThisRound);

/** Kafka's onCompleteJoin / initNextGeneration: next generation, protocol, leader, JOIN answers. */
function completeJoin(ctx: CoordinatorContext): { patch: Partial<CoordinatorContext>; responses: CoordinatorResponse[] } {
  const members = memberList(ctx);
  const generationId = ctx.generationId + 1;
  if (members.length === 0) {
    // As Kafka's initNextGeneration: an emptied group keeps its protocol type (it is still a consumer group).
    return { patch: { generationId, protocolName: null, leaderId: null }, responses: [] };
  }
  const leaderId = ctx.leaderId !== null && ctx.members[ctx.leaderId] !== undefined ? ctx.leaderId : members[0].memberId;
  const next: Record<string, GroupMember> = {};
  for (const m of members) next[m.memberId] = { ...m, joinedThisRound: false, synced: false, assignment: null, pendingJoinRequestId: null };
  const after: CoordinatorContext = { ...ctx, generationId, leaderId, protocolName: selectProtocol(members), members: next };
  const responses = members.map((m) => joinAnswer(after, next[m.memberId], m.pendingJoinRequestId));
  return { patch: { generationId, leaderId, protocolName: after.protocolName, members: next }, responses };
}

const maxRebalanceTimeout = (ctx: CoordinatorContext): number => Math.max(0, ...memberList(ctx).map((m) => m.rebalanceTimeoutMs));

const sessionTimerId = (memberId: string): string => `session:${memberId}`;

// ---------------------------------------------------------------------------------------------

/** Builds the coordinator machine; `options` inject member-id generation and the clock. */
export function createCoordinatorMachine(options: CoordinatorMachineOptions = {}) {
  const deps: Deps = {
    newMemberId: options.newMemberId ?? ((clientId) => `${clientId}-${randomUUID()}`),
    now: options.now ?? Date.now,
  };
  // Guards only need the target; they plan with a throwaway id so the injected generator runs once, in the action.
  const dryDeps: Deps = { newMemberId: () => '\u0000dry-run', now: deps.now };

  const STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

  const machine = setup({
    types: {
      context: {} as CoordinatorContext,
      events: {} as CoordinatorEvent,
      /** `generationId` and `protocolType`: what a group reloaded from `__consumer_offsets` had (default 0 and none). */
      input: {} as { groupId: string; generationId?: number; protocolType?: string | null },
    },
    guards: {
      goesTo: ({ context, event }, params: { from: GroupState; to: GroupState }) =>
        plan(params.from, context, event, dryDeps).next === params.to,
      allJoinedEmpty: ({ context }) => allJoined(context) && Object.keys(context.members).length === 0,
      allJoined: ({ context }) => allJoined(context),
    },
    delays: {
      rebalanceTimeout: ({ context }) => maxRebalanceTimeout(context),
    },
    actions: {
      apply: enqueueActions(({ context, event, enqueue }, params: { from: GroupState }) => {
        const outcome = plan(params.from, context, event, deps);
        enqueue.assign({ ...outcome.patch, responses: outcome.responses });
        for (const id of outcome.cancel ?? []) enqueue.cancel(sessionTimerId(id));
        const members = { ...context.members, ...outcome.patch?.members };
        for (const id of outcome.touch ?? []) {
          const member = members[id];
          if (member === undefined) continue;
          enqueue.cancel(sessionTimerId(id));
          enqueue.raise({ type: 'SESSION_TIMEOUT', memberId: id }, { id: sessionTimerId(id), delay: member.sessionTimeoutMs });
        }
      }),
      completeJoin: enqueueActions(({ context, enqueue }) => {
        const { patch, responses } = completeJoin(context);
        // Appends: the event that completed the barrier may have produced responses of its own.
        enqueue.assign({ ...patch, responses: [...context.responses, ...responses] });
        for (const member of Object.values(patch.members ?? {})) {
          enqueue.cancel(sessionTimerId(member.memberId));
          enqueue.raise({ type: 'SESSION_TIMEOUT', memberId: member.memberId }, { id: sessionTimerId(member.memberId), delay: member.sessionTimeoutMs });
        }
      }),
      removeUnjoined: enqueueActions(({ context, enqueue }) => {
        const gone = Object.values(context.members).filter((m) => !m.joinedThisRound).map((m) => m.memberId);
        const members = withMembers(context, (ms) => {
          for (const id of gone) delete ms[id];
        });
        enqueue.assign({ members, responses: [] });
        for (const id of gone) enqueue.cancel(sessionTimerId(id));
      }),
      expirePendingSync: enqueueActions(({ context, enqueue }) => {
        const gone = Object.values(context.members).filter((m) => !m.synced).map((m) => m.memberId);
        const outcome = removeMembers('CompletingRebalance', context, gone, []);
        enqueue.assign({ ...outcome.patch, responses: outcome.responses });
        for (const id of gone) enqueue.cancel(sessionTimerId(id));
      }),
    },
  });

  const eventTypes = ['JOIN', 'SYNC', 'HEARTBEAT', 'LEAVE', 'SESSION_TIMEOUT', 'DELETE'] as const;
  const handlers = (from: GroupState) => plannedTransitions(STATES, eventTypes, from);

  return machine.createMachine({
    id: 'groupCoordinator',
    initial: 'Empty',
    context: ({ input }) => ({
      groupId: input.groupId,
      protocolType: input.protocolType ?? null,
      generationId: input.generationId ?? 0,
      leaderId: null,
      protocolName: null,
      members: {},
      responses: [],
    }),
    states: {
      Empty: { on: handlers('Empty') },
      PreparingRebalance: {
        always: [
          { guard: 'allJoinedEmpty', target: 'Empty', actions: 'completeJoin' },
          { guard: 'allJoined', target: 'CompletingRebalance', actions: 'completeJoin' },
        ],
        after: { rebalanceTimeout: { actions: 'removeUnjoined' } },
        on: handlers('PreparingRebalance'),
      },
      CompletingRebalance: {
        after: { rebalanceTimeout: { target: 'PreparingRebalance', actions: 'expirePendingSync' } },
        on: handlers('CompletingRebalance'),
      },
      Stable: { on: handlers('Stable') },
      Dead: { on: handlers('Dead') },
    },
  });
}

export type CoordinatorMachine = ReturnType<typeof createCoordinatorMachine>;
