/**
 * The `PartitionClient` of code running on a partition worker thread — stream-processing tasks
 * and the producers and consumers they make — so that the same client classes run there as on
 * the main thread.
 *
 * A request for a partition this thread hosts goes straight to its PartitionHost, in the same
 * thread, with no message at all: that is what makes a task reading its input partition, or a
 * producer writing to a partition of its own thread, as cheap as a function call. Every other
 * call goes up to the main thread on the uplink port, which routes it as it routes its own
 * clients' calls, with their timeouts, supervision and retriable errors when a thread dies.
 *
 * Local calls carry negative ids, so the worker can tell their answers from those for the main
 * thread, which uses ids from 0 up.
 */
import type { MessagePort } from 'node:worker_threads';
import { TributaryError } from '../errors.js';
import { IdTable } from './id-table.js';
import {
  type ClientRequestType,
  type GroupRef,
  type MetadataSnapshot,
  type PartitionRef,
  type ThreadTopic,
  type UplinkAnswer,
  type UplinkCall,
  type WorkerRequest,
  type WorkerRequests,
  type WorkerResponse,
} from './messages.js';
import type { PartitionClient, ProducerIdentity, TopicMetadata } from './partition-client.js';

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** Hands a request to this thread's PartitionHost. */
export type LocalDispatch = (request: WorkerRequest) => void;

export class ThreadClient implements PartitionClient {
  private topics = new Map<string, ThreadTopic>();
  /** Local calls, under the negation of their (negative) ids. */
  private readonly local = new IdTable<Pending>();
  private readonly uplinkCalls = new IdTable<Pending>();
  private nextLocalId = -1;
  private nextUplinkId = 0;
  private closed = false;
  private metadataVersion = -1;
  /** Callers waiting for metadata at least as new as their version. */
  private readonly metadataWaiters: Array<{ readonly version: number; readonly wake: () => void }> = [];

  constructor(
    /** This thread's slot. */
    readonly slot: number,
    private readonly uplink: MessagePort,
    private readonly dispatch: LocalDispatch,
  ) {
    uplink.on('message', (message: UplinkAnswer | MetadataSnapshot) => {
      if ('metadata' in message) this.onMetadata(message);
      else this.onAnswer(message);
    });
    uplink.on('close', () => this.close());
  }

  /** True for a response to one of this client's local calls (see the module comment). */
  static isLocal(response: WorkerResponse): boolean {
    return response.id < 0;
  }

