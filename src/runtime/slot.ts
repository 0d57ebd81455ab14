/**
 * One thread slot of the runtime: the main thread's end of the message contract with the worker
 * hosting the slot's partitions, and the supervisor that replaces that worker when it dies.
 *
 * Calls are matched to answers by id. When the host dies (an uncaught error, `process.exit()` or
 * `terminate()` on its thread), every call it had not answered is rejected with
 * PARTITION_UNAVAILABLE: the outcome is unknown, so clients retry, and idempotent producers make
 * the retry safe. The slot then starts a new host, reopens its partitions (which runs log
 * recovery) and only then sends the calls that arrived meanwhile, in arrival order; each waits at
 * most its timeout. A host that keeps dying right after coming back is restarted with exponential
 * backoff instead of in a tight loop.
 *
 * A new host that does not post its `HostReady` hello within the request timeout counts as dead
 * too: its thread may never have started (piscina, once a thread dies while starting, starts no
 * replacement for it and leaves the task queued, neither running nor rejecting it). The slot
 * takes the task back through the AbortSignal it gave `startHost` (which also ends the thread if
 * the task was running on one) and restarts with its backoff; each new `startHost` then asks the
 * pool for a task again, which makes piscina start a thread for it.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { TributaryError } from '../errors.js';
import type { HostReady, MetadataSnapshot, PartitionRef, RequestType, UplinkCall, WorkerRequests, WorkerResponse } from './messages.js';
import { IdTable } from './id-table.js';
import { uplinkAnswer } from './thread-client.js';

/**
 * Starts a host for `slot` serving the contract on `port` and sending its thread's own client
 * calls on `uplink`; settles when the host stops. When `signal` aborts, the host is to be given
 * up: a task not started yet must not start, and one running must stop (its thread may be ended).
 */
export type HostStarter = (slot: number, port: MessagePort, uplink: MessagePort, signal: AbortSignal) => Promise<unknown>;

export type OpenPartitionArgs = WorkerRequests['openPartition']['args'];

export interface SlotRestart {
  readonly slot: number;
  /** Why the previous host stopped. */
  readonly reason: Error;
  /** Restarts of this slot since the runtime opened, this one included. */
  readonly restarts: number;
  /** Partitions that failed to reopen; each keeps answering PARTITION_UNAVAILABLE. */
  readonly failed: ReadonlyArray<PartitionRef & { readonly error: Error }>;
}

export interface SlotOptions {
  readonly index: number;
  readonly startHost: HostStarter;
  /** How long a call may wait for its answer, including time spent waiting for a restart. */
  readonly requestTimeoutMs: number;
  /** The partitions to open whenever a host starts, in order. */
  readonly partitions: () => readonly OpenPartitionArgs[];
  readonly onRestarted: (restart: SlotRestart) => void;
  /** Serves a client call from code on the slot's thread (see ThreadClient). */
  readonly serveUplink: (call: UplinkCall) => Promise<unknown>;
  /** The metadata every new host gets before anything else. */
  readonly metadata: () => MetadataSnapshot;
}

/** A host that ran at least this long before dying is not in a crash loop. */
const STABLE_MS = 10_000;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;

/** How long `close` waits for a host to close its partitions before giving up on it. */
const CLOSE_TIMEOUT_MS = 30_000;

interface Host {
  readonly port: MessagePort;
  readonly uplink: MessagePort;
  /** Settles when the host task has stopped. */
  readonly stopped: Promise<void>;
  /** Gives the host task up (see HostStarter). */
  readonly abort: AbortController;
  /** Resolves true on the host's hello, false if it dies first. */
  readonly ready: Promise<boolean>;
  readonly markReady: (ready: boolean) => void;
  dead: boolean;
  /** Why it died, unless the slot closed it. */
  reason?: Error;
}

interface Call {
  readonly id: number;
  readonly type: RequestType;
  readonly args: unknown;
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  /** The host it was posted to; undefined while it waits for the slot to come up. */
  host: Host | undefined;
}

type State = 'starting' | 'up' | 'recovering' | 'closing' | 'closed';

