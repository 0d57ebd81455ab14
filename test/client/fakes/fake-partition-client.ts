/**
 * A PartitionClient for producer tests: real partitions (`PartitionActor`, so the real log and
 * Kafka's idempotence rules: dedup of the last five batches, sequence and epoch checks) in a
 * temporary directory, on the test's own thread, with hooks to make appends fail, hang, or wait.
 *
 * Honest where it matters to a producer:
 * - batches cross as the runtime moves them: a transferred ArrayBuffer is detached on the
 *   caller's side (structuredClone with a transfer list), so a producer that reads a sent buffer
 *   again sees it empty, and a SharedArrayBuffer stays shared;
 * - requests are handled in the order sent, synchronously, and answered asynchronously, in order;
 * - a fault `after` the append is the ambiguous case: the batch is in the log, the answer is an error.
 *
 * Not modelled: worker threads and group commit (the actor's `commit()` fdatasyncs per turn; a
 * fake that never crashes needs no durability, and skipping it keeps tests fast).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TributaryError, type ErrorCode } from '../../../src/errors.js';
import { PartitionActor } from '../../../src/partition/partition-actor.js';
import { decodeRecordBatches, type CompressionName, type DecodedBatch } from '../../../src/record/index.js';
import type { Acks, AppendResponse, RequestType, WorkerRequests } from '../../../src/runtime/messages.js';
import type { PartitionClient, ProducerIdentity, TopicMetadata } from '../../../src/runtime/partition-client.js';

export interface FakeTopicOptions {
  readonly partitions?: number;
  readonly compression?: CompressionName | 'producer';
  readonly timestampType?: 'create' | 'log-append';
}

/**
 * Makes matching appends fail. `before`: rejected without appending. `after`: appended, then
 * rejected (the answer was lost). `no-answer`: appended, never answered (a hung request).
 */
export interface Fault {
  readonly topic?: string;
  readonly partition?: number;
  readonly error: ErrorCode;
  readonly when: 'before' | 'after' | 'no-answer';
  /** How many matching appends it hits; default 1, Infinity for all. */
  times?: number;
  /** Matching appends to let through before it hits (those another fault hits do not count). */
  skip?: number;
}

export interface AppendAttempt {
  readonly topic: string;
  readonly partition: number;
  /** The batch as it arrived, before the partition patched offsets into it. */
  readonly bytes: Buffer;
  readonly acks: Acks;
  /** The batch's buffer was transferred (moved, detached on the producer's side) rather than copied. */
  readonly transferred: boolean;
  /** The batch as it arrived: for a frame in shared memory, a view of the producer's very chunk. */
  readonly received: Uint8Array;
  readonly outcome: 'appended' | 'duplicate' | ErrorCode;
}

type Answer = () => void;

export class FakePartitionClient implements PartitionClient {
  readonly attempts: AppendAttempt[] = [];
  /** Most appends to one partition awaiting an answer at the same time, per "topic-partition". */
  readonly maxInFlight = new Map<string, number>();
  identitiesIssued = 0;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-producer-'));
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly actors = new Map<string, PartitionActor>();
  private readonly inFlight = new Map<string, number>();
  private readonly faults: Fault[] = [];
  private held: Answer[] | null = null;
  private nextProducerId = 1000;
  private closed = false;

  createTopic(name: string, options: FakeTopicOptions = {}): TopicMetadata {
    const metadata: TopicMetadata = {
      name,
      partitions: options.partitions ?? 1,
      compression: options.compression ?? 'producer',
      timestampType: options.timestampType ?? 'create',
    };
    this.topics.set(name, metadata);
    for (let partition = 0; partition < metadata.partitions; partition++) {
      const dir = path.join(this.dir, `${name}-${partition}`);
      this.actors.set(`${name}-${partition}`, PartitionActor.open({ topic: name, partition }, dir, { fsync: 'never' }));
    }
    return metadata;
  }

