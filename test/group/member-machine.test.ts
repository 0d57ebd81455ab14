import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import { createActor, SimulatedClock, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { createMemberMachine, NO_GENERATION, type MemberCommand, type MemberContext, type MemberEvent, type MemberState } from '../../src/group/member-machine.js';
import type { JoinGroupResult } from '../../src/runtime/messages.js';

const HEARTBEAT = 3_000;
const BACKOFF = 100;

function joinResult(memberId: string, generationId: number, leader = true): JoinGroupResult {
  return {
    memberId,
    generationId,
    protocolName: 'range',
    leaderId: leader ? memberId : 'someone-else',
    members: leader ? [{ memberId, groupInstanceId: null, metadata: new Uint8Array([1]) }] : [],
    skipAssignment: false,
  };
}

const failed = (seq: number, code: ErrorCode, retriable = false): MemberEvent => ({ type: 'FAILED', seq, code, retriable, message: code });

function harness(groupInstanceId: string | null = null, heartbeatWaitMs = 0) {
  const clock = new SimulatedClock();
  const actor = createActor(createMemberMachine(), { input: { groupInstanceId, heartbeatIntervalMs: HEARTBEAT, heartbeatWaitMs, retryBackoffMs: BACKOFF }, clock }).start();
  const log: MemberCommand[] = [];
  actor.subscribe((s) => log.push(...s.context.commands));
  const ctx = (): MemberContext => actor.getSnapshot().context;
  const state = (): MemberState => actor.getSnapshot().value as MemberState;
  const send = (event: MemberEvent): MemberCommand[] => {
    const before = log.length;
    actor.send(event);
    return log.slice(before);
  };
  /** Joins and syncs as `memberId` in `generationId`; returns the assign command. */
  const toStable = (memberId = 'm-1', generationId = 1): MemberCommand => {
    const [join] = state() === 'Joining' ? [{ kind: 'join', seq: ctx().awaiting! } as MemberCommand] : send({ type: 'START' });
    expect(join).toMatchObject({ kind: 'join' });
    const [sync] = send({ type: 'JOINED', seq: (join as { seq: number }).seq, result: joinResult(memberId, generationId) });
    expect(sync).toMatchObject({ kind: 'sync', memberId, generationId });
    const [assign] = send({ type: 'SYNCED', seq: (sync as { seq: number }).seq, assignment: new Uint8Array([7]) });
    expect(state()).toBe('Stable');
    return assign;
  };
  /** Advances the clock to the next heartbeat and returns its command. */
  const nextHeartbeat = (): Extract<MemberCommand, { kind: 'heartbeat' }> => {
    const before = log.length;
    clock.increment(HEARTBEAT);
    const sent = log.slice(before).filter((c) => c.kind === 'heartbeat');
    expect(sent).toHaveLength(1);
    return sent[0] as Extract<MemberCommand, { kind: 'heartbeat' }>;
  };
  return { clock, actor, log, ctx, state, send, toStable, nextHeartbeat };
}

describe('group member machine: scenarios (simulated clock)', () => {
  it('joins, syncs and heartbeats every interval after the previous answer', () => {
    const h = harness();
    const assign = h.toStable();
    expect(assign).toMatchObject({ kind: 'assign', memberId: 'm-1', generationId: 1, assignment: new Uint8Array([7]) });
    // The timer started in Syncing; the sync answer arrived at t=0, so the first heartbeat is at 3 s.
    h.clock.increment(HEARTBEAT - 1);
    expect(h.log.filter((c) => c.kind === 'heartbeat')).toHaveLength(0);
    h.clock.increment(1);
    const first = h.log.filter((c) => c.kind === 'heartbeat');
    expect(first).toEqual([{ kind: 'heartbeat', seq: expect.any(Number), memberId: 'm-1', generationId: 1 }]);
    // No answer yet: no second heartbeat, however long it takes.
    h.clock.increment(10 * HEARTBEAT);
    expect(h.log.filter((c) => c.kind === 'heartbeat')).toHaveLength(1);
    h.clock.increment(500);
    h.send({ type: 'HEARTBEAT_OK', seq: (first[0] as { seq: number }).seq });
    h.clock.increment(HEARTBEAT - 1);
    expect(h.log.filter((c) => c.kind === 'heartbeat')).toHaveLength(1);
    h.clock.increment(1);
    expect(h.log.filter((c) => c.kind === 'heartbeat')).toHaveLength(2);
  });

  it('with a holding coordinator (heartbeatWaitMs), keeps one heartbeat waiting: the next goes out as the last is answered, but waits the interval after a failure', () => {
    const h = harness(null, HEARTBEAT);
    h.toStable();
    h.clock.increment(0);
    const beats = () => h.log.filter((c): c is Extract<MemberCommand, { kind: 'heartbeat' }> => c.kind === 'heartbeat');
    expect(beats()).toHaveLength(1);
    h.send({ type: 'HEARTBEAT_OK', seq: beats()[0].seq });
    h.clock.increment(0);
    expect(beats()).toHaveLength(2);
    h.send(failed(beats()[1].seq, 'REQUEST_TIMED_OUT', true));
    h.clock.increment(HEARTBEAT - 1);
    expect(beats()).toHaveLength(2);
    h.clock.increment(1);
    expect(beats()).toHaveLength(3);
  });

  it('REBALANCE_IN_PROGRESS on a heartbeat: revoke (not lost), keep heartbeating while revoking, then rejoin with the same member id', () => {
    const h = harness();
    h.toStable();
    const beat = h.nextHeartbeat();
    const [prepare] = h.send(failed(beat.seq, 'REBALANCE_IN_PROGRESS'));
    expect(h.state()).toBe('Rebalancing');
    expect(prepare).toMatchObject({ kind: 'prepare', lost: false, memberId: 'm-1', generationId: 1 });
    // A slow revocation: heartbeats continue so the session stays alive.
    const during = h.nextHeartbeat();
    expect(during).toMatchObject({ memberId: 'm-1', generationId: 1 });
    h.send(failed(during.seq, 'REBALANCE_IN_PROGRESS'));
    expect(h.state()).toBe('Rebalancing');
    const [join] = h.send({ type: 'PREPARED', seq: (prepare as { seq: number }).seq });
    expect(join).toMatchObject({ kind: 'join', memberId: 'm-1' });
    expect(h.state()).toBe('Joining');
    // Joining: no heartbeats (Kafka disables them until the JoinGroup is answered).
    h.clock.increment(5 * HEARTBEAT);
    expect(h.log.filter((c) => c.kind === 'heartbeat')).toHaveLength(2);
  });

  it('UNKNOWN_MEMBER_ID: partitions are lost, the member rejoins with an empty id', () => {
    const h = harness();
    h.toStable();
    const beat = h.nextHeartbeat();
    const [prepare] = h.send(failed(beat.seq, 'UNKNOWN_MEMBER_ID'));
    expect(prepare).toMatchObject({ kind: 'prepare', lost: true, memberId: '', generationId: NO_GENERATION });
    h.clock.increment(5 * HEARTBEAT);
    expect(h.log.filter((c) => c.kind === 'heartbeat')).toHaveLength(1);
    const [join] = h.send({ type: 'PREPARED', seq: (prepare as { seq: number }).seq });
    expect(join).toMatchObject({ kind: 'join', memberId: '' });
  });

  it('ILLEGAL_GENERATION while revoking: the revocation finishes, then what it kept is lost too', () => {
    const h = harness();
    h.toStable();
    const [prepare] = h.send({ type: 'REJOIN' });
    expect(prepare).toMatchObject({ kind: 'prepare', lost: false });
    const beat = h.nextHeartbeat();
    expect(h.send(failed(beat.seq, 'ILLEGAL_GENERATION'))).toEqual([]);
    expect(h.ctx()).toMatchObject({ memberId: 'm-1', generationId: NO_GENERATION });
    const [lost] = h.send({ type: 'PREPARED', seq: (prepare as { seq: number }).seq });
    expect(lost).toMatchObject({ kind: 'prepare', lost: true, memberId: 'm-1' });
    const [join] = h.send({ type: 'PREPARED', seq: (lost as { seq: number }).seq });
    expect(join).toMatchObject({ kind: 'join', memberId: 'm-1' });
  });

  it('a retriable JoinGroup failure backs off, then joins again', () => {
    const h = harness();
    const [join] = h.send({ type: 'START' });
    h.send(failed((join as { seq: number }).seq, 'COORDINATOR_NOT_AVAILABLE', true));
    expect(h.state()).toBe('Unjoined');
    h.clock.increment(BACKOFF - 1);
    expect(h.state()).toBe('Unjoined');
    h.clock.increment(1);
    expect(h.state()).toBe('Joining');
    expect(h.log.filter((c) => c.kind === 'join')).toHaveLength(2);
  });

  it('FENCED_INSTANCE_ID is fatal: Left, partitions lost, no LeaveGroup', () => {
    const h = harness('instance-1');
    h.toStable();
    const beat = h.nextHeartbeat();
    const [leave] = h.send(failed(beat.seq, 'FENCED_INSTANCE_ID'));
    expect(h.state()).toBe('Left');
    expect(leave).toMatchObject({ kind: 'leave', lost: true, sendLeaveGroup: false, error: { code: 'FENCED_INSTANCE_ID' } });
    h.clock.increment(10 * HEARTBEAT);
    expect(h.log.filter((c) => c.kind === 'heartbeat')).toHaveLength(1);
  });

  it('leaving: a dynamic member commits and sends LeaveGroup; a static member does not send it (KIP-345)', () => {
    const dynamic = harness();
    dynamic.toStable();
    expect(dynamic.send({ type: 'LEAVE' })).toEqual([{ kind: 'leave', memberId: 'm-1', generationId: 1, lost: false, sendLeaveGroup: true, error: null }]);
    const fixed = harness('instance-1');
    fixed.toStable();
    expect(fixed.send({ type: 'LEAVE' })).toEqual([{ kind: 'leave', memberId: 'm-1', generationId: 1, lost: false, sendLeaveGroup: false, error: null }]);
  });

  it('a JoinGroup answered after the close gets a LeaveGroup for the member id it created', () => {
    const h = harness();
    const [join] = h.send({ type: 'START' });
    h.send({ type: 'LEAVE' });
    const [late] = h.send({ type: 'JOINED', seq: (join as { seq: number }).seq, result: joinResult('m-9', 4) });
    expect(late).toMatchObject({ kind: 'leave', memberId: 'm-9', sendLeaveGroup: true, lost: true });
    expect(h.state()).toBe('Left');
  });

  it('a rejoin asked for during the sync happens right after the assignment', () => {
    const h = harness();
    const [join] = h.send({ type: 'START' });
    const [sync] = h.send({ type: 'JOINED', seq: (join as { seq: number }).seq, result: joinResult('m-1', 1, false) });
    h.send({ type: 'REJOIN' });
    const out = h.send({ type: 'SYNCED', seq: (sync as { seq: number }).seq, assignment: new Uint8Array(0) });
    expect(out.map((c) => c.kind)).toEqual(['assign', 'prepare']);
    expect(h.state()).toBe('Rebalancing');
  });

  it('stale answers change nothing', () => {
    const h = harness();
    const [join] = h.send({ type: 'START' });
    const joinSeq = (join as { seq: number }).seq;
    const [sync] = h.send({ type: 'JOINED', seq: joinSeq, result: joinResult('m-1', 1) });
    const snapshot = JSON.stringify({ ...h.ctx(), commands: [] });
    h.send({ type: 'JOINED', seq: joinSeq, result: joinResult('m-2', 2) });
    h.send({ type: 'HEARTBEAT_OK', seq: joinSeq });
    h.send(failed(joinSeq, 'UNKNOWN_MEMBER_ID'));
    h.send({ type: 'COMMIT_FAILED', memberId: 'm-1', generationId: 0, code: 'ILLEGAL_GENERATION', message: '' });
    expect(JSON.stringify({ ...h.ctx(), commands: [] })).toBe(snapshot);
    expect(h.state()).toBe('Syncing');
    h.send({ type: 'SYNCED', seq: (sync as { seq: number }).seq, assignment: new Uint8Array(0) });
    expect(h.state()).toBe('Stable');
  });
});

// ---------------------------------------------------------------------------------------------
// Model-based: every reachable (canonicalised) state, with generated answers for what is in flight.

type Snap = SnapshotFrom<ReturnType<typeof createMemberMachine>>;

const FAILURES: readonly [ErrorCode, boolean][] = [
  ['REBALANCE_IN_PROGRESS', false],
  ['UNKNOWN_MEMBER_ID', false],
  ['ILLEGAL_GENERATION', false],
  ['FENCED_INSTANCE_ID', false],
  ['COORDINATOR_NOT_AVAILABLE', true],
  ['INCONSISTENT_GROUP_PROTOCOL', false],
];
const STALE = -1;
/** Marks a FAILED answering a heartbeat, so that a replay can tell it from one answering a join or sync. */
const HEARTBEAT_ROLE = 'heartbeat:';

describe('group member machine: model-based (@xstate/graph)', () => {
  const machine = createMemberMachine();

  const events = (s: Snap): MemberEvent[] => {
    const c = s.context;
    const out: MemberEvent[] = [{ type: 'START' }, { type: 'LEAVE' }, { type: 'REJOIN' }, { type: 'HEARTBEAT_DUE' }, { type: 'RETRY' }];
    out.push({ type: 'HEARTBEAT_OK', seq: STALE }, { type: 'PREPARED', seq: STALE }, failed(STALE, 'UNKNOWN_MEMBER_ID'));
    if (c.awaiting !== null) {
      const seq = c.awaiting;
      out.push({ type: 'JOINED', seq, result: joinResult('m', c.generationId + 1, true) });
      out.push({ type: 'JOINED', seq, result: joinResult('m', c.generationId + 1, false) });
      out.push({ type: 'SYNCED', seq, assignment: new Uint8Array([1]) });
      out.push({ type: 'PREPARED', seq });
      for (const [code, retriable] of FAILURES) out.push(failed(seq, code, retriable));
    }
    if (c.heartbeatAwaiting !== null) {
      out.push({ type: 'HEARTBEAT_OK', seq: c.heartbeatAwaiting });
      for (const [code, retriable] of FAILURES) out.push({ ...failed(c.heartbeatAwaiting, code, retriable), message: `${HEARTBEAT_ROLE}${code}` } as MemberEvent);
    }
    for (const code of ['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'OFFSET_METADATA_TOO_LARGE'] as const) {
      out.push({ type: 'COMMIT_FAILED', memberId: c.memberId, generationId: c.generationId, code, message: code });
    }
    return out;
  };

  /** Seq numbers and generation values are left out: states equal up to them are merged. */
  const serializeState = (s: Snap): string => {
    const c = s.context;
    return JSON.stringify({
      value: s.value,
      member: c.memberId !== '',
      generation: c.generationId !== NO_GENERATION,
      awaiting: c.awaiting !== null,
      heartbeat: c.heartbeatAwaiting !== null,
      heartbeatTimer: c.heartbeatTimer,
      retryTimer: c.retryTimer,
      preparingLost: c.preparingLost,
      rejoinPending: c.rejoinPending,
      error: c.error?.code ?? null,
    });
  };
  const serializeEvent = (e: MemberEvent): string => JSON.stringify(e, (_k, v) => (v instanceof Uint8Array ? [...v] : v));

  const invariants = (s: Snap): void => {
    const c = s.context;
    const value = s.value as MemberState;
    const hasGeneration = c.generationId !== NO_GENERATION;
    const beats = (value === 'Syncing' || value === 'Stable' || value === 'Rebalancing') && hasGeneration;
    expect(c.heartbeatTimer || c.heartbeatAwaiting !== null, `heartbeating exactly in ${value} with a generation`).toBe(beats);
    expect(c.heartbeatTimer && c.heartbeatAwaiting !== null, 'a scheduled heartbeat and one in flight at once').toBe(false);
    expect(c.retryTimer, 'backing off only in Unjoined').toBe(value === 'Unjoined' && c.retryTimer);
    if (value === 'Joining' || value === 'Syncing' || value === 'Rebalancing') expect(c.awaiting, `${value} waits for an answer`).not.toBeNull();
    if (value === 'Stable' || value === 'Unjoined') expect(c.awaiting).toBeNull();
    if (value === 'Syncing' || value === 'Stable') expect(hasGeneration && c.memberId !== '', `${value} has a member id and a generation`).toBe(true);
    if (value !== 'Left') expect(c.error).toBeNull();
  };

  const step = (prev: Snap, event: MemberEvent, next: Snap): void => {
    invariants(next);
    const from = prev.value as MemberState;
    const to = next.value as MemberState;
    const c = next.context;
    if (from === 'Left') expect(to).toBe('Left');
    if (to !== from && to !== 'Left' && to !== 'Unjoined') expect(c.commands.length, `entering ${to} sends something`).toBeGreaterThan(0);
    for (const command of c.commands) {
      switch (command.kind) {
        case 'join':
          expect(to).toBe('Joining');
          expect(command.seq).toBe(c.awaiting);
          expect(command.memberId).toBe(c.memberId);
          break;
        case 'sync':
          expect(to).toBe('Syncing');
          expect(command.seq).toBe(c.awaiting);
          expect(command.generationId).not.toBe(NO_GENERATION);
          break;
        case 'heartbeat':
          expect(['Syncing', 'Stable', 'Rebalancing']).toContain(to);
          expect(command.seq).toBe(c.heartbeatAwaiting);
          expect(command.memberId).not.toBe('');
          expect(command.generationId).not.toBe(NO_GENERATION);
          break;
        case 'assign':
          expect(from).toBe('Syncing');
          expect(event.type).toBe('SYNCED');
          break;
        case 'prepare':
          expect(to).toBe('Rebalancing');
          expect(command.seq).toBe(c.awaiting);
          // Revoking needs a generation to commit with; losing happens exactly when it is gone.
          expect(command.lost, `prepare ${serializeEvent(event)}`).toBe(command.generationId === NO_GENERATION);
          break;
        case 'leave':
          expect(to).toBe('Left');
          if (command.sendLeaveGroup) {
            expect(command.memberId).not.toBe('');
            expect(c.groupInstanceId).toBeNull();
          }
          if (command.error !== null) expect(command.lost).toBe(true);
          break;
      }
    }
    const seqs = c.commands.flatMap((command) => ('seq' in command ? [command.seq] : []));
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const seq of seqs) expect(seq).toBeGreaterThan(prev.context.seq);
    if (event.type !== 'LEAVE' && 'seq' in event && event.seq === STALE) expect(serializeState(next)).toBe(serializeState(prev));
  };

  for (const groupInstanceId of [null, 'instance-1']) {
    const options = { input: { groupInstanceId, heartbeatIntervalMs: HEARTBEAT, retryBackoffMs: BACKOFF }, events, serializeState, serializeEvent };

    it(`every transition keeps the invariants and every state-to-state transition is reached (${groupInstanceId === null ? 'dynamic' : 'static'} member)`, () => {
      const edges = adjacencyMapToArray(getAdjacencyMap(machine, options));
      const seen = new Set<string>();
      for (const { state, event, nextState } of edges) {
        step(state, event, nextState);
        seen.add(`${String(state.value)} -${event.type}-> ${String(nextState.value)}`);
      }
      const expected = [
        'Unjoined -START-> Joining',
        'Unjoined -RETRY-> Joining',
        'Unjoined -LEAVE-> Left',
        'Joining -JOINED-> Syncing',
        'Joining -FAILED-> Joining',
        'Joining -FAILED-> Rebalancing',
        'Joining -FAILED-> Unjoined',
        'Joining -FAILED-> Left',
        'Joining -LEAVE-> Left',
        'Syncing -SYNCED-> Stable',
        'Syncing -SYNCED-> Rebalancing',
        'Syncing -FAILED-> Joining',
        'Syncing -FAILED-> Rebalancing',
        'Syncing -FAILED-> Unjoined',
        'Syncing -FAILED-> Left',
        'Syncing -COMMIT_FAILED-> Rebalancing',
        'Syncing -LEAVE-> Left',
        'Stable -HEARTBEAT_DUE-> Stable',
        'Stable -HEARTBEAT_OK-> Stable',
        'Stable -FAILED-> Stable',
        'Stable -FAILED-> Rebalancing',
        'Stable -FAILED-> Left',
        'Stable -COMMIT_FAILED-> Rebalancing',
        'Stable -COMMIT_FAILED-> Left',
        'Stable -REJOIN-> Rebalancing',
        'Stable -LEAVE-> Left',
        'Rebalancing -PREPARED-> Joining',
        'Rebalancing -PREPARED-> Rebalancing',
        'Rebalancing -FAILED-> Rebalancing',
        'Rebalancing -FAILED-> Left',
        'Rebalancing -LEAVE-> Left',
      ];
      for (const e of expected) expect(seen, e).toContain(e);
      if (groupInstanceId === null) expect(seen).toContain('Left -JOINED-> Left');
      expect(new Set(edges.map((e) => e.nextState.value))).toEqual(new Set(['Unjoined', 'Joining', 'Syncing', 'Stable', 'Rebalancing', 'Left']));
    });

    it(`shortest paths reach every state; replayed on a live actor they match the model (${groupInstanceId === null ? 'dynamic' : 'static'} member)`, () => {
      const paths = getShortestPaths(machine, options);
      expect(new Set(paths.map((p) => p.state.value))).toEqual(new Set(['Unjoined', 'Joining', 'Syncing', 'Stable', 'Rebalancing', 'Left']));
      for (const path of paths) {
        const live = createActor(machine, { input: options.input, clock: new SimulatedClock() }).start();
        for (const s of path.steps.slice(1)) {
          const prev = live.getSnapshot();
          // Seqs differ between merged states: give each event the live actor's seq for its role.
          const e = s.event as MemberEvent & { seq?: number };
          let event: MemberEvent = e;
          if (e.seq !== undefined && e.seq !== STALE) {
            const heartbeat = e.type === 'HEARTBEAT_OK' || (e.type === 'FAILED' && e.message.startsWith(HEARTBEAT_ROLE));
            event = { ...e, seq: heartbeat ? prev.context.heartbeatAwaiting : prev.context.awaiting } as MemberEvent;
          }
          live.send(event);
          const next = live.getSnapshot();
          step(prev, event, next);
          expect(serializeState(next)).toBe(serializeState(s.state));
        }
        live.stop();
      }
    });
  }
});
