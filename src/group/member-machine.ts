/**
 * The consumer-group member's state machine (xstate v5): the client half of Kafka's classic
 * group protocol, as `AbstractCoordinator` / `ConsumerCoordinator` run it.
 *
 * States: Unjoined (not started, or backing off after a retriable failure), Joining (a JoinGroup
 * in flight), Syncing (a SyncGroup in flight), Stable (the member owns its assignment and
 * heartbeats), Rebalancing (a rejoin is due: the member is giving up partitions before it sends
 * the JoinGroup), Left (closed or fenced; final).
 *
 * Pure, like the coordinator machine: it sends no requests and owns no clock. Every event
 * *replaces* `context.commands` with what the driver (`GroupMember`) must do next: send a
 * request, hand partitions over, or leave. Answers come back as events carrying the `seq` of the
 * command they answer; an answer whose seq is no longer awaited (a heartbeat from before a
 * rejoin, a join answered after a close) is stale and changes nothing. Time passes only through
 * xstate's scheduler (delayed `raise`), so tests drive the heartbeat and backoff timers with
 * `SimulatedClock`.
 *
 * Kafka's rules, as followed here:
 * - Heartbeats every `heartbeatIntervalMs` after the previous answer, while the member has a
 *   generation and is Syncing, Stable or Rebalancing (Kafka's heartbeat thread is enabled from
 *   COMPLETING_REBALANCE until the member sends its next JoinGroup). Heartbeats continue while
 *   partitions are being revoked, so a slow revocation does not expire the session.
 *   With `heartbeatWaitMs` (tributary's own coordinator, which holds a heartbeat's answer up to
 *   that long and answers at once when the group starts rebalancing), heartbeats start as soon
 *   as the member has a generation and the next follows each successful answer at once: the
 *   member always has one waiting, so it learns of a rebalance immediately instead of at its
 *   next heartbeat. After a failure it waits the interval.
 * - REBALANCE_IN_PROGRESS (heartbeat or commit): rejoin, keeping member id and generation, so
 *   the partitions are revoked (eager) or kept (cooperative). On a JoinGroup or SyncGroup it
 *   means the round moved on: join again at once.
 * - UNKNOWN_MEMBER_ID resets the member id and generation, ILLEGAL_GENERATION the generation:
 *   the partitions are lost (given up without a commit, which would be rejected) and the member
 *   rejoins (as a new member after UNKNOWN_MEMBER_ID).
 * - FENCED_INSTANCE_ID (KIP-345: another process took this static member's instance id) and
 *   errors no retry fixes (INCONSISTENT_GROUP_PROTOCOL, INVALID_GROUP_ID...) are fatal: Left.
 * - Retriable errors (the coordinator's thread restarting, a timeout): a heartbeat is simply
 *   sent again at the next interval; a failed JoinGroup or SyncGroup goes back to Unjoined and
 *   joins again after `retryBackoffMs`.
 * - Leaving (close): partitions are revoked with a final commit, then a dynamic member sends
 *   LeaveGroup; a static member does not (KIP-345), so a restart within the session timeout
 *   takes its assignment back without a rebalance.
 *
 * Partition ownership is the driver's: `prepare` says whether the partitions are revoked
 * (commit first; eager revokes them all, cooperative none) or lost, and `assign` hands over the
 * SyncGroup assignment, from which the driver works out what it gained and lost (cooperative).
 */
import { enqueueActions, setup } from 'xstate';
import { plannedTransitions } from './planned-transitions.js';
import type { ErrorCode } from '../errors.js';
import type { JoinGroupResult } from '../runtime/messages.js';

export type MemberState = 'Unjoined' | 'Joining' | 'Syncing' | 'Stable' | 'Rebalancing' | 'Left';

export const NO_GENERATION = -1;

