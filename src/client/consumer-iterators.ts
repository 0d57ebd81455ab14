/**
 * The native async iterators: `for await (const record of consumer)` and `consumer.batches()`.
 *
 * A record is consumed when it is yielded: the partition's position moves past it then, so
 * breaking out of the loop (which ends the iteration and stops fetching) and iterating again
 * continues after the last record the loop saw.
 *
 * The record iterator's `next()` is the consumer's hottest path: while the decoded RecordBatch
 * has records left it does one epoch comparison, one position write and returns a resolved
 * promise; decoding the next batch, moving to another partition and waiting for data happen on
 * the slow path.
 */
import { batchEnd, decodeBatchInto, type ConsumerRecord, type RecordFactory } from './consumer-records.js';
import type { Claim, Fetcher } from './fetcher.js';

/**
 * Records a yielded batch holds: whole RecordBatches of one fetch response are added until there
 * are at least this many, so a 1 MiB response of 100-byte records comes as ~10 batches. A whole
 * response in one array (10,000 records and their key/value views) was alive at most scavenges,
 * which copied it (2-5 ms each) and then promoted it into the old generation.
 */
const BATCH_RECORDS = 1000;

/** Records of one partition, in order, from one fetch response (see BATCH_RECORDS), as `consumer.batches()` yields them. */
export interface ConsumerBatch<K = Buffer | null, V = Buffer | null> {
  readonly topic: string;
  readonly partition: number;
  /** The partition's high watermark when the records were fetched: lag is highWatermark - (last offset + 1). */
  readonly highWatermark: number;
  readonly messages: readonly ConsumerRecord<K, V>[];
}

/** What an iterator needs from its consumer. */
export interface IterationSource {
  readonly fetcher: Fetcher;
  /** False once the consumer stopped this iteration (stop(), disconnect()) or began another delivery. */
  isActive(): boolean;
  /** The error that ended fetching, if one did; taking it clears it. */
  takeFailure(): unknown;
  /** The iteration is over (finished, broken out of, or failed): stop fetching. */
  end(): void;
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });

abstract class DeliveryIterator<T> implements AsyncIterableIterator<T> {
  protected claim: Claim | null = null;
  private finished = false;
  /** The slow path in progress; calls made meanwhile queue behind it. */
  private pending: Promise<IteratorResult<T, undefined>> | null = null;

  constructor(protected readonly source: IterationSource) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  abstract next(): Promise<IteratorResult<T, undefined>>;

  /** Ends the iteration at once: fetching stops, and a `next()` still waiting for data resolves done. */
  async return(): Promise<IteratorResult<T, undefined>> {
    this.close();
    await this.pending?.catch(() => undefined);
    return DONE;
  }

  /** Serialises slow-path calls so that overlapping `next()` calls get records in order. */
  protected slow(): Promise<IteratorResult<T, undefined>> {
    const run = (): Promise<IteratorResult<T, undefined>> => this.advance();
    const result = this.pending === null ? run() : this.pending.then(run, run);
    const pending = result.finally(() => {
      if (this.pending === pending) this.pending = null;
    });
    this.pending = pending;
    return pending;
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  private async advance(): Promise<IteratorResult<T, undefined>> {
    try {
      return await this.step();
    } catch (error) {
      // A rejected next() ends a for-await loop without calling return(): end the iteration here.
      this.close();
      throw error;
    }
  }

  private async step(): Promise<IteratorResult<T, undefined>> {
    const fetcher = this.source.fetcher;
    for (;;) {
      if (this.finished) return DONE;
      if (!this.source.isActive()) {
        this.close();
        return DONE;
      }
      if (this.claim !== null) {
        const result = this.continueClaim(this.claim);
        if (result !== null) return { value: result, done: false };
        fetcher.finish(this.claim);
        this.claim = null;
      }
      const claim = fetcher.take();
      if (claim !== null) {
        this.claim = claim;
        this.startClaim(claim);
        continue;
      }
      const failure = this.source.takeFailure();
      if (failure !== undefined) throw failure;
      await fetcher.waitForData();
    }
  }

  /** Prepares to deliver from a newly claimed response. */
  protected abstract startClaim(claim: Claim): void;

  /** The next thing to yield from the claimed response, or null when it is exhausted or stale. */
  protected abstract continueClaim(claim: Claim): T | null;

  private close(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.claim !== null) {
      this.source.fetcher.finish(this.claim);
      this.claim = null;
    }
    this.source.end();
  }
}

