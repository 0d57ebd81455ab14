/**
 * Gathers records into one open batch per topic-partition and seals each batch when the next
 * record would push it past `batchBytes`, or `lingerMs` after it opened, whichever comes first.
 *
 * Sizes are exact: a record's encoded size is its payload (measured once, when the send was
 * prepared) plus the framing varints, computed here from its position in the batch, so a sealed
 * batch never exceeds `batchBytes` uncompressed (unless it holds a single bigger record).
 *
 * One timer serves every open batch: batches open in time order, so the oldest open batch is
 * always the next to linger out, and the timer is armed for it alone.
 */
import { TributaryError } from '../errors.js';
import { BATCH_HEADER_SIZE } from '../record/index.js';
import { varintSize } from '../record/varint.js';
import type { Acks } from '../runtime/messages.js';
import type { Partitioner } from './partitioner.js';
import { ProducerBatch, type SendJob } from './producer-batch.js';
import type { PendingRecord, PreparedTopic } from './producer-message.js';

export interface AccumulatorConfig {
  readonly batchBytes: number;
  readonly lingerMs: number;
}

interface TopicBatches {
  /** The open batch of each partition. */
  readonly open: (ProducerBatch | undefined)[];
  /** Id of the last job that appended to each partition: a job's first batch there reports its offset. */
  readonly lastJob: number[];
}

/** Encoded size of a record: varint body length, then attributes, deltas, and the payload. */
function recordSize(payload: number, timestampDelta: number, offsetDelta: number): number {
  const body = 1 + varintSize(timestampDelta) + varintSize(offsetDelta) + payload;
  return varintSize(body) + body;
}

export class RecordAccumulator {
  /** Encoded bytes of records appended and not yet acknowledged or failed. */
  bufferedBytes = 0;
  private readonly topics = new Map<string, TopicBatches>();
  /** Open batches in the order they opened (a Set keeps insertion order and deletes in O(1)). */
  private readonly lingering = new Set<ProducerBatch>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** Reused for every partitioner call: one object per record would be garbage on the hottest path. */
  private readonly partitionArgs = { topic: '', partitionCount: 0, key: null as Buffer | null };

  constructor(
    private readonly config: AccumulatorConfig,
    private readonly partitioner: Partitioner,
    private readonly onSealed: (batch: ProducerBatch) => void,
  ) {}

  /**
   * Appends every record of an admitted send. A partitioner that throws or answers an invalid
   * partition fails the job; records of it appended before that are still sent.
   */
  append(job: SendJob): void {
    const topics = job.topics!;
    job.topics = null;
    for (const prepared of topics) {
      try {
        this.appendTopic(job, prepared);
      } catch (error) {
        job.fail(error);
        break;
      }
    }
    job.release();
  }

  /** Seals every open batch now (flush, close). */
  sealAll(): void {
    for (const batch of this.lingering) this.seal(batch);
    this.clearTimer();
  }

  /** Gives back the memory of a batch that is done. */
  release(batch: ProducerBatch): void {
    this.bufferedBytes -= batch.recordBytes;
  }

  close(): void {
    this.clearTimer();
  }

  private appendTopic(job: SendJob, prepared: PreparedTopic): void {
    const { topic, records, compression, partitionCount } = prepared;
    let state = this.topics.get(topic);
    if (state === undefined) {
      state = { open: [], lastJob: [] };
      this.topics.set(topic, state);
    }
    const { open, lastJob } = state;
    const onNewBatch = this.partitioner.onNewBatch;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const payload = record.payloadSize;
      let partition = record.partition;
      let size: number;
      if (partition >= 0) {
        size = this.fit(open[partition], record, payload, job.acks, compression);
      } else {
        partition = this.choose(topic, partitionCount, record.key as Buffer | null);
        size = this.fit(open[partition], record, payload, job.acks, compression);
        if (size < 0 && onNewBatch !== undefined) {
          // KIP-480: a new batch is about to start, so a sticky partitioner may move on before the record lands.
          onNewBatch.call(this.partitioner, topic, partition, partitionCount);
          partition = this.choose(topic, partitionCount, record.key as Buffer | null);
          size = this.fit(open[partition], record, payload, job.acks, compression);
        }
      }
      let batch = open[partition];
      if (size < 0) {
        if (batch !== undefined) this.seal(batch);
        batch = new ProducerBatch(topic, partition, job.acks, compression, prepared.logAppendTime, record.timestamp, performance.now(), job.timeoutMs);
        open[partition] = batch;
        this.lingering.add(batch);
        if (this.timer === null) this.armTimer();
        size = recordSize(payload, 0, 0);
      }
      batch!.add(record, size, job, lastJob[partition] !== job.id);
      lastJob[partition] = job.id;
      this.bufferedBytes += size;
    }
  }

  /** The record's size in `batch` if it can join it, else -1. */
  private fit(batch: ProducerBatch | undefined, record: PendingRecord, payload: number, acks: Acks, compression: string): number {
    if (batch === undefined || batch.acks !== acks || batch.compression !== compression) return -1;
    const size = recordSize(payload, record.timestamp - batch.baseTimestamp, batch.recordCount);
    return BATCH_HEADER_SIZE + batch.recordBytes + size <= this.config.batchBytes ? size : -1;
  }

  private choose(topic: string, partitionCount: number, key: Buffer | null): number {
    const args = this.partitionArgs;
    args.topic = topic;
    args.partitionCount = partitionCount;
    args.key = key;
    const partition = this.partitioner.partition(args);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      throw new TributaryError(
        'INVALID_CONFIG',
        `producer option partitioner returned ${String(partition)} for topic '${topic}', which has partitions 0-${partitionCount - 1}`,
        { options: 'producer', field: 'partitioner', value: typeof partition === 'number' ? partition : String(partition), topic },
      );
    }
    return partition;
  }

  private seal(batch: ProducerBatch): void {
    this.lingering.delete(batch);
    const state = this.topics.get(batch.topic)!;
    if (state.open[batch.partition] === batch) state.open[batch.partition] = undefined;
    this.onSealed(batch);
  }

  private armTimer(): void {
    const first = this.lingering.values().next();
    if (first.done) return;
    if (this.config.lingerMs === 0) {
      // No linger: records appended in the same turn of the event loop still share a batch.
      this.timer = setImmediate(this.onTimer);
    } else {
      this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(first.value.openedAt + this.config.lingerMs - performance.now())));
    }
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    const now = performance.now();
    for (const batch of this.lingering) {
      if (batch.openedAt + this.config.lingerMs > now) break;
      this.seal(batch);
    }
    this.armTimer();
  };

  private clearTimer(): void {
    if (this.timer === null) return;
    if (this.config.lingerMs === 0) clearImmediate(this.timer as NodeJS.Immediate);
    else clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = null;
  }
}
