/**
 * An in-memory stand-in for the runtime's PartitionClient: each partition is a real `Log` in a
 * temporary directory, so fetch answers have the runtime's semantics (whole CRC-verified batches,
 * possibly starting before the requested offset; OFFSET_OUT_OF_RANGE outside the log), and a fetch
 * with `maxWaitMs` waits for appends (long-poll). Group requests go to a real `GroupCoordinator`
 * (in this process, over an in-memory `__consumer_offsets` log that `restartCoordinator` replays,
 * as a reopened partition is). Answers arrive on a later turn of the event loop and errors cross
 * as `toJSON`/`fromJSON`, as they do from a worker thread. Tests can count requests, inject
 * failures and change metadata.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TributaryError } from '../../../src/errors.js';
import { GROUP_REQUEST_TYPES, GroupCoordinator, type GroupCoordinatorOptions, type GroupRequestType, type OffsetsRecord } from '../../../src/group/group-coordinator.js';
import { Log } from '../../../src/log/index.js';
import { encodeRecordBatch, type EncodeOptions, type RecordInput } from '../../../src/record/index.js';
import type { AppendResponse, GroupRef, RequestType, WorkerRequests } from '../../../src/runtime/messages.js';
import type { PartitionClient, ProducerIdentity, TopicMetadata } from '../../../src/runtime/partition-client.js';

type ClientRequestType = Exclude<RequestType, 'applyRetention' | 'flush'>;

interface Waiter {
  readonly args: WorkerRequests['fetch']['args'];
  readonly resolve: (result: WorkerRequests['fetch']['result']) => void;
  readonly timer: NodeJS.Timeout;
}

interface FakeTopic {
  metadata: TopicMetadata;
  readonly logs: Log[];
}

interface Injected {
  readonly type: ClientRequestType;
  readonly topic: string;
  readonly partition: number;
  readonly error: TributaryError;
  remaining: number;
}

export class FakePartitionClient implements PartitionClient {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-consumer-'));
  /** The `__consumer_offsets` records the group coordinator wrote. */
  readonly offsetsRecords: OffsetsRecord[] = [];
  coordinator: GroupCoordinator;
  /** Every request received, in order. */
  readonly requests: { readonly type: ClientRequestType; readonly args: { readonly topic: string; readonly partition: number } }[] = [];
  private readonly topics = new Map<string, FakeTopic>();
  private readonly waiters = new Set<Waiter>();
  private readonly injected: Injected[] = [];
  private nextProducerId = 0;
  private closed = false;

  /** `options` go to the group coordinator: a SimulatedClock makes its sessions expire when the test says. */
  constructor(private readonly options: GroupCoordinatorOptions = {}) {
    this.coordinator = this.newCoordinator();
  }

  /** A new coordinator rebuilt from the records, as after the runtime restarts (its members are gone). */
  restartCoordinator(): void {
    this.coordinator.close();
    this.coordinator = this.newCoordinator();
  }

  createTopic(name: string, partitions: number, options: { timestampType?: 'create' | 'log-append' } = {}): void {
    const topic: FakeTopic = {
      metadata: { name, partitions: 0, compression: 'producer', timestampType: options.timestampType ?? 'create' },
      logs: [],
    };
    this.topics.set(name, topic);
    this.addPartitions(name, partitions);
  }

  /** Grows the topic to `partitions` partitions, as Kafka's CreatePartitions does. */
  addPartitions(name: string, partitions: number): void {
    const topic = this.topics.get(name)!;
    for (let p = topic.logs.length; p < partitions; p++) {
      topic.logs.push(Log.open(path.join(this.dir, `${name}-${p}`), { fsync: 'never' }));
    }
    topic.metadata = { ...topic.metadata, partitions };
  }

  /** Appends one batch of records; answers as the partition would. */
  produce(topic: string, partition: number, records: readonly RecordInput[], options: EncodeOptions = {}): AppendResponse {
    const log = this.log(topic, partition);
    const result = log.append(encodeRecordBatch(records, options), { timestampType: this.topics.get(topic)!.metadata.timestampType });
    this.wakeWaiters();
    return { baseOffset: result.baseOffset, lastOffset: result.lastOffset, logStartOffset: log.logStartOffset, duplicate: false };
  }

  /** The next `times` requests of this type for this partition fail with `error`. */
  failNext(type: ClientRequestType, topic: string, partition: number, error: TributaryError, times = 1): void {
    this.injected.push({ type, topic, partition, error, remaining: times });
  }

  count(type: ClientRequestType, topic?: string, partition?: number): number {
    return this.requests.filter((r) => r.type === type && (topic === undefined || r.args.topic === topic) && (partition === undefined || r.args.partition === partition)).length;
  }

  /** Long-polls waiting at a log end right now. */
  get waiting(): number {
    return this.waiters.size;
  }

  topic(name: string): TopicMetadata {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`, { topic: name });
    return topic.metadata;
  }

  async groupCoordinator(groupId: string): Promise<GroupRef> {
    if (groupId === '') throw new TributaryError('INVALID_GROUP_ID', 'empty group id', {});
    return { topic: '__consumer_offsets', partition: 0, groupId };
  }

  async initProducerId(): Promise<ProducerIdentity> {
    return { producerId: this.nextProducerId++, producerEpoch: 0 };
  }

  async request<T extends ClientRequestType>(type: T, args: WorkerRequests[T]['args']): Promise<WorkerRequests[T]['result']> {
    const ref = args as unknown as { topic: string; partition: number };
    this.requests.push({ type, args: ref });
    // A worker thread answers on a later turn of the event loop, never synchronously.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      if (this.closed) throw new TributaryError('CLOSED', 'the fake runtime is closed');
      const injected = this.injected.find((i) => i.type === type && i.topic === ref.topic && i.partition === ref.partition && i.remaining > 0);
      if (injected !== undefined) {
        injected.remaining--;
        throw injected.error;
      }
      return (await this.handle(type, args)) as WorkerRequests[T]['result'];
    } catch (error) {
      // As from a worker thread: only the serialised form crosses.
      throw TributaryError.is(error) ? TributaryError.fromJSON(error.toJSON()) : error;
    }
  }

  /** Answers pending long-polls, closes the coordinator and the logs and removes the directory. */
  close(): void {
    this.closed = true;
    this.coordinator.close();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(this.read(waiter.args));
    }
    this.waiters.clear();
    for (const topic of this.topics.values()) for (const log of topic.logs) log.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private newCoordinator(): GroupCoordinator {
    const coordinator = new GroupCoordinator({ append: (records) => void this.offsetsRecords.push(...records) }, this.options);
    for (const record of this.offsetsRecords) coordinator.replay(record.key, record.value);
    return coordinator;
  }

  private handle(type: ClientRequestType, args: unknown): unknown {
    if (GROUP_REQUEST_TYPES.has(type)) {
      return new Promise((resolve, reject) =>
        this.coordinator.handle(type as GroupRequestType, args as never, (outcome) => (outcome.ok ? resolve(outcome.result) : reject(outcome.error))),
      );
    }
    switch (type) {
      case 'fetch':
        return this.fetch(args as WorkerRequests['fetch']['args']);
      case 'listOffsets': {
        const { topic, partition, spec } = args as WorkerRequests['listOffsets']['args'];
        const log = this.log(topic, partition);
        if (spec === 'earliest') return { offset: log.earliestOffset(), timestamp: -1 };
        if (spec === 'latest') return { offset: log.latestOffset(), timestamp: -1 };
        return log.offsetForTimestamp(spec.timestamp) ?? { offset: -1, timestamp: -1 };
      }
      case 'deleteRecords': {
        const { topic, partition, beforeOffset } = args as WorkerRequests['deleteRecords']['args'];
        return { logStartOffset: this.log(topic, partition).deleteRecordsBefore(beforeOffset) };
      }
      default:
        throw new Error(`the fake PartitionClient does not handle '${type}'`);
    }
  }

  private fetch(args: WorkerRequests['fetch']['args']): WorkerRequests['fetch']['result'] | Promise<WorkerRequests['fetch']['result']> {
    const result = this.read(args);
    if (result.bytes.length >= Math.max(args.minBytes, 1) || args.maxWaitMs === 0) return result;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        args,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(this.read(args));
        }, args.maxWaitMs),
      };
      this.waiters.add(waiter);
    });
  }

  private read(args: WorkerRequests['fetch']['args']): WorkerRequests['fetch']['result'] {
    const log = this.log(args.topic, args.partition);
    const read = log.read(args.offset, args.maxBytes);
    // A transferred ArrayBuffer arrives as a plain Uint8Array, not a Buffer.
    const bytes = new Uint8Array(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength);
    return { bytes, highWatermark: read.logEndOffset, logStartOffset: read.logStartOffset, nextOffset: read.nextOffset };
  }

  private wakeWaiters(): void {
    for (const waiter of this.waiters) {
      let result: WorkerRequests['fetch']['result'];
      try {
        result = this.read(waiter.args);
      } catch {
        continue;
      }
      if (result.bytes.length < Math.max(waiter.args.minBytes, 1)) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve(result);
    }
  }

  private log(topic: string, partition: number): Log {
    const found = this.topics.get(topic)?.logs[partition];
    if (found === undefined) throw new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${partition} of topic '${topic}' does not exist`, { topic, partition });
    return found;
  }
}
