import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { Slot, type OpenPartitionArgs, type SlotRestart } from '../../src/runtime/slot.js';
import { FakeHosts } from './fixtures/fake-host.js';
import { rejection } from './helpers.js';

const slots: Slot[] = [];
afterEach(async () => {
  await Promise.all(slots.splice(0).map((slot) => slot.close()));
});

function openArgs(topic: string, partition: number): OpenPartitionArgs {
  return { topic, partition, dir: `/nowhere/${topic}-${partition}`, config: {} };
}

function newSlot(hosts: FakeHosts, options: { partitions?: OpenPartitionArgs[]; requestTimeoutMs?: number } = {}) {
  const restarts: SlotRestart[] = [];
  const slot = new Slot({
    index: 3,
    startHost: hosts.start,
    requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
    partitions: () => options.partitions ?? [openArgs('t', 0), openArgs('t', 1)],
    onRestarted: (restart) => restarts.push(restart),
    serveUplink: () => Promise.reject(new Error('no uplink calls in these tests')),
    metadata: () => ({ version: 0, metadata: [] }),
  });
  slots.push(slot);
  return { slot, restarts };
}

const append = (slot: Slot, partition = 0) => slot.call('append', { topic: 't', partition, batch: new Uint8Array(0), acks: 1, logAppendTime: false });

