/**
 * The embedded runtime: a pool of worker threads, each hosting a share of all partitions, and the
 * main-thread side that owns topic metadata, routes every request to the thread owning its
 * partition, and supervises the threads.
 *
 * ```ts
 * const rt = await Runtime.open({ dir: './data', threads: 4 });
 * await rt.admin.createTopic('clicks', { partitions: 8 });
 * const { baseOffset } = await rt.request('append', { topic: 'clicks', partition: 0, batch, acks: 1, logAppendTime: false });
 * await rt.close();
 * ```
 *
 * Each thread slot runs one long-lived piscina task (`hostPartitions`) that serves the message
 * contract of `messages.ts` on a MessagePort; see `Slot` for what happens when a thread dies.
 *
 * An open runtime keeps the process alive, as a listening server does: its threads hold
 * partitions whose last appends may not be fsynced yet, so the process should end with `close()`,
 * which flushes and closes every partition, stops the threads and releases the directory lock.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { TributaryError, storageError } from '../errors.js';
import { partitionWorkerEntry } from '../partition/worker-entry.js';
import { Admin } from './admin.js';
import { lockDir, type DirLock } from './dir-lock.js';
import type { ClientRequestType, GroupRef, MetadataSnapshot, PartitionRef, UplinkCall, WorkerHostTask, WorkerRequests } from './messages.js';
import { OFFSETS_TOPIC, offsetsPartitionFor, offsetsTopicConfig } from './offsets-topic.js';
import { defineOptions, type OptionsInput } from './options.js';
import type { PartitionClient, ProducerIdentity, TopicMetadata } from './partition-client.js';
import { Placement } from './placement.js';
import { Slot, type OpenPartitionArgs, type SlotRestart } from './slot.js';
import { TaskSupervisor, type ThreadTaskHandle, type ThreadTaskSpec } from './task-supervisor.js';
import { logConfigFor, type TopicConfig } from './topic-config.js';
import { TopicStore, type StoredTopic } from './topic-store.js';

const INT32_MAX = 0x7fff_ffff;

export const parseRuntimeOptions = defineOptions('runtime', {
  /** The data directory: topic metadata and one directory per partition. Created if missing. Default `./.tributary`. */
  dir: {
    type: 'custom',
    expected: 'a non-empty path string',
    is: (value: unknown): value is string => typeof value === 'string' && value.length > 0,
    default: './.tributary',
  },
  /** Worker threads hosting partitions. Default: one per core (`os.availableParallelism()`). */
  threads: { type: 'integer', min: 1, max: 1024, default: Math.max(1, os.availableParallelism()) },
  /** How often time and size retention runs on every partition (Kafka `log.retention.check.interval.ms`). Default 5 minutes. */
  retentionCheckIntervalMs: { type: 'integer', min: 1, max: INT32_MAX, default: 300_000 },
  /**
   * How long a request waits for its answer, including any wait for a restarting thread, before
   * failing with REQUEST_TIMED_OUT (Kafka `request.timeout.ms`); a fetch may wait its `maxWaitMs`
   * on top. Default 30 s.
   */
  requestTimeoutMs: { type: 'integer', min: 1, max: INT32_MAX, default: 30_000 },
  /**
   * Partitions of `__consumer_offsets`, created with the first consumer group (Kafka
   * `offsets.topic.num.partitions`, default 50 there). Groups spread over threads by partition, so
   * more partitions than threads; fixed once created, since a group's partition follows from it.
   * Default 16.
   */
  offsetsTopicPartitions: { type: 'integer', min: 1, max: 1000, default: 16 },
});

export type RuntimeOptions = OptionsInput<typeof parseRuntimeOptions.schema>;

/** Emitted once a thread that died has been replaced and its partitions reopened. */
export type WorkerRestartedEvent = SlotRestart;

export interface RetentionFailedEvent {
  readonly slot: number;
  readonly error: Error;
}

