import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import { createActor, SimulatedClock, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import {
  createCoordinatorMachine,
  responseError,
  type CoordinatorContext,
  type CoordinatorEvent,
  type CoordinatorResponse,
  type GroupProtocol,
  type GroupState,
} from '../../src/group/coordinator-machine.js';

const SESSION = 10_000;
const REBALANCE = 30_000;
const RANGE: GroupProtocol[] = [{ name: 'range', metadata: new Uint8Array([1]) }];
const RANGE_V2: GroupProtocol[] = [{ name: 'range', metadata: new Uint8Array([2]) }];

function joinEvent(clientId: string, memberId = '', extra: Partial<Extract<CoordinatorEvent, { type: 'JOIN' }>> = {}): CoordinatorEvent {
  return {
    type: 'JOIN',
    memberId,
    clientId,
    protocolType: 'consumer',
    protocols: RANGE,
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    ...extra,
  };
}

function harness() {
  const clock = new SimulatedClock();
  let n = 0;
  const machine = createCoordinatorMachine({ newMemberId: (clientId) => `${clientId}-${++n}`, now: () => clock.now() });
  const actor = createActor(machine, { input: { groupId: 'g' }, clock }).start();
  const log: CoordinatorResponse[] = [];
  actor.subscribe((s) => log.push(...s.context.responses));
  const ctx = (): CoordinatorContext => actor.getSnapshot().context;
  const state = (): GroupState => actor.getSnapshot().value as GroupState;
  const send = (event: CoordinatorEvent): CoordinatorResponse[] => {
    actor.send(event);
    return [...actor.getSnapshot().context.responses];
  };
  const gen = (): number => ctx().generationId;
  const hb = (memberId: string, generationId = gen()) => send({ type: 'HEARTBEAT', memberId, generationId })[0];
  /** The leader's SYNC assigning one byte per member. */
  const leaderSync = () => {
    const assignments = Object.fromEntries(Object.keys(ctx().members).map((id, i) => [id, new Uint8Array([i + 1])]));
    return send({ type: 'SYNC', memberId: ctx().leaderId!, generationId: gen(), assignments });
  };
  /** Every current member rejoins, then everyone syncs (followers first): a full rebalance round. */
  const rejoinAllAndSync = () => {
    for (const m of Object.values(ctx().members)) if (state() === 'PreparingRebalance') send(joinEvent(m.clientId, m.memberId, { groupInstanceId: m.groupInstanceId }));
    expect(state()).toBe('CompletingRebalance');
    for (const id of Object.keys(ctx().members)) if (id !== ctx().leaderId) expect(send({ type: 'SYNC', memberId: id, generationId: gen() })).toEqual([]);
    leaderSync();
    expect(state()).toBe('Stable');
  };
  return { clock, actor, log, ctx, state, send, gen, hb, leaderSync, rejoinAllAndSync };
}

/** Three members joined and synced: returns their ids. */
function stableThree(h: ReturnType<typeof harness>, extra: (i: number) => Partial<Extract<CoordinatorEvent, { type: 'JOIN' }>> = () => ({})) {
  const [a] = h.send(joinEvent('a', '', extra(0)));
  expect(a).toMatchObject({ kind: 'join', error: null, memberId: 'a-1', generationId: 1, leaderId: 'a-1' });
  expect(h.state()).toBe('CompletingRebalance');
  h.send(joinEvent('b', '', extra(1)));
  expect(h.state()).toBe('PreparingRebalance');
  h.send(joinEvent('c', '', extra(2)));
  expect(h.hb('a-1')).toMatchObject({ error: 'REBALANCE_IN_PROGRESS' });
  const answers = h.send(joinEvent('a', 'a-1', extra(0)));
  // a's rejoin completes the barrier: all three JOINs are answered at once, only the leader gets the member list.
  expect(answers.map((r) => r.memberId).sort()).toEqual(['a-1', 'b-2', 'c-3']);
  for (const r of answers) {
    expect(r).toMatchObject({ kind: 'join', error: null, generationId: 2, leaderId: 'a-1', protocolName: 'range' });
    if (r.kind === 'join' && r.error === null) expect(r.members.length).toBe(r.memberId === 'a-1' ? 3 : 0);
  }
  expect(h.send({ type: 'SYNC', memberId: 'b-2', generationId: 2 })).toEqual([]);
  const synced = h.leaderSync();
  expect(h.state()).toBe('Stable');
  expect(synced.map((r) => r.memberId).sort()).toEqual(['a-1', 'b-2']);
  expect(h.send({ type: 'SYNC', memberId: 'c-3', generationId: 2 })[0]).toMatchObject({ kind: 'sync', error: null, assignment: new Uint8Array([3]) });
  return ['a-1', 'b-2', 'c-3'];
}

describe('group coordinator machine: scenarios (simulated clock)', () => {
  it('three members join and sync to Stable', () => {
    const h = harness();
    stableThree(h);
    expect(h.gen()).toBe(2);
    expect(Object.values(h.ctx().members).every((m) => m.assignment !== null)).toBe(true);
    expect(h.hb('b-2')).toMatchObject({ kind: 'heartbeat', error: null });
  });

  it('a member that stops heartbeating expires after the session timeout; the rest rebalance to a new generation', () => {
    const h = harness();
    stableThree(h);
    for (let t = 0; t < 3; t++) {
      h.clock.increment(3_000);
      expect(h.hb('a-1').error).toBeNull();
      expect(h.hb('b-2').error).toBeNull();
    }
    expect(h.state()).toBe('Stable');
    h.clock.increment(1_001); // c last heard from at t=0: expires at 10 s
    expect(h.state()).toBe('PreparingRebalance');
    expect(h.ctx().members['c-3']).toBeUndefined();
    expect(h.hb('a-1')).toMatchObject({ error: 'REBALANCE_IN_PROGRESS' });
    h.rejoinAllAndSync();
    expect(h.gen()).toBe(3);
    expect(Object.keys(h.ctx().members)).toEqual(['a-1', 'b-2']);
    expect(h.hb('c-3')).toMatchObject({ error: 'UNKNOWN_MEMBER_ID' });
  });

  it('members that do not rejoin within the rebalance timeout are removed', () => {
    const h = harness();
    stableThree(h);
    h.send({ type: 'LEAVE', memberId: 'c-3' });
    expect(h.state()).toBe('PreparingRebalance');
    h.send(joinEvent('a', 'a-1'));
    // b keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins; a waits in the join barrier.
    for (let t = 0; t < 9; t++) {
      h.clock.increment(3_000);
      expect(h.hb('b-2').error).toBe('REBALANCE_IN_PROGRESS');
    }
    expect(h.state()).toBe('PreparingRebalance');
    h.clock.increment(3_000); // 30 s after the rebalance began
    expect(h.state()).toBe('CompletingRebalance');
    expect(Object.keys(h.ctx().members)).toEqual(['a-1']);
    expect(h.gen()).toBe(3);
    expect(h.log.filter((r) => r.kind === 'join' && r.error === null && r.generationId === 3).map((r) => r.memberId)).toEqual(['a-1']);
  });

  it('leave: remaining members rebalance; the last leaving empties the group; DELETE makes it Dead', () => {
    const h = harness();
    stableThree(h);
    expect(h.send({ type: 'LEAVE', memberId: 'b-2' })[0]).toMatchObject({ kind: 'leave', error: null });
    expect(h.state()).toBe('PreparingRebalance');
    h.rejoinAllAndSync();
    expect(h.gen()).toBe(3);
    expect(h.send({ type: 'DELETE' })[0]).toMatchObject({ kind: 'delete', error: 'NON_EMPTY_GROUP' });
    h.send({ type: 'LEAVE', memberId: 'c-3' });
    h.send(joinEvent('a', 'a-1'));
    h.leaderSync();
    h.send({ type: 'LEAVE', memberId: 'a-1' });
    expect(h.state()).toBe('Empty');
    expect(h.gen()).toBe(5);
    expect(h.ctx()).toMatchObject({ members: {}, leaderId: null, protocolName: null });
    h.send({ type: 'DELETE' });
    expect(h.state()).toBe('Dead');
    expect(h.send(joinEvent('z'))[0]).toMatchObject({ error: 'COORDINATOR_NOT_AVAILABLE' });
  });

  it('a static member restarting within its session timeout replaces its old member id without a rebalance', () => {
    const h = harness();
    stableThree(h, (i) => ({ groupInstanceId: `instance-${i}` }));
    const gen = h.gen();
    h.clock.increment(5_000);
    h.hb('a-1');
    h.hb('c-3');
    const [answer] = h.send(joinEvent('b', '', { groupInstanceId: 'instance-1' }));
    expect(answer).toMatchObject({ kind: 'join', error: null, memberId: 'b-4', generationId: gen, leaderId: 'a-1', members: [] });
    expect(h.state()).toBe('Stable');
    expect(h.send({ type: 'SYNC', memberId: 'b-4', generationId: gen, groupInstanceId: 'instance-1' })[0]).toMatchObject({
      error: null,
      assignment: new Uint8Array([2]),
    });
    expect(h.hb('b-2')).toMatchObject({ error: 'UNKNOWN_MEMBER_ID' }); // the old id, without its instance id
    expect(h.send({ type: 'HEARTBEAT', memberId: 'b-2', generationId: gen, groupInstanceId: 'instance-1' })[0]).toMatchObject({
      error: 'FENCED_INSTANCE_ID',
    });
    // The old id's session timer was cancelled: nothing expires while the three keep heartbeating.
    for (let t = 0; t < 10; t++) {
      h.clock.increment(3_000);
      for (const id of ['a-1', 'b-4', 'c-3']) expect(h.hb(id).error).toBeNull();
    }
    expect(h.state()).toBe('Stable');
    expect(h.gen()).toBe(gen);
  });

  it('a static member restarting after its session expired rejoins as a new member, with a rebalance', () => {
    const h = harness();
    stableThree(h, (i) => ({ groupInstanceId: `instance-${i}` }));
    for (let t = 0; t < 4; t++) {
      h.clock.increment(3_000);
      h.hb('a-1');
      h.hb('c-3');
    }
    expect(h.state()).toBe('PreparingRebalance');
    expect(h.ctx().members['b-2']).toBeUndefined();
    expect(h.send(joinEvent('b', '', { groupInstanceId: 'instance-1' }))).toEqual([]);
    h.rejoinAllAndSync();
    expect(Object.keys(h.ctx().members).sort()).toEqual(['a-1', 'b-4', 'c-3']);
    expect(h.gen()).toBe(3);
  });

  it('errors: wrong generation, unknown member, rebalance in progress, as TributaryErrors with Kafka codes', () => {
    const h = harness();
    stableThree(h);
    const illegal = h.hb('a-1', 1);
    expect(illegal.error).toBe('ILLEGAL_GENERATION');
    const error = responseError(illegal)!;
    expect(error).toBeInstanceOf(TributaryError);
    expect(error.kafkaCode).toBe(22);
    expect(responseError(h.hb('nobody'))!.kafkaCode).toBe(25);
    expect(h.send({ type: 'SYNC', memberId: 'a-1', generationId: 7 })[0].error).toBe('ILLEGAL_GENERATION');
    expect(h.send(joinEvent('x', 'nobody'))[0].error).toBe('UNKNOWN_MEMBER_ID');
    expect(h.send(joinEvent('x', '', { protocolType: 'connect' }))[0].error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    h.send(joinEvent('d'));
    expect(h.send({ type: 'SYNC', memberId: 'a-1', generationId: 2 })[0]).toMatchObject({ error: 'REBALANCE_IN_PROGRESS' });
    expect(responseError(h.hb('a-1'))!.kafkaCode).toBe(27);
    expect(responseError(h.hb('a-1'))!.retriable).toBe(false);
  });

  it('a follower waiting in SYNC gets REBALANCE_IN_PROGRESS when a new member arrives before the leader syncs', () => {
    const h = harness();
    h.send(joinEvent('a'));
    h.send(joinEvent('b'));
    h.send(joinEvent('a', 'a-1'));
    expect(h.state()).toBe('CompletingRebalance');
    h.send({ type: 'SYNC', memberId: 'b-2', generationId: 2, requestId: 'r-b' });
    const out = h.send(joinEvent('c'));
    expect(out).toEqual([{ kind: 'sync', requestId: 'r-b', memberId: 'b-2', error: 'REBALANCE_IN_PROGRESS' }]);
  });

  it('a leader that heartbeats but never syncs is removed after the rebalance timeout', () => {
    const h = harness();
    h.send(joinEvent('a'));
    h.send(joinEvent('b'));
    h.send(joinEvent('a', 'a-1'));
    h.clock.increment(1_000);
    h.send({ type: 'SYNC', memberId: 'b-2', generationId: 2 });
    for (let t = 0; t < 9; t++) {
      h.clock.increment(3_000);
      expect(h.hb('a-1').error).toBeNull(); // CompletingRebalance: heartbeats are fine
    }
    // b waits in SYNC past its session timeout: the barrier keeps it alive.
    expect(h.state()).toBe('CompletingRebalance');
    h.clock.increment(2_000); // 30 s after the generation began
    // a removed; b, waiting in SYNC, is told to rejoin, then alone completes the next round.
    expect(h.log.at(-1)).toMatchObject({ kind: 'sync', memberId: 'b-2', error: 'REBALANCE_IN_PROGRESS' });
    expect(h.state()).toBe('PreparingRebalance');
    h.rejoinAllAndSync();
    expect(h.ctx().leaderId).toBe('b-2');
    expect(h.gen()).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
// Model-based: explore every reachable (canonicalised) state with generated events.

type Snap = SnapshotFrom<ReturnType<typeof createCoordinatorMachine>>;

describe('group coordinator machine: model-based (@xstate/graph)', () => {
  let n = 0;
  const machine = createCoordinatorMachine({ newMemberId: (clientId) => `${clientId}-${++n}`, now: () => 0 });
  const rebalanceAfter = (state: 'PreparingRebalance' | 'CompletingRebalance') =>
    ({ type: machine.root.states[state].after[0].eventType }) as unknown as CoordinatorEvent;

  /** Clients: 'a' dynamic, 's' static (instance 'i'); member ids are canonicalised to client ids. */
  const events = (s: Snap): CoordinatorEvent[] => {
    const c = s.context;
    const members = Object.values(c.members);
    const out: CoordinatorEvent[] = [joinEvent('s', '', { groupInstanceId: 'i' }), { type: 'DELETE' }];
    out.push({ type: 'HEARTBEAT', memberId: 'ghost', generationId: c.generationId });
    if (!members.some((m) => m.clientId === 'a')) out.push(joinEvent('a'));
    for (const m of members) {
      out.push(joinEvent(m.clientId, m.memberId, { groupInstanceId: m.groupInstanceId }));
      out.push(joinEvent(m.clientId, m.memberId, { groupInstanceId: m.groupInstanceId, protocols: RANGE_V2 }));
      const assignments = Object.fromEntries(members.map((x) => [x.memberId, new Uint8Array([x.clientId.charCodeAt(0)])]));
      out.push({ type: 'SYNC', memberId: m.memberId, generationId: c.generationId, groupInstanceId: m.groupInstanceId, assignments });
      out.push({ type: 'HEARTBEAT', memberId: m.memberId, generationId: c.generationId, groupInstanceId: m.groupInstanceId });
      out.push({ type: 'HEARTBEAT', requestId: 'wrong-generation', memberId: m.memberId, generationId: c.generationId + 1, groupInstanceId: m.groupInstanceId });
      out.push({ type: 'LEAVE', memberId: m.memberId, groupInstanceId: m.groupInstanceId });
      out.push({ type: 'SESSION_TIMEOUT', memberId: m.memberId });
    }
    if (s.value === 'PreparingRebalance' || s.value === 'CompletingRebalance') out.push(rebalanceAfter(s.value));
    return out;
  };

  const canon = (c: CoordinatorContext, id: string | null) => (id === null ? null : (c.members[id]?.clientId ?? 'gone'));
  /** Generation, heartbeat times and this step's responses are left out: states equal up to them are merged. */
  const serializeState = (s: Snap): string => {
    const c = s.context;
    return JSON.stringify({
      value: s.value,
      leader: canon(c, c.leaderId),
      protocolName: c.protocolName,
      protocolType: c.protocolType,
      members: Object.values(c.members).map((m) => ({
        client: m.clientId,
        instance: m.groupInstanceId,
        meta: [...m.protocols[0].metadata],
        joined: m.joinedThisRound,
        synced: m.synced,
        assigned: m.assignment !== null,
      })),
    });
  };
  const serializeEvent = (e: CoordinatorEvent): string => JSON.stringify(e, (_k, v) => (v instanceof Uint8Array ? [...v] : v));

  const invariants = (s: Snap): void => {
    const c = s.context;
    const value = s.value as GroupState;
    const members = Object.values(c.members);
    expect(value === 'Empty' || value === 'Dead', `Empty/Dead ⇔ no members in ${value}`).toBe(members.length === 0);
    if (value === 'Stable') {
      expect(members.every((m) => m.assignment !== null), 'Stable ⇒ every member has an assignment').toBe(true);
    }
    if (value === 'Stable' || value === 'CompletingRebalance') {
      expect(c.members[c.leaderId!], 'a leader that is a member').toBeDefined();
      expect(c.protocolName).not.toBeNull();
      expect(c.generationId).toBeGreaterThan(0);
    }
    if (value !== 'PreparingRebalance') expect(members.some((m) => m.joinedThisRound)).toBe(false);
    const instances = members.map((m) => m.groupInstanceId).filter((i) => i !== null);
    expect(new Set(instances).size, 'one member per static instance').toBe(instances.length);
    for (const r of c.responses) if (r.error !== null) expect(responseError(r)!.kafkaCode).toBeGreaterThan(0);
  };

  const step = (prev: Snap, event: CoordinatorEvent, next: Snap): void => {
    invariants(next);
    const delta = next.context.generationId - prev.context.generationId;
    expect([0, 1]).toContain(delta);
    if (delta === 1) {
      // A completed rebalance: the next generation, everyone answered, nobody assigned yet.
      expect(['CompletingRebalance', 'Empty']).toContain(next.value);
      const answered = next.context.responses.filter((r) => r.kind === 'join' && r.error === null && r.generationId === next.context.generationId);
      expect(answered.map((r) => r.memberId).sort()).toEqual(Object.keys(next.context.members).sort());
      expect(Object.values(next.context.members).every((m) => m.assignment === null)).toBe(true);
    } else if (next.value === 'CompletingRebalance' && prev.value !== 'CompletingRebalance') {
      throw new Error(`entered CompletingRebalance without a new generation on ${serializeEvent(event)} from ${String(prev.value)} ${JSON.stringify(prev.context)} to ${JSON.stringify(next.context)}`);
    }
  };

  const options = { input: { groupId: 'g' }, events, serializeState, serializeEvent };

  it('every transition keeps the invariants, and covers every state and state-to-state transition', () => {
    const edges = adjacencyMapToArray(getAdjacencyMap(machine, options));
    const seen = new Set<string>();
    for (const { state, event, nextState } of edges) {
      step(state, event, nextState);
      seen.add(`${String(state.value)} -${event.type.startsWith('xstate.after') ? 'after' : event.type}-> ${String(nextState.value)}`);
    }
    const expected = [
      'Empty -JOIN-> CompletingRebalance',
      'Empty -DELETE-> Dead',
      'CompletingRebalance -JOIN-> PreparingRebalance',
      'CompletingRebalance -JOIN-> CompletingRebalance',
      'CompletingRebalance -SYNC-> Stable',
      'CompletingRebalance -LEAVE-> PreparingRebalance',
      'CompletingRebalance -LEAVE-> Empty',
      'CompletingRebalance -SESSION_TIMEOUT-> PreparingRebalance',
      'CompletingRebalance -after-> PreparingRebalance',
      'CompletingRebalance -after-> Empty',
      'PreparingRebalance -JOIN-> CompletingRebalance',
      'PreparingRebalance -LEAVE-> CompletingRebalance',
      'PreparingRebalance -LEAVE-> Empty',
      'PreparingRebalance -SESSION_TIMEOUT-> CompletingRebalance',
      'PreparingRebalance -after-> CompletingRebalance',
      'PreparingRebalance -HEARTBEAT-> PreparingRebalance',
      'Stable -JOIN-> Stable',
      'Stable -JOIN-> PreparingRebalance',
      'Stable -JOIN-> CompletingRebalance',
      'Stable -LEAVE-> PreparingRebalance',
      'Stable -LEAVE-> Empty',
      'Stable -SESSION_TIMEOUT-> PreparingRebalance',
      'Stable -SESSION_TIMEOUT-> Empty',
      'Stable -HEARTBEAT-> Stable',
      'Stable -SYNC-> Stable',
      'Dead -JOIN-> Dead',
    ];
    for (const e of expected) expect(seen, e).toContain(e);
    expect(new Set(edges.map((e) => e.nextState.value))).toEqual(new Set(['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead']));
  });

  it('shortest paths reach every state; replaying each on a live actor matches the model and keeps the invariants', () => {
    const paths = getShortestPaths(machine, options);
    expect(new Set(paths.map((p) => p.state.value))).toEqual(new Set(['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead']));
    for (const path of paths) {
      // Path snapshots are representatives of merged states (member ids and generations differ): translate
      // each event to the live actor by client id (the prefix of a model member id) and generation.
      let k = 0;
      const live = createActor(createCoordinatorMachine({ newMemberId: (clientId) => `${clientId}#${++k}`, now: () => 0 }), {
        input: { groupId: 'g' },
        clock: new SimulatedClock(),
      }).start();
      expect(path.steps[0].event.type).toBe('xstate.init');
      for (const s of path.steps.slice(1)) {
        const prev = live.getSnapshot();
        const liveId = (id: string): string =>
          Object.values(prev.context.members).find((m) => m.clientId === id.split('-')[0])?.memberId ?? id;
        const e = s.event as CoordinatorEvent & { memberId?: string; generationId?: number; assignments?: Record<string, Uint8Array> };
        const wrongGeneration = 'requestId' in e && e.requestId === 'wrong-generation' ? 1 : 0;
        const event = {
          ...e,
          ...(e.memberId !== undefined && e.memberId !== '' ? { memberId: liveId(e.memberId) } : {}),
          ...(e.generationId !== undefined ? { generationId: prev.context.generationId + wrongGeneration } : {}),
          ...(e.assignments !== undefined ? { assignments: Object.fromEntries(Object.entries(e.assignments).map(([id, a]) => [liveId(id), a])) } : {}),
        } as CoordinatorEvent;
        live.send(event);
        const next = live.getSnapshot();
        step(prev, event, next);
        expect(serializeState(next)).toBe(serializeState(s.state));
      }
      live.stop();
    }
  });
});