  topic(name: string): TopicMetadata {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `Topic ${JSON.stringify(name)} does not exist`, { topic: name });
    return { name: topic.name, partitions: topic.partitions, compression: topic.compression, timestampType: topic.timestampType };
  }

  /** The slot hosting a partition, per the latest metadata; undefined if unknown. */
  slotOf(topic: string, partition: number): number | undefined {
    return this.topics.get(topic)?.slots[partition];
  }

  /** Resolves once metadata of at least `version` has reached this thread (the first snapshot is pushed when the thread starts); at once when closed. */
  metadataReady(version = 0): Promise<void> {
    if (this.metadataVersion >= version || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.metadataWaiters.push({ version, wake: resolve }));
  }

  isLocal(topic: string, partition: number): boolean {
    return this.slotOf(topic, partition) === this.slot;
  }

  request<T extends ClientRequestType>(type: T, args: WorkerRequests[T]['args'], transfer: readonly ArrayBuffer[] = []): Promise<WorkerRequests[T]['result']> {
    if (this.closed) return Promise.reject(closedError());
    const ref = args as unknown as PartitionRef;
    if (this.isLocal(ref.topic, ref.partition)) {
      return new Promise((resolve, reject) => {
        const id = this.nextLocalId--;
        this.local.set(-id, { resolve: resolve as (value: unknown) => void, reject });
        this.dispatch({ id, type, args } as WorkerRequest);
      });
    }
    return this.up({ id: 0, kind: 'request', type, args }, transfer) as Promise<WorkerRequests[T]['result']>;
  }

  initProducerId(): Promise<ProducerIdentity> {
    return this.up({ id: 0, kind: 'initProducerId' }) as Promise<ProducerIdentity>;
  }

  groupCoordinator(groupId: string): Promise<GroupRef> {
    return this.up({ id: 0, kind: 'groupCoordinator', groupId }) as Promise<GroupRef>;
  }

  /** Reports a thread task's end to the runtime (see thread-tasks.ts); nothing to wait for. */
  taskEnded(taskId: string, error: TributaryError | null): void {
    this.up({ id: 0, kind: 'taskEnded', taskId, error: error === null ? null : error.toJSON() }).catch(() => undefined);
  }

  /** Settles a local call with the host's answer. */
  deliver(response: WorkerResponse): void {
    const pending = this.local.get(-response.id);
    if (pending === undefined) return;
    this.local.delete(-response.id);
    // On a later turn of the event loop, as an answer through a port arrives: a host answers a local
    // request within the same turn, so a client that loops on local answers (a consumer re-fetching
    // while its budget is full) would otherwise run on microtasks alone and starve every timer and
    // the very delivery that frees its budget.
    setImmediate(() => {
      if (response.ok) pending.resolve(response.result);
      else pending.reject(TributaryError.fromJSON(response.error));
    });
  }

  /** Fails every call still waiting with CLOSED; later calls fail at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const pending of [...this.local.values(), ...this.uplinkCalls.values()]) pending.reject(closedError());
    this.local.clear();
    this.uplinkCalls.clear();
    for (const { wake } of this.metadataWaiters.splice(0)) wake();
  }

  private up(call: UplinkCall, transfer: readonly ArrayBuffer[] = []): Promise<unknown> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      const id = this.nextUplinkId++;
      this.uplinkCalls.set(id, { resolve, reject });
      try {
        this.uplink.postMessage({ ...call, id }, transfer as ArrayBuffer[]);
      } catch (cause) {
        this.uplinkCalls.delete(id);
        reject(new TributaryError('INVALID_REQUEST', `A call cannot be sent to the runtime: ${(cause as Error).message}`, { kind: call.kind }, { cause }));
      }
    });
  }

  private onAnswer(answer: UplinkAnswer): void {
    const pending = this.uplinkCalls.get(answer.id);
    if (pending === undefined) return;
    this.uplinkCalls.delete(answer.id);
    if (answer.ok) pending.resolve(answer.result);
    else pending.reject(TributaryError.fromJSON(answer.error));
  }

  private onMetadata(snapshot: MetadataSnapshot): void {
    this.topics = new Map(snapshot.metadata.map((topic) => [topic.name, topic]));
    this.metadataVersion = snapshot.version;
    for (let i = this.metadataWaiters.length - 1; i >= 0; i--) {
      const waiter = this.metadataWaiters[i];
      if (waiter.version > snapshot.version) continue;
      this.metadataWaiters.splice(i, 1);
      waiter.wake();
    }
  }
}

/**
 * The uplink answer for a settled call, with fetched bytes transferred rather than copied: they
 * arrived from the partition's thread as the only view of a transferred ArrayBuffer (see
 * Log.read), which moves on whole, the view's offset and length with it.
 */
export function uplinkAnswer(id: number, outcome: { ok: true; result: unknown } | { ok: false; error: unknown }): { answer: UplinkAnswer; transfer: ArrayBuffer[] } {
  if (!outcome.ok) {
    const error = TributaryError.is(outcome.error)
      ? outcome.error
      : new TributaryError('STORAGE_ERROR', `the runtime failed: ${(outcome.error as Error)?.message ?? String(outcome.error)}`, {});
    return { answer: { id, ok: false, error: error.toJSON() }, transfer: [] };
  }
  const bytes = (outcome.result as { bytes?: unknown } | null)?.bytes;
  return { answer: { id, ok: true, result: outcome.result }, transfer: bytes instanceof Uint8Array ? [bytes.buffer as ArrayBuffer] : [] };
}

function closedError(): TributaryError {
  return new TributaryError('CLOSED', 'The runtime is closed, or this thread is stopping', {});
}