export class Slot {
  private state: State = 'starting';
  private host: Host | undefined;
  /** Unanswered calls, posted or waiting, in the order they were made. */
  private readonly calls = new IdTable<Call>();
  private nextId = 0;
  private restartCount = 0;
  /** Deaths since the host last ran for STABLE_MS. */
  private failuresInARow = 0;
  private upSince = 0;
  private recovery: Promise<void> | undefined;
  private wakeRecovery: (() => void) | undefined;
  private readonly drainWaiters: (() => void)[] = [];

  constructor(private readonly options: SlotOptions) {}

  get index(): number {
    return this.options.index;
  }

  get restarts(): number {
    return this.restartCount;
  }

  /** Starts the first host and opens the slot's partitions; rejects with the first failure. */
  async start(): Promise<void> {
    const host = this.spawn();
    const outcomes = await this.openPartitions(host);
    const failure = outcomes.find((outcome) => outcome.error !== undefined);
    if (failure !== undefined) throw failure.error;
    if (host.dead) {
      // The task's failure, the better reason, may settle just after the port closed.
      await Promise.race([host.stopped, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      throw unavailable(this.index, `its thread stopped while starting (${host.reason!.message})`, host.reason);
    }
    this.becomeUp();
  }

  /** Pushes new metadata to the live host's thread client; a host started later gets it from `options.metadata`. */
  publish(snapshot: MetadataSnapshot): void {
    const host = this.host;
    if (host !== undefined && !host.dead) host.uplink.postMessage(snapshot);
  }

  /** Sends a request to the slot's host; see the class comment for what happens if it dies. */
  call<T extends RequestType>(type: T, args: WorkerRequests[T]['args'], transfer: readonly ArrayBuffer[] = []): Promise<WorkerRequests[T]['result']> {
    if (this.state === 'closing' || this.state === 'closed') return Promise.reject(closedError(this.index));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const longPoll = longPollMs(type, args);
      const timeoutMs = this.options.requestTimeoutMs + (Number.isFinite(longPoll) && longPoll > 0 ? longPoll : 0);
      const timer = setTimeout(() => this.timeOut(id, type, timeoutMs), timeoutMs).unref();
      const call: Call = { id, type, args, transfer, resolve: resolve as (value: unknown) => void, reject, timer, host: undefined };
      this.calls.set(id, call);
      if (this.state === 'up') this.post(call, this.host!);
    });
  }

