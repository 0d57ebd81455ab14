/**
 * Shared pieces of the partition tests: temporary directories removed after each test, batches
 * of idempotent producers, and an in-process PartitionHost driven request by request.
 */
import { PartitionHost, type PartitionHostOptions } from '../../src/partition/partition-host.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import { TributaryError } from '../../src/errors.js';
import type { RequestType, WorkerRequests, WorkerResponse } from '../../src/runtime/messages.js';
import { tempDirs as sharedTempDirs } from '../temp-dirs.js';


export interface BatchSpec {
  readonly count: number;
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  /** Tells the records apart: record i has value `${tag}:${i}`. */
  readonly tag?: string;
  readonly timestamp?: number;
}

/** A batch of `count` small records, idempotent when `producerId` is given. */
export function makeBatch(spec: BatchSpec): Buffer {
  const tag = spec.tag ?? 'r';
  const records = Array.from({ length: spec.count }, (_, i) => ({ key: `k${i}`, value: `${tag}:${i}`, timestamp: (spec.timestamp ?? 1_700_000_000_000) + i }));
  return encodeRecordBatch(records, {
    timestamp: spec.timestamp ?? 1_700_000_000_000,
    ...(spec.producerId === undefined ? {} : { producerId: spec.producerId, producerEpoch: spec.producerEpoch ?? 0, baseSequence: spec.baseSequence ?? 0 }),
  });
}

/** A copy in a fresh ArrayBuffer, as a producer thread would hand it over (the partition patches it in place). */
export function owned(batch: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(batch);
}

export interface Posted {
  readonly response: WorkerResponse;
  readonly transfer: ArrayBuffer[];
}

/** A PartitionHost whose posted answers are recorded, with a promise-returning request helper. */
export class TestHost {
  readonly posted: Posted[] = [];
  readonly host: PartitionHost;
  private nextId = 1;
  private readonly waiting = new Map<number, (posted: Posted) => void>();

  constructor(options: PartitionHostOptions = {}, onPost?: (posted: Posted) => void) {
    this.host = new PartitionHost((response, transfer) => {
      const posted = { response, transfer };
      onPost?.(posted);
      this.posted.push(posted);
      this.waiting.get(response.id)?.(posted);
      this.waiting.delete(response.id);
    }, options);
  }

  /** Sends a request and returns its id and a promise of its answer. */
  send<T extends RequestType>(type: T, args: WorkerRequests[T]['args']): { id: number; answer: Promise<Posted> } {
    const id = this.nextId++;
    const answer = new Promise<Posted>((resolve) => this.waiting.set(id, resolve));
    this.host.handle({ id, type, args });
    return { id, answer };
  }

  /** Sends a request and resolves with its result, or rejects with the revived TributaryError. */
  async request<T extends RequestType>(type: T, args: WorkerRequests[T]['args']): Promise<WorkerRequests[T]['result']> {
    const { response } = await this.send(type, args).answer;
    if (!response.ok) throw TributaryError.fromJSON(response.error);
    return response.result as WorkerRequests[T]['result'];
  }

  /** Whether the request with this id has been answered. */
  answered(id: number): boolean {
    return this.posted.some((posted) => posted.response.id === id);
  }
}

/** Resolves after the current turn's setImmediate callbacks (the host's group commit) ran. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Temporary directories removed after each test, named for this suite. */
export const tempDirs = (): (() => string) => sharedTempDirs('tributary-partition-');