export interface RuntimeEvents {
  workerRestarted: [WorkerRestartedEvent];
  /** A periodic retention pass failed on a slot; the next pass retries. */
  retentionFailed: [RetentionFailedEvent];
}


export class Runtime extends EventEmitter<RuntimeEvents> implements PartitionClient {
  /** Topic management, KafkaJS-style. */
  readonly admin: Admin;
  private readonly slots: Slot[];
  private readonly tasks: TaskSupervisor;
  private readonly retentionTimer: NodeJS.Timeout;
  private retentionPass: Promise<void> | undefined;
  /** The last metadata change queued; changes run one at a time. */
  private metadataTail: Promise<unknown> = Promise.resolve();
  /** Counts metadata changes published to the threads (see MetadataSnapshot). */
  private metadataVersion = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    /** The data directory's real path. */
    readonly dir: string,
    readonly threads: number,
    private readonly lock: DirLock,
    private readonly store: TopicStore,
    private readonly placement: Placement,
    private readonly pool: Piscina<WorkerHostTask, void>,
    requestTimeoutMs: number,
    retentionCheckIntervalMs: number,
    private readonly offsetsTopicPartitions: number,
  ) {
    super();
    this.admin = new Admin(this);
    this.slots = Array.from(
      { length: threads },
      (_, index) =>
        new Slot({
          index,
          requestTimeoutMs,
          startHost: (slot: number, port: MessagePort, uplink: MessagePort, signal: AbortSignal) =>
            pool.run({ slot, port, uplink }, { transferList: [port, uplink], signal }),
          partitions: () => this.placement.partitionsOn(index).map((ref) => this.openArgs(ref)),
          onRestarted: (restart) => {
            this.tasks.slotRestarted(restart.slot);
            this.emit('workerRestarted', restart);
          },
          serveUplink: (call) => this.serveUplink(call),
          metadata: () => this.metadataSnapshot(),
        }),
    );
    this.tasks = new TaskSupervisor(
      {
        // A task starts once its thread has the metadata of this moment (see messages.ts, startTask).
        startTask: (slot, args) => this.slots[slot].call('startTask', { ...args, metadataVersion: this.metadataVersion }),
        stopTask: (slot, args) => this.slots[slot].call('stopTask', args),
      },
      threads,
    );
    this.retentionTimer = setInterval(() => this.applyRetention(), retentionCheckIntervalMs).unref();
  }

  /**
   * Opens (creating if needed) the data directory: locks it (DIR_LOCKED if another runtime, in
   * this process or another, has it open), loads the topic metadata, starts the threads and opens
   * every partition on its thread, which recovers its log.
   */
  static async open(input?: RuntimeOptions): Promise<Runtime> {
    const options = parseRuntimeOptions(input);
    const lock = lockDir(path.resolve(options.dir));
    let pool: Piscina<WorkerHostTask, void> | undefined;
    let runtime: Runtime;
    try {
      const store = await TopicStore.load(lock.dir);
      const placement = new Placement(options.threads);
      for (const topic of store.topics) placement.grow(topic.name, topic.partitions);
      pool = new Piscina<WorkerHostTask, void>({
        filename: partitionWorkerEntry(),
        minThreads: options.threads,
        maxThreads: options.threads,
        idleTimeout: Infinity,
        concurrentTasksPerWorker: 1,
      });
      // Without a listener an 'error' event would throw; a thread's failure reaches its slot as a rejected host task.
      pool.on('error', () => undefined);
      runtime = new Runtime(
        lock.dir,
        options.threads,
        lock,
        store,
        placement,
        pool,
        options.requestTimeoutMs,
        options.retentionCheckIntervalMs,
        options.offsetsTopicPartitions,
      );
    } catch (error) {
      await pool?.destroy();
      lock.release();
      throw error;
    }
    const started = await Promise.allSettled(runtime.slots.map((slot) => slot.start()));
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) {
      await runtime.close();
      throw failure.reason;
    }
    return runtime;
  }

  /** True once `close()` has been called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Thread restarts since the runtime opened, over all slots. */
  get restarts(): number {
    return this.slots.reduce((sum, slot) => sum + slot.restarts, 0);
  }

  topic(name: string): TopicMetadata {
    const stored = this.store.get(name);
    if (stored === undefined) throw unknownTopic(name);
    return { name, partitions: stored.partitions, compression: stored.config.compression, timestampType: stored.config.timestampType };
  }

  request<T extends ClientRequestType>(
    type: T,
    args: WorkerRequests[T]['args'],
    transfer: readonly ArrayBuffer[] = [],
  ): Promise<WorkerRequests[T]['result']> {
    if (this.closing !== undefined) return Promise.reject(this.closedError());
    if (typeof args !== 'object' || args === null) {
      return Promise.reject(new TributaryError('INVALID_REQUEST', `Request ${String(type)} needs an arguments object`, { type }));
    }
    const slot = this.placement.slotOf(args.topic, args.partition);
    if (slot === undefined) return Promise.reject(unknownPartition(args.topic, args.partition, this.store.get(args.topic)));
    return this.slots[slot].call(type, args, transfer);
  }

  /**
   * Runs a task (an exported function of a module) on the thread of `slot`, next to that slot's
   * partitions; see thread-tasks.ts for what the task gets. A task whose thread dies is started
   * again on the replacement. Resolves once the task has started.
   */
  startThreadTask(slot: number, spec: ThreadTaskSpec): Promise<ThreadTaskHandle> {
    if (this.closing !== undefined) return Promise.reject(this.closedError());
    return this.tasks.start(slot, spec);
  }

  async groupCoordinator(groupId: string): Promise<GroupRef> {
    if (typeof groupId !== 'string' || groupId === '') {
      throw new TributaryError('INVALID_GROUP_ID', `a group id must be a non-empty string, got ${JSON.stringify(groupId)}`, { groupId: String(groupId) });
    }
    if (this.store.get(OFFSETS_TOPIC) === undefined) await this.admin.createInternalTopic(OFFSETS_TOPIC, offsetsTopicConfig(this.offsetsTopicPartitions));
    const partitions = this.store.get(OFFSETS_TOPIC)!.partitions;
    return { topic: OFFSETS_TOPIC, partition: offsetsPartitionFor(groupId, partitions), groupId };
  }

  async initProducerId(): Promise<ProducerIdentity> {
    if (this.closing !== undefined) throw this.closedError();
    return { producerId: await this.store.allocateProducerId(), producerEpoch: 0 };
  }

  /**
   * Stops taking requests (they fail with CLOSED), waits for those in flight (long-poll fetches
   * still parked fail with CLOSED instead of holding the close up) and for a metadata change in
   * progress, closes every partition on its thread (writing and fsyncing it), stops the threads
   * and releases the directory. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- For Admin: metadata changes. Each runs inside `exclusive`, so checks and changes do not interleave. ----

  /** Runs `change` after every metadata change queued before it; rejects with CLOSED once the runtime is closing. */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(this.closedError());
    const result = this.metadataTail.catch(() => undefined).then(change);
    this.metadataTail = result;
    // Worker threads' clients learn of every change, including a partial one that failed and was undone.
    void result.then(
      () => this.publishMetadata(),
      () => this.publishMetadata(),
    );
    return result;
  }

  /** Topics in creation order. */
  storedTopics(): readonly StoredTopic[] {
    return this.store.topics;
  }

  storedTopic(name: string): StoredTopic | undefined {
    return this.store.get(name);
  }

  /** The thread slot owning a partition, or undefined if there is no such partition. */
  slotOf(topic: string, partition: number): number | undefined {
    return this.placement.slotOf(topic, partition);
  }

  /** Partitions per thread slot. */
  slotLoads(): readonly number[] {
    return this.placement.counts();
  }

  /**
   * Creates topics the caller has validated: persists them, places their partitions and opens
   * them. If any partition fails to open, the topics are removed again and the error is thrown.
   */
  async addTopics(topics: readonly StoredTopic[]): Promise<void> {
    // A directory left by a topic of the same name whose deletion was interrupted must not reappear as its data.
    await Promise.all(topics.flatMap((topic) => range(0, topic.partitions).map((partition) => this.removePartitionDir(topic.name, partition))));
    await this.store.add(topics);
    const refs = topics.flatMap((topic) => {
      this.placement.grow(topic.name, topic.partitions);
      return range(0, topic.partitions).map((partition) => ({ topic: topic.name, partition }));
    });
    const failure = await this.openAll(refs);
    if (failure === undefined) return;
    for (const topic of topics) this.placement.remove(topic.name);
    await this.store.remove(topics.map((topic) => topic.name));
    throw failure;
  }

  /** Deletes topics: removes them from the metadata first, so no new request reaches them, then closes their partitions and deletes their files. */
  async removeTopics(names: readonly string[]): Promise<void> {
    const refs = names.flatMap((name) => range(0, this.store.get(name)?.partitions ?? 0).map((partition) => ({ topic: name, partition })));
    const owners = refs.map((ref) => this.placement.slotOf(ref.topic, ref.partition)!);
    await this.store.remove(names);
    for (const name of names) this.placement.remove(name);
    await Promise.all(
      refs.map(async (ref, i) => {
        try {
          await this.slots[owners[i]].call('closePartition', { ...ref, deleteFiles: true });
        } catch {
          // The thread died or could not delete; the partition is no longer placed, so no thread reopens it and the files can go from here.
          await this.removePartitionDir(ref.topic, ref.partition);
        }
      }),
    );
  }

  /** Raises partition counts (validated by the caller) and opens the new partitions; on failure the counts are restored and the error thrown. */
  async addPartitions(counts: ReadonlyMap<string, number>): Promise<void> {
    const previous = new Map([...counts.keys()].map((name) => [name, this.store.get(name)!.partitions]));
    const refs = [...counts].flatMap(([topic, count]) => range(previous.get(topic)!, count).map((partition) => ({ topic, partition })));
    await Promise.all(refs.map((ref) => this.removePartitionDir(ref.topic, ref.partition)));
    await this.store.setPartitions(counts);
    for (const [topic, count] of counts) this.placement.grow(topic, count);
    const failure = await this.openAll(refs);
    if (failure === undefined) return;
    for (const [topic, count] of previous) this.placement.shrink(topic, count);
    await this.store.setPartitions(previous);
    throw failure;
  }

  /**
   * Replaces a topic's settings (validated by the caller): persists them, then closes and reopens
   * each partition so that its log runs under them. A request reaching a partition in between
   * fails with the retriable PARTITION_UNAVAILABLE, which clients retry.
   */
  async reconfigureTopic(name: string, config: TopicConfig): Promise<void> {
    await this.store.setConfig(name, config);
    await Promise.all(
      range(0, this.store.get(name)!.partitions).map(async (partition) => {
        const ref = { topic: name, partition };
        const slot = this.slots[this.placement.slotOf(name, partition)!];
        // A failed close (its thread died, or its last write failed) leaves the partition closed all the same; reopening recovers it.
        await slot.call('closePartition', { ...ref, deleteFiles: false }).catch(() => undefined);
        await slot.call('openPartition', this.openArgs(ref));
      }),
    );
  }

  // ---- internals ----

  /** A client call from code on a worker thread (ThreadClient), served as the main thread's own. */
  private serveUplink(call: UplinkCall): Promise<unknown> {
    switch (call.kind) {
      case 'request':
        return this.request(call.type, call.args as never);
      case 'initProducerId':
        return this.initProducerId();
      case 'groupCoordinator':
        return this.groupCoordinator(call.groupId);
      case 'taskEnded':
        this.tasks.ended(call.taskId, call.error === null ? null : TributaryError.fromJSON(call.error));
        return Promise.resolve(null);
    }
  }

  /** Every topic with the slot of each partition, as worker threads' clients see them. */
  private metadataSnapshot(): MetadataSnapshot {
    return {
      version: this.metadataVersion,
      metadata: this.store.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions,
        compression: topic.config.compression,
        timestampType: topic.config.timestampType,
        slots: range(0, topic.partitions).map((partition) => this.placement.slotOf(topic.name, partition)!),
      })),
    };
  }

  /** Tells every thread's client about a metadata change. */
  private publishMetadata(): void {
    this.metadataVersion++;
    const snapshot = this.metadataSnapshot();
    for (const slot of this.slots) slot.publish(snapshot);
  }

  private closedError(): TributaryError {
    return new TributaryError('CLOSED', `The runtime on ${this.dir} is closed`, { dir: this.dir });
  }

  private openArgs(ref: PartitionRef): OpenPartitionArgs {
    const stored = this.store.get(ref.topic)!;
    return { ...ref, dir: this.partitionDir(ref.topic, ref.partition), config: logConfigFor(stored.config) };
  }

  /** `<dir>/<topic>-<partition>`, as Kafka lays out its log directories. */
  private partitionDir(topic: string, partition: number): string {
    return path.join(this.dir, `${topic}-${partition}`);
  }

  /** Opens partitions on their threads; on any failure closes (and deletes) the ones that opened and returns the first error. */
  private async openAll(refs: readonly PartitionRef[]): Promise<Error | undefined> {
    const outcomes = await Promise.allSettled(refs.map((ref) => this.slots[this.placement.slotOf(ref.topic, ref.partition)!].call('openPartition', this.openArgs(ref))));
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure === undefined) return undefined;
    await Promise.all(
      refs.map(async (ref, i) => {
        if (outcomes[i].status === 'fulfilled') {
          await this.slots[this.placement.slotOf(ref.topic, ref.partition)!]
            .call('closePartition', { ...ref, deleteFiles: true })
            .catch(() => this.removePartitionDir(ref.topic, ref.partition));
        } else {
          await this.removePartitionDir(ref.topic, ref.partition).catch(() => undefined);
        }
      }),
    );
    return failure.reason as Error;
  }

  private async removePartitionDir(topic: string, partition: number): Promise<void> {
    const dir = this.partitionDir(topic, partition);
    try {
      await fs.rm(dir, { recursive: true, force: true });
    } catch (cause) {
      throw storageError('remove partition directory', dir, cause);
    }
  }

  /** One retention pass over every slot; a pass still running when the timer fires again is not doubled. */
  private applyRetention(): void {
    if (this.retentionPass !== undefined || this.closing !== undefined) return;
    const now = Date.now();
    this.retentionPass = Promise.all(
      this.slots.map((slot) =>
        slot.call('applyRetention', { now }).then(
          () => undefined,
          (error: Error) => {
            if (!TributaryError.is(error, 'CLOSED')) this.emit('retentionFailed', { slot: slot.index, error });
          },
        ),
      ),
    ).then(() => {
      this.retentionPass = undefined;
    });
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.retentionTimer);
    // Tasks first: they may still produce to partitions, and commit, on their way out.
    await this.tasks.stopAll();
    await this.metadataTail.catch(() => undefined);
    await this.retentionPass;
    await Promise.all(this.slots.map((slot) => slot.close()));
    await this.store.settled();
    await this.pool.destroy();
    this.lock.release();
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

function unknownTopic(topic: string): TributaryError {
  return new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `Topic ${JSON.stringify(topic)} does not exist`, { topic });
}

function unknownPartition(topic: unknown, partition: unknown, stored: StoredTopic | undefined): TributaryError {
  if (stored === undefined) return unknownTopic(String(topic));
  return new TributaryError(
    'UNKNOWN_TOPIC_OR_PARTITION',
    `Topic ${JSON.stringify(topic)} has no partition ${String(partition)}; its partitions are 0..${stored.partitions - 1}`,
    { topic: stored.name, partition: typeof partition === 'number' ? partition : String(partition) },
  );
}