/** What the driver must do; see the module comment. */
export type MemberCommand =
  | { readonly kind: 'join'; readonly seq: number; readonly memberId: string }
  | { readonly kind: 'sync'; readonly seq: number; readonly memberId: string; readonly generationId: number; readonly join: JoinGroupResult }
  | { readonly kind: 'heartbeat'; readonly seq: number; readonly memberId: string; readonly generationId: number }
  /** The SyncGroup answer of `generationId`: the member now owns this assignment. */
  | { readonly kind: 'assign'; readonly memberId: string; readonly generationId: number; readonly assignment: Uint8Array }
  /**
   * Before a JoinGroup: revoke (commit, then give up what the protocol gives up) or, when `lost`,
   * give up every partition without committing. Answer with PREPARED.
   */
  | { readonly kind: 'prepare'; readonly seq: number; readonly lost: boolean; readonly memberId: string; readonly generationId: number }
  /**
   * Give up every partition (committing first unless `lost`), then send LeaveGroup if
   * `sendLeaveGroup`. `error` is why the member left when it did not choose to (fatal).
   */
  | {
      readonly kind: 'leave';
      readonly memberId: string;
      readonly generationId: number;
      readonly lost: boolean;
      readonly sendLeaveGroup: boolean;
      readonly error: { readonly code: ErrorCode; readonly message: string } | null;
    };

export interface MemberContext {
  readonly groupInstanceId: string | null;
  readonly heartbeatIntervalMs: number;
  /** How long the coordinator may hold a heartbeat (0: answered at once, Kafka's classic protocol). */
  readonly heartbeatWaitMs: number;
  readonly retryBackoffMs: number;
  /** '' until the coordinator gives the member an id. */
  readonly memberId: string;
  /** NO_GENERATION (-1) until a JoinGroup answer, and after ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID. */
  readonly generationId: number;
  /** The seq of the last command sent. */
  readonly seq: number;
  /** The join, sync or prepare whose answer the member waits for. */
  readonly awaiting: number | null;
  /** The heartbeat in flight. */
  readonly heartbeatAwaiting: number | null;
  /** A HEARTBEAT_DUE is scheduled. */
  readonly heartbeatTimer: boolean;
  /** A RETRY is scheduled (Unjoined, after a retriable failure). */
  readonly retryTimer: boolean;
  /** The prepare in flight gives the partitions up as lost. */
  readonly preparingLost: boolean;
  /** A rejoin was asked for while joining or syncing: rejoin once this round completes. */
  readonly rejoinPending: boolean;
  /** Why the member is Left, when it did not choose to leave. */
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  /** What the last event asks the driver to do. */
  readonly commands: readonly MemberCommand[];
}

/** The failure of the command `seq` (join, sync or heartbeat), as a code and whether Kafka would retry it. */
export interface FailedEvent {
  readonly type: 'FAILED';
  readonly seq: number;
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly message: string;
}

export type MemberEvent =
  /** The consumer starts consuming: join the group. */
  | { readonly type: 'START' }
  | { readonly type: 'JOINED'; readonly seq: number; readonly result: JoinGroupResult }
  | { readonly type: 'SYNCED'; readonly seq: number; readonly assignment: Uint8Array }
  | { readonly type: 'HEARTBEAT_OK'; readonly seq: number }
  | FailedEvent
  /** An offset commit sent with this member id and generation failed with `code`. */
  | { readonly type: 'COMMIT_FAILED'; readonly memberId: string; readonly generationId: number; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'PREPARED'; readonly seq: number }
  /** The driver wants a new assignment: the subscription or the topics changed, or cooperative revocation finished. */
  | { readonly type: 'REJOIN' }
  /** The consumer is closing. */
  | { readonly type: 'LEAVE' }
  /** Raised by the machine itself. */
  | { readonly type: 'HEARTBEAT_DUE' }
  | { readonly type: 'RETRY' };