  /**
   * Stops accepting calls and waits for those in flight, then closes the port so the host closes
   * its partitions, and waits for it to stop. Calls waiting for a restart, and long-poll fetches
   * still parked (which could hold the close up for their whole wait), fail with CLOSED; a
   * consumer loses nothing by that, it fetches the same offset again elsewhere.
   */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    for (const call of [...this.calls.values()]) {
      if (call.host === undefined) this.settle(call, closedError(this.index));
    }
    this.wakeRecovery?.();
    await this.recovery;
    await this.drained();
    for (const call of [...this.calls.values()]) this.settle(call, closedError(this.index));
    const host = this.host;
    if (host !== undefined && !host.dead) {
      host.dead = true;
      host.port.close();
      host.uplink.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([host.stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS).unref()))]);
      clearTimeout(timer);
    }
    this.state = 'closed';
  }

  private spawn(): Host {
    const { port1, port2 } = new MessageChannel();
    const uplink = new MessageChannel();
    let host!: Host;
    let task: Promise<unknown>;
    const abort = new AbortController();
    // Queued before the task starts, so the thread's client has metadata before any task of its own runs.
    uplink.port1.postMessage(this.options.metadata());
    try {
      task = this.options.startHost(this.index, port2, uplink.port2, abort.signal);
    } catch (error) {
      task = Promise.reject(error);
    }
    const stopped = task.then(
      () => this.onDeath(host, new Error(`the partition host of slot ${this.index} returned while its port was open`)),
      (reason: unknown) => this.onDeath(host, reason instanceof Error ? reason : new Error(String(reason)), true),
    );
    let markReady!: (ready: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (markReady = resolve));
    host = { port: port1, uplink: uplink.port1, stopped, abort, ready, markReady, dead: false };
    uplink.port1.on('message', (call: UplinkCall) => this.serveUplink(host, call));
    port1.on('message', (message: WorkerResponse | HostReady) => {
      if ('ready' in message) host.markReady(true);
      else this.onResponse(host, message);
    });
    port1.on('close', () => this.onDeath(host, new Error(`the port of slot ${this.index} closed`)));
    this.host = host;
    return host;
  }

  /**
   * Opens the slot's partitions on a new host, once it has said it is ready. A host that does not
   * within the request timeout is given up as dead (see the class comment); the caller sees
   * `host.dead`. After the hello, a partition that fails or is slow to open is reported as failed
   * and the slot comes up regardless.
   */
  private async openPartitions(host: Host): Promise<Array<PartitionRef & { error?: Error }>> {
    if (!(await this.waitReady(host))) return [];
    const partitions = this.options.partitions();
    const settled = await Promise.allSettled(
      partitions.map((args) => {
        const call = this.internalCall('openPartition', args);
        this.post(call, host);
        return call.promise;
      }),
    );
    return settled.map((outcome, i) => ({
      topic: partitions[i].topic,
      partition: partitions[i].partition,
      error: outcome.status === 'rejected' ? (outcome.reason as Error) : undefined,
    }));
  }

  /** Waits for the host's hello; a host silent past the request timeout is declared dead and its task taken back. */
  private async waitReady(host: Host): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.options.requestTimeoutMs).unref()));
    const ready = await Promise.race([host.ready, timedOut]);
    clearTimeout(timer);
    if (ready || host.dead) return ready && !host.dead;
    const reason = new Error(`the partition host of slot ${this.index} did not start within ${this.options.requestTimeoutMs} ms: its thread did not start or is stuck`);
    this.onDeath(host, reason);
    host.abort.abort(reason);
    return false;
  }

  /** A call the slot makes itself to a host that is not up yet, posted at once rather than queued behind the callers' calls. */
  private internalCall<T extends RequestType>(type: T, args: WorkerRequests[T]['args']): Call & { promise: Promise<unknown> } {
    const id = this.nextId++;
    let resolve!: (value: unknown) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const timer = setTimeout(() => this.timeOut(id, type, this.options.requestTimeoutMs), this.options.requestTimeoutMs).unref();
    const call = { id, type, args, transfer: [], resolve, reject, timer, host: undefined, promise };
    this.calls.set(id, call);
    return call;
  }

  private post(call: Call, host: Host): void {
    call.host = host;
    if (host.dead) {
      this.settle(call, unavailable(this.index, 'its thread stopped'));
      return;
    }
    try {
      host.port.postMessage({ id: call.id, type: call.type, args: call.args }, call.transfer);
    } catch (cause) {
      this.settle(
        call,
        new TributaryError('INVALID_REQUEST', `Request ${call.type} cannot be sent to a worker thread: ${(cause as Error).message}`, { type: call.type }, { cause }),
      );
    }
  }

  /** Answers a call from the host's thread unless that host has died meanwhile (nobody would read it). */
  private serveUplink(host: Host, call: UplinkCall): void {
    this.options.serveUplink(call).then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    ).then((outcome) => {
      if (host.dead) return;
      const { answer, transfer } = uplinkAnswer(call.id, outcome);
      host.uplink.postMessage(answer, transfer);
    });
  }

  private onResponse(host: Host, response: WorkerResponse): void {
    const call = this.calls.get(response.id);
    // An answer to a call that timed out, or one from a host already declared dead, has no taker.
    if (call === undefined || call.host !== host) return;
    if (response.ok) this.settle(call, undefined, response.result);
    else this.settle(call, TributaryError.fromJSON(response.error));
  }

  /**
   * `fromTask`: the reason is the host task's own failure (a thread's uncaught error, a module
   * that failed to load), which says more than the closing of its port that often arrives first.
   */
  private onDeath(host: Host, reason: Error, fromTask = false): void {
    if (host.dead) {
      if (fromTask) host.reason = reason;
      return;
    }
    host.dead = true;
    host.markReady(false);
    host.reason = reason;
    host.port.close();
    host.uplink.close();
    for (const call of [...this.calls.values()]) {
      if (call.host === host) {
        this.settle(call, unavailable(this.index, `its thread stopped before answering (${reason.message})`, reason));
      }
    }
    if (this.state !== 'up') return; // Starting or recovering: that code sees `dead` and decides; closing: expected.
    this.state = 'recovering';
    this.failuresInARow = Date.now() - this.upSince >= STABLE_MS ? 1 : this.failuresInARow + 1;
    this.recovery = this.recover(reason);
  }

  private async recover(reason: Error): Promise<void> {
    while (this.state === 'recovering') {
      if (this.failuresInARow > 1) await this.backoff(Math.min(FIRST_BACKOFF_MS * 2 ** (this.failuresInARow - 2), MAX_BACKOFF_MS));
      if (this.state !== 'recovering') return;
      const host = this.spawn();
      const outcomes = await this.openPartitions(host);
      if (this.state !== 'recovering') return;
      if (host.dead) {
        this.failuresInARow++;
        continue;
      }
      this.restartCount++;
      this.becomeUp();
      this.options.onRestarted({
        slot: this.index,
        reason,
        restarts: this.restartCount,
        failed: outcomes.filter((outcome): outcome is PartitionRef & { error: Error } => outcome.error !== undefined),
      });
    }
  }

  private becomeUp(): void {
    this.state = 'up';
    this.upSince = Date.now();
    this.recovery = undefined;
    for (const call of [...this.calls.values()]) {
      if (call.host === undefined) this.post(call, this.host!);
    }
  }

  /** Waits `ms`, or less if `close` wakes it. */
  private backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(wake, ms);
      function wake(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeRecovery = wake;
    }).finally(() => {
      this.wakeRecovery = undefined;
    });
  }

  private timeOut(id: number, type: RequestType, timeoutMs: number): void {
    const call = this.calls.get(id);
    if (call === undefined) return;
    const where = call.host === undefined ? 'waiting for its thread to restart' : 'waiting for an answer';
    this.settle(
      call,
      new TributaryError('REQUEST_TIMED_OUT', `Request ${type} to slot ${this.index} timed out after ${timeoutMs} ms ${where}`, {
        slot: this.index,
        type,
        timeoutMs,
      }),
    );
  }

  private settle(call: Call, error: Error | undefined, result?: unknown): void {
    if (!this.calls.delete(call.id)) return;
    clearTimeout(call.timer);
    if (error === undefined) call.resolve(result);
    else call.reject(error);
    if (this.drainWaiters.length > 0 && this.isDrained()) for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** Resolves once every call left is a fetch. */
  private drained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private isDrained(): boolean {
    for (const call of this.calls.values()) if (call.type !== 'fetch') return false;
    return true;
  }
}

function unavailable(slot: number, why: string, cause?: Error): TributaryError {
  return new TributaryError('PARTITION_UNAVAILABLE', `The partitions of slot ${slot} are unavailable: ${why}`, { slot }, { cause });
}

function closedError(slot: number): TributaryError {
  return new TributaryError('CLOSED', `The runtime is closed (slot ${slot})`, { slot });
}

/**
 * How long the worker may legitimately hold a request before answering, on top of the request
 * timeout: a fetch its `maxWaitMs`, a join the rebalance it waits for (as Kafka's client allows
 * a JoinGroup `rebalance.timeout.ms` plus the request timeout), a held heartbeat its `waitMs`.
 */
function longPollMs(type: RequestType, args: unknown): number {
  if (type === 'fetch') return (args as WorkerRequests['fetch']['args']).maxWaitMs;
  if (type === 'joinGroup') return (args as WorkerRequests['joinGroup']['args']).rebalanceTimeoutMs;
  if (type === 'heartbeat') return (args as WorkerRequests['heartbeat']['args']).waitMs ?? 0;
  return 0;
}