  topic(name: string): TopicMetadata {
    const metadata = this.topics.get(name);
    if (metadata === undefined) throw new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`, { topic: name });
    return metadata;
  }

  async groupCoordinator(): Promise<never> {
    throw new Error('groups are not used with this fake');
  }

  async initProducerId(): Promise<ProducerIdentity> {
    if (this.closed) throw new TributaryError('CLOSED', 'fake client closed', {});
    this.identitiesIssued++;
    return { producerId: this.nextProducerId++, producerEpoch: 0 };
  }

  request<T extends Exclude<RequestType, 'applyRetention' | 'flush'>>(type: T, args: WorkerRequests[T]['args'], transfer: readonly ArrayBuffer[] = []): Promise<WorkerRequests[T]['result']> {
    if (type !== 'append') return Promise.reject(new TributaryError('INVALID_REQUEST', `the producer fake handles only append, got ${type}`, {}));
    return this.append(args as WorkerRequests['append']['args'], transfer) as Promise<WorkerRequests[T]['result']>;
  }

  private append(args: WorkerRequests['append']['args'], transfer: readonly ArrayBuffer[]): Promise<AppendResponse> {
    if (this.closed) return Promise.reject(new TributaryError('CLOSED', 'fake client closed', {}));
    // As postMessage does: the receiver gets a copy, or the very buffer when it is transferred (detaching the sender's).
    const batch = structuredClone(args.batch, { transfer: [...transfer] });
    const key = `${args.topic}-${args.partition}`;
    const actor = this.actors.get(key);
    if (actor === undefined) {
      return Promise.reject(new TributaryError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${key} does not exist`, { topic: args.topic, partition: args.partition }));
    }
    const bytes = Buffer.from(batch);
    const fault = this.takeFault(args.topic, args.partition);
    let result: AppendResponse | undefined;
    let error: unknown;
    if (fault?.when === 'before') {
      error = new TributaryError(fault.error, `injected ${fault.error} before append to ${key}`, {});
    } else {
      try {
        result = actor.append(batch, args.logAppendTime);
      } catch (caught) {
        error = caught;
      }
      if (fault?.when === 'after' && error === undefined) error = new TributaryError(fault.error, `injected ${fault.error} after append to ${key}`, {});
    }
    const outcome = error === undefined ? (result!.duplicate ? 'duplicate' : 'appended') : TributaryError.is(error) ? error.code : 'INVALID_REQUEST';
    this.attempts.push({ topic: args.topic, partition: args.partition, bytes, acks: args.acks, transferred: transfer.length > 0, received: batch, outcome });
    const inFlight = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, inFlight);
    this.maxInFlight.set(key, Math.max(this.maxInFlight.get(key) ?? 0, inFlight));
    if (fault?.when === 'no-answer') return new Promise(() => {});
    return new Promise((resolve, reject) => {
      this.answer(() => {
        this.inFlight.set(key, this.inFlight.get(key)! - 1);
        if (error === undefined) resolve(result!);
        else reject(error);
      });
    });
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** Withholds answers (requests are still handled) until `release`. */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const answer of held) answer();
  }

  /** Answers withheld so far. */
  get heldAnswers(): number {
    return this.held?.length ?? 0;
  }

  batches(topic: string, partition: number): DecodedBatch[] {
    const actor = this.actors.get(`${topic}-${partition}`)!;
    let bytes = Buffer.alloc(0);
    actor.fetch({ topic, partition, offset: 0, maxBytes: 256 * 1024 * 1024, maxWaitMs: 0, minBytes: 0 }, (outcome) => {
      if (!outcome.ok) throw outcome.error;
      bytes = Buffer.from(outcome.result.bytes);
    });
    return [...decodeRecordBatches(bytes)];
  }

  /** Values of every record in the partition, as UTF-8 strings, in offset order. */
  values(topic: string, partition: number): string[] {
    return this.batches(topic, partition).flatMap((batch) => batch.records.map((record) => record.value?.toString('utf8') ?? '<null>'));
  }

  close(): void {
    this.closed = true;
    for (const actor of this.actors.values()) actor.close(false);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private takeFault(topic: string, partition: number): Fault | undefined {
    const matching = this.faults.filter((fault) => (fault.topic === undefined || fault.topic === topic) && (fault.partition === undefined || fault.partition === partition));
    const fault = matching.find((candidate) => (candidate.skip ?? 0) === 0);
    if (fault === undefined) {
      for (const waiting of matching) waiting.skip!--;
      return undefined;
    }
    fault.times = fault.times! - 1;
    if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  private answer(answer: Answer): void {
    if (this.held !== null) this.held.push(answer);
    else queueMicrotask(answer);
  }
}