export interface MemberInput {
  readonly groupInstanceId?: string | null;
  readonly heartbeatIntervalMs: number;
  /** See MemberContext.heartbeatWaitMs; default 0. */
  readonly heartbeatWaitMs?: number;
  /** Backoff before joining again after a retriable JoinGroup/SyncGroup failure (Kafka `retry.backoff.ms`). */
  readonly retryBackoffMs: number;
}

const HEARTBEAT_TIMER = 'heartbeat';
const RETRY_TIMER = 'retry';
const HEARTBEAT_STATES: ReadonlySet<MemberState> = new Set(['Syncing', 'Stable', 'Rebalancing']);

// ---------------------------------------------------------------------------------------------
// The decisions, as pure functions of (state, context, event).

interface Outcome {
  readonly next?: MemberState;
  readonly patch?: Partial<Omit<MemberContext, 'commands'>>;
  readonly commands?: readonly MemberCommand[];
}

const STAY: Outcome = {};

function joinNow(ctx: MemberContext, patch: Partial<MemberContext> = {}): Outcome {
  const seq = ctx.seq + 1;
  const memberId = patch.memberId ?? ctx.memberId;
  return { next: 'Joining', patch: { ...patch, seq, awaiting: seq, rejoinPending: false }, commands: [{ kind: 'join', seq, memberId }] };
}

function prepare(ctx: MemberContext, lost: boolean, patch: Partial<MemberContext> = {}, before: readonly MemberCommand[] = []): Outcome {
  const seq = ctx.seq + 1;
  const memberId = patch.memberId ?? ctx.memberId;
  const generationId = patch.generationId ?? ctx.generationId;
  return {
    next: 'Rebalancing',
    patch: { ...patch, seq, awaiting: seq, preparingLost: lost, rejoinPending: false },
    commands: [...before, { kind: 'prepare', seq, lost, memberId, generationId }],
  };
}

function leave(ctx: MemberContext, lost: boolean, error: MemberContext['error']): Outcome {
  return {
    next: 'Left',
    patch: { error, heartbeatAwaiting: null },
    commands: [
      {
        kind: 'leave',
        memberId: ctx.memberId,
        generationId: ctx.generationId,
        lost: lost || ctx.generationId === NO_GENERATION,
        sendLeaveGroup: ctx.groupInstanceId === null && ctx.memberId !== '' && error === null,
        error,
      },
    ],
  };
}

/** Kafka's reaction to a group error on a heartbeat or commit of the current generation. */
function groupError(state: MemberState, ctx: MemberContext, code: ErrorCode, retriable: boolean, message: string): Outcome {
  switch (code) {
    case 'REBALANCE_IN_PROGRESS':
      return state === 'Stable' ? prepare(ctx, false) : STAY;
    case 'UNKNOWN_MEMBER_ID':
    case 'ILLEGAL_GENERATION': {
      const reset = { memberId: code === 'UNKNOWN_MEMBER_ID' ? '' : ctx.memberId, generationId: NO_GENERATION, heartbeatAwaiting: null };
      // While preparing, the prepare in flight finishes first; PREPARED then loses the partitions.
      if (state === 'Rebalancing') return { patch: reset };
      return prepare(ctx, true, reset);
    }
    case 'FENCED_INSTANCE_ID':
      return leave(ctx, true, { code, message });
    default:
      return retriable ? STAY : leave(ctx, true, { code, message });
  }
}

function planFailed(state: MemberState, ctx: MemberContext, event: FailedEvent): Outcome {
  if (event.seq === ctx.heartbeatAwaiting) {
    const after = { ...ctx, heartbeatAwaiting: null };
    const outcome = groupError(state, after, event.code, event.retriable, event.message);
    return { ...outcome, patch: { heartbeatAwaiting: null, ...outcome.patch } };
  }
  if (event.seq !== ctx.awaiting || (state !== 'Joining' && state !== 'Syncing')) return STAY;
  const settled = { ...ctx, awaiting: null };
  switch (event.code) {
    case 'REBALANCE_IN_PROGRESS':
      return joinNow(settled);
    case 'UNKNOWN_MEMBER_ID':
    case 'ILLEGAL_GENERATION':
      return prepare(settled, true, { memberId: event.code === 'UNKNOWN_MEMBER_ID' ? '' : ctx.memberId, generationId: NO_GENERATION });
    case 'FENCED_INSTANCE_ID':
      return leave(settled, true, { code: event.code, message: event.message });
    default:
      if (!event.retriable) return leave(settled, true, { code: event.code, message: event.message });
      return { next: 'Unjoined', patch: { awaiting: null } };
  }
}