export class RecordIterator<K, V> extends DeliveryIterator<ConsumerRecord<K, V>> {
  private records: ConsumerRecord<K, V>[] = [];
  private index = 0;
  /** Byte position of the next batch of the claimed response to decode. */
  private pos = 0;

  constructor(
    source: IterationSource,
    private readonly factory: RecordFactory<ConsumerRecord<K, V>>,
  ) {
    super(source);
  }

  next(): Promise<IteratorResult<ConsumerRecord<K, V>, undefined>> {
    const claim = this.claim;
    if (this.index < this.records.length && claim !== null && claim.epoch === claim.partition.epoch && !this.busy) {
      const record = this.records[this.index++];
      claim.partition.position = record.offset + 1;
      return Promise.resolve({ value: record, done: false });
    }
    return this.slow();
  }

  protected startClaim(claim: Claim): void {
    this.records.length = 0;
    this.index = 0;
    this.pos = claim.data.pos;
  }

  protected continueClaim(claim: Claim): ConsumerRecord<K, V> | null {
    const fetcher = this.source.fetcher;
    if (!fetcher.isCurrent(claim)) return null;
    const state = claim.partition;
    const { bytes } = claim.data;
    while (this.index >= this.records.length) {
      // Every record decoded so far has been yielded: their batches leave the budget.
      fetcher.release(claim, this.pos);
      const end = batchEnd(bytes, this.pos);
      if (end < 0) {
        fetcher.advance(claim, claim.data.nextOffset);
        return null;
      }
      this.records.length = 0;
      this.index = 0;
      decodeBatchInto(bytes, this.pos, end, state.topic, state.partition, state.position!, this.factory, this.records);
      this.pos = end;
    }
    const record = this.records[this.index++];
    state.position = record.offset + 1;
    return record;
  }
}

export class BatchIterator<K, V> extends DeliveryIterator<ConsumerBatch<K, V>> {
  /** Byte position of the next RecordBatch of the claimed response to decode. */
  private pos = 0;

  constructor(
    source: IterationSource,
    private readonly factory: RecordFactory<ConsumerRecord<K, V>>,
  ) {
    super(source);
  }

  next(): Promise<IteratorResult<ConsumerBatch<K, V>, undefined>> {
    return this.slow();
  }

  protected startClaim(claim: Claim): void {
    this.pos = claim.data.pos;
  }

  protected continueClaim(claim: Claim): ConsumerBatch<K, V> | null {
    const fetcher = this.source.fetcher;
    if (!fetcher.isCurrent(claim)) return null;
    // The records yielded before have been handed over: their batches leave the budget.
    fetcher.release(claim, this.pos);
    const state = claim.partition;
    const { bytes, nextOffset, highWatermark } = claim.data;
    const records: ConsumerRecord<K, V>[] = [];
    let end = batchEnd(bytes, this.pos);
    while (end >= 0 && records.length < BATCH_RECORDS) {
      decodeBatchInto(bytes, this.pos, end, state.topic, state.partition, state.position!, this.factory, records);
      this.pos = end;
      end = batchEnd(bytes, this.pos);
    }
    // Yielded is consumed; the bytes stay counted until the next call, while the loop body works on them.
    fetcher.advance(claim, end < 0 || records.length === 0 ? nextOffset : records[records.length - 1].offset + 1);
    if (records.length === 0) return null;
    return { topic: state.topic, partition: state.partition, highWatermark, messages: records };
  }
}