/** Lets the slot see a crash: a closing port and a rejected task are both reported asynchronously. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function nextRestart(restarts: SlotRestart[]): Promise<SlotRestart> {
  const seen = restarts.length;
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (restarts.length > seen) {
        clearInterval(poll);
        resolve(restarts[seen]);
      }
    }, 2);
  });
}

describe('Slot', () => {
  it('opens its partitions on start and routes calls to the host by id', async () => {
    const hosts = new FakeHosts();
    const { slot } = newSlot(hosts);
    await slot.start();
    expect(hosts.latest.received.map((r) => [r.type, (r.args as OpenPartitionArgs).partition])).toEqual([
      ['openPartition', 0],
      ['openPartition', 1],
    ]);
    const answers = await Promise.all([append(slot), append(slot, 1), append(slot)]);
    expect(answers.map((a) => a.baseOffset)).toEqual([0, 0, 1]);
  });

  it('revives errors from the host as TributaryErrors', async () => {
    const hosts = new FakeHosts();
    const { slot } = newSlot(hosts);
    await slot.start();
    hosts.failing.add('t/1');
    const error = await rejection(append(slot, 1), 'CORRUPT_LOG');
    expect(error).toBeInstanceOf(TributaryError);
    expect(error.details).toEqual({ key: 't/1' });
  });

  it('fails to start if a partition fails to open', async () => {
    const hosts = new FakeHosts();
    hosts.failing.add('t/1');
    const { slot } = newSlot(hosts);
    await rejection(slot.start(), 'CORRUPT_LOG');
  });

  it('fails to start if the host dies while opening', async () => {
    const hosts = new FakeHosts();
    const { slot } = newSlot(hosts);
    const started = slot.start();
    hosts.latest.holding = true;
    await tick();
    hosts.latest.crash();
    await rejection(started, 'PARTITION_UNAVAILABLE');
  });

  it('times a call out with REQUEST_TIMED_OUT and ignores its late answer', async () => {
    const hosts = new FakeHosts();
    const { slot } = newSlot(hosts, { requestTimeoutMs: 50 });
    await slot.start();
    hosts.latest.holding = true;
    const started = Date.now();
    const error = await rejection(append(slot), 'REQUEST_TIMED_OUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(error.details).toMatchObject({ slot: 3, type: 'append', timeoutMs: 50 });
    hosts.latest.release();
    expect((await append(slot)).baseOffset).toBe(1);
  });

  it('gives a long-poll fetch its wait on top of the timeout', async () => {
    const hosts = new FakeHosts();
    const { slot } = newSlot(hosts, { requestTimeoutMs: 30 });
    await slot.start();
    hosts.latest.holding = true;
    const fetch = slot.call('fetch', { topic: 't', partition: 0, offset: 0, maxBytes: 100, maxWaitMs: 100, minBytes: 1 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    hosts.latest.release();
    await expect(fetch).resolves.toBeDefined();
  });

  it('when its host dies: fails unanswered calls, restarts, reopens, then sends the calls that waited', async () => {
    const hosts = new FakeHosts();
    const { slot, restarts } = newSlot(hosts);
    await slot.start();
    await append(slot);
    const first = hosts.latest;
    first.holding = true;
    const inFlight = [append(slot), append(slot, 1)];
    await tick();
    const restarted = nextRestart(restarts);
    first.crash(new Error('worker exited with code: 7'));
    for (const call of inFlight) {
      const error = await rejection(call, 'PARTITION_UNAVAILABLE');
      expect(error.retriable).toBe(true);
      expect(error.message).toContain('code: 7');
    }
    // Arrives while the new host is opening partitions: must wait, not fail.
    const waiting = append(slot);
    const restart = await restarted;
    expect(restart).toMatchObject({ slot: 3, restarts: 1, failed: [] });
    expect(restart.reason.message).toContain('code: 7');
    await expect(waiting).resolves.toMatchObject({ baseOffset: 0 });
    expect(hosts.hosts).toHaveLength(2);
    expect(hosts.latest.received.map((r) => r.type)).toEqual(['openPartition', 'openPartition', 'append']);
    expect(slot.restarts).toBe(1);
  });

  it('reports partitions that fail to reopen and keeps serving the others', async () => {
    const hosts = new FakeHosts();
    const { slot, restarts } = newSlot(hosts);
    await slot.start();
    hosts.failing.add('t/0');
    const restarted = nextRestart(restarts);
    hosts.latest.crash();
    const restart = await restarted;
    expect(restart.failed.map((f) => [f.topic, f.partition, (f.error as TributaryError).code])).toEqual([['t', 0, 'CORRUPT_LOG']]);
    await expect(append(slot, 1)).resolves.toMatchObject({ baseOffset: 0 });
  });

  it('backs off exponentially when the host keeps dying right after a restart', async () => {
    const hosts = new FakeHosts();
    const { slot, restarts } = newSlot(hosts);
    await slot.start();
    for (let i = 0; i < 3; i++) {
      const restarted = nextRestart(restarts);
      hosts.latest.crash();
      await restarted;
    }
    const gaps = hosts.startedAt.slice(1).map((at, i) => at - hosts.startedAt[i]);
    // First death after a stable run: at once. Then 100 ms, then 200 ms.
    expect(gaps[0]).toBeLessThan(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
  });

  it('keeps retrying a host that dies while reopening, and calls waiting meanwhile time out', async () => {
    const hosts = new FakeHosts();
    const { slot, restarts } = newSlot(hosts, { requestTimeoutMs: 150 });
    await slot.start();
    hosts.dieOnStart = true;
    hosts.latest.crash();
    await tick();
    const error = await rejection(append(slot), 'REQUEST_TIMED_OUT');
    expect(error.message).toContain('waiting for its thread to restart');
    expect(hosts.hosts.length).toBeGreaterThanOrEqual(2);
    expect(restarts).toHaveLength(0);
  });

  it('close waits for calls in flight, fails new ones with CLOSED and stops the host', async () => {
    const hosts = new FakeHosts();
    const { slot } = newSlot(hosts);
    await slot.start();
    hosts.latest.holding = true;
    const inFlight = append(slot);
    const closed = slot.close();
    await rejection(append(slot), 'CLOSED');
    setTimeout(() => hosts.latest.release(), 20);
    await expect(inFlight).resolves.toMatchObject({ baseOffset: 0 });
    await closed;
    await expect(hosts.latest.done).resolves.toBeUndefined();
  });

  it('close does not wait out a parked long-poll fetch, which fails with CLOSED', async () => {
    const hosts = new FakeHosts();
    const { slot } = newSlot(hosts);
    await slot.start();
    const fetch = slot.call('fetch', { topic: 't', partition: 0, offset: 0, maxBytes: 100, maxWaitMs: 10_000, minBytes: 1 });
    const refused = rejection(fetch, 'CLOSED');
    await tick();
    const started = Date.now();
    await slot.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await refused;
  });

  it('close during a restart fails the waiting calls with CLOSED and starts nothing more', async () => {
    const hosts = new FakeHosts();
    const { slot, restarts } = newSlot(hosts);
    await slot.start();
    // Two quick deaths put the third start behind a backoff.
    let restarted = nextRestart(restarts);
    hosts.latest.crash();
    await restarted;
    restarted = nextRestart(restarts);
    hosts.latest.crash();
    await restarted;
    hosts.latest.crash();
    await tick();
    const waiting = append(slot);
    const started = hosts.hosts.length;
    await slot.close();
    await rejection(waiting, 'CLOSED');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(hosts.hosts).toHaveLength(started);
  });

  it('gives up a new host that never says hello, takes its task back, and restarts with backoff', async () => {
    const hosts = new FakeHosts();
    const { slot, restarts } = newSlot(hosts, { requestTimeoutMs: 100 });
    await slot.start();
    const restarted = nextRestart(restarts);
    hosts.silentOnStart = true;
    hosts.latest.crash();
    await tick();
    const silent = hosts.latest;
    expect(silent.silent).toBe(true);
    // No partition is opened on a host that has not said it runs.
    expect(silent.received).toEqual([]);
    hosts.silentOnStart = false;
    const event = await restarted;
    expect(hosts.aborted).toEqual([silent]);
    expect(event.failed).toEqual([]);
    expect(hosts.hosts.length).toBe(3);
    await expect(append(slot)).resolves.toMatchObject({ baseOffset: 0 });
  });
});