function plan(state: MemberState, ctx: MemberContext, event: MemberEvent): Outcome {
  if (state === 'Left') {
    // A JoinGroup answered after the close: the coordinator made a member nobody will heartbeat
    // for, which would hold the group's next rebalance up. Tell it to go.
    if (event.type === 'JOINED' && event.seq === ctx.awaiting && ctx.groupInstanceId === null) {
      const memberId = event.result.memberId;
      return { patch: { awaiting: null }, commands: [{ kind: 'leave', memberId, generationId: event.result.generationId, lost: true, sendLeaveGroup: true, error: null }] };
    }
    return STAY;
  }
  switch (event.type) {
    case 'START':
      return state === 'Unjoined' && !ctx.retryTimer ? joinNow(ctx) : STAY;
    case 'RETRY':
      return state === 'Unjoined' && ctx.retryTimer ? joinNow(ctx, { retryTimer: false }) : STAY;
    case 'JOINED': {
      if (state !== 'Joining' || event.seq !== ctx.awaiting) return STAY;
      const seq = ctx.seq + 1;
      const { memberId, generationId } = event.result;
      return {
        next: 'Syncing',
        patch: { memberId, generationId, seq, awaiting: seq },
        commands: [{ kind: 'sync', seq, memberId, generationId, join: event.result }],
      };
    }
    case 'SYNCED': {
      if (state !== 'Syncing' || event.seq !== ctx.awaiting) return STAY;
      const assign: MemberCommand = { kind: 'assign', memberId: ctx.memberId, generationId: ctx.generationId, assignment: event.assignment };
      if (ctx.rejoinPending) return prepare({ ...ctx, awaiting: null }, false, {}, [assign]);
      return { next: 'Stable', patch: { awaiting: null }, commands: [assign] };
    }
    case 'HEARTBEAT_DUE': {
      if (!HEARTBEAT_STATES.has(state) || ctx.heartbeatAwaiting !== null || ctx.generationId === NO_GENERATION) return { patch: { heartbeatTimer: false } };
      const seq = ctx.seq + 1;
      return {
        patch: { heartbeatTimer: false, seq, heartbeatAwaiting: seq },
        commands: [{ kind: 'heartbeat', seq, memberId: ctx.memberId, generationId: ctx.generationId }],
      };
    }
    case 'HEARTBEAT_OK':
      return event.seq === ctx.heartbeatAwaiting ? { patch: { heartbeatAwaiting: null } } : STAY;
    case 'FAILED':
      return planFailed(state, ctx, event);
    case 'COMMIT_FAILED': {
      if (event.memberId !== ctx.memberId || event.generationId !== ctx.generationId || ctx.generationId === NO_GENERATION) return STAY;
      if (!HEARTBEAT_STATES.has(state)) return STAY;
      // Other commit failures (a bad offset, the coordinator restarting) concern the commit alone.
      return groupError(state, ctx, event.code, true, event.message);
    }
    case 'PREPARED': {
      if (state !== 'Rebalancing' || event.seq !== ctx.awaiting) return STAY;
      const settled = { ...ctx, awaiting: null };
      // The generation was lost while revoking: what the prepare kept is lost too.
      if (ctx.generationId === NO_GENERATION && !ctx.preparingLost) return prepare(settled, true);
      return joinNow(settled, { preparingLost: false });
    }
    case 'REJOIN':
      if (state === 'Stable') return prepare(ctx, false);
      if (state === 'Joining' || state === 'Syncing') return { patch: { rejoinPending: true } };
      return STAY;
    case 'LEAVE':
      return leave(ctx, false, null);
  }
}

// ---------------------------------------------------------------------------------------------

/** Builds the member machine (the same for every member; per-member settings come as input). */
export function createMemberMachine() {
  const STATES: readonly MemberState[] = ['Unjoined', 'Joining', 'Syncing', 'Stable', 'Rebalancing', 'Left'];

  const machine = setup({
    types: {
      context: {} as MemberContext,
      events: {} as MemberEvent,
      input: {} as MemberInput,
    },
    guards: {
      goesTo: ({ context, event }, params: { from: MemberState; to: MemberState }) => (plan(params.from, context, event).next ?? params.from) === params.to,
    },
    actions: {
      apply: enqueueActions(({ context, event, enqueue }, params: { from: MemberState }) => {
        const outcome = plan(params.from, context, event);
        const next = outcome.next ?? params.from;
        const after: MemberContext = { ...context, ...outcome.patch, commands: outcome.commands ?? [] };
        let { heartbeatTimer, retryTimer } = after;
        const beats = HEARTBEAT_STATES.has(next) && after.generationId !== NO_GENERATION;
        if (!beats && heartbeatTimer) {
          enqueue.cancel(HEARTBEAT_TIMER);
          heartbeatTimer = false;
        } else if (beats && !heartbeatTimer && after.heartbeatAwaiting === null) {
          const held = after.heartbeatWaitMs > 0 && event.type !== 'FAILED';
          enqueue.raise({ type: 'HEARTBEAT_DUE' }, { id: HEARTBEAT_TIMER, delay: held ? 0 : after.heartbeatIntervalMs });
          heartbeatTimer = true;
        }
        if (next === 'Unjoined' && params.from !== 'Unjoined') {
          enqueue.raise({ type: 'RETRY' }, { id: RETRY_TIMER, delay: after.retryBackoffMs });
          retryTimer = true;
        } else if (next !== 'Unjoined' && retryTimer) {
          enqueue.cancel(RETRY_TIMER);
          retryTimer = false;
        }
        enqueue.assign({
          ...outcome.patch,
          heartbeatTimer,
          retryTimer,
          heartbeatAwaiting: beats ? after.heartbeatAwaiting : null,
          commands: after.commands,
        });
      }),
    },
  });

  const eventTypes: readonly MemberEvent['type'][] = [
    'START',
    'JOINED',
    'SYNCED',
    'HEARTBEAT_OK',
    'FAILED',
    'COMMIT_FAILED',
    'PREPARED',
    'REJOIN',
    'LEAVE',
    'HEARTBEAT_DUE',
    'RETRY',
  ];
  const handlers = (from: MemberState) => plannedTransitions(STATES, eventTypes, from);

  return machine.createMachine({
    id: 'groupMember',
    initial: 'Unjoined',
    context: ({ input }) => ({
      groupInstanceId: input.groupInstanceId ?? null,
      heartbeatIntervalMs: input.heartbeatIntervalMs,
      heartbeatWaitMs: input.heartbeatWaitMs ?? 0,
      retryBackoffMs: input.retryBackoffMs,
      memberId: '',
      generationId: NO_GENERATION,
      seq: 0,
      awaiting: null,
      heartbeatAwaiting: null,
      heartbeatTimer: false,
      retryTimer: false,
      preparingLost: false,
      rejoinPending: false,
      error: null,
      commands: [],
    }),
    states: {
      Unjoined: { on: handlers('Unjoined') },
      Joining: { on: handlers('Joining') },
      Syncing: { on: handlers('Syncing') },
      Stable: { on: handlers('Stable') },
      Rebalancing: { on: handlers('Rebalancing') },
      Left: { on: handlers('Left') },
    },
  });
}

export type MemberMachine = ReturnType<typeof createMemberMachine>;
