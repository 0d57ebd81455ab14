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
import type { Acks } from '../runtime/messages.js';
import { varintSize } from '../record/varint.js';
import { Fifo } from './fifo.js';
import { murmur2, murmur2Utf8, toPositive, type Partitioner } from './partitioner.js';
import { BatchBufferPool, ProducerBatch, recordBody, type SendJob } from './producer-batch.js';
import type { PreparedTopic } from './producer-message.js';

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

export class RecordAccumulator {
  /** Encoded bytes of records appended and not yet acknowledged or failed. */
  bufferedBytes = 0;
  private readonly topics = new Map<string, TopicBatches>();
  /**
   * Batches in the order they opened, for the linger timer; one sealed early (full, or flushed)
   * behind one still open stays until the timer reaches it and skips it. Not a Set, which would
   * delete in place: see id-table.ts for how V8 then keeps replaced tables, and the batches in
   * them, alive.
   */
  private readonly opened = new Fifo<ProducerBatch>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** Reused for every partitioner call: one object per record would be garbage on the hottest path. */
  private readonly partitionArgs = { topic: '', partitionCount: 0, key: null as Buffer | null };
  private readonly buffers: BatchBufferPool;

  /** Body size (see `recordBody`) of the record `fit` last measured. */
  private fitBody = 0;

  constructor(
    private readonly config: AccumulatorConfig,
    private readonly partitioner: Partitioner,
    private readonly onSealed: (batch: ProducerBatch) => void,
    /**
     * `partitioner` is the default one (`createDefaultPartitioner`): a keyed record's partition is
     * then hashed here, as it would (`toPositive(murmur2(key)) % partitionCount`), without a call
     * through the partitioner's interface per record.
     */
    private readonly defaultPartitioner = false,
  ) {
    this.buffers = new BatchBufferPool(config.batchBytes);
  }

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
    for (let batch = this.opened.shift(); batch !== undefined; batch = this.opened.shift()) if (this.isOpen(batch)) this.seal(batch);
    this.clearTimer();
  }

  /** Gives back the memory of a batch that is done. */
  release(batch: ProducerBatch): void {
    this.bufferedBytes -= batch.recordBytes;
    batch.releaseBuffer();
  }

  close(): void {
    this.clearTimer();
  }

  private appendTopic(job: SendJob, prepared: PreparedTopic): void {
    const { topic, count, keys, keyLengths, partitions, compression, partitionCount } = prepared;
    let state = this.topics.get(topic);
    if (state === undefined) {
      state = { open: [], lastJob: [] };
      this.topics.set(topic, state);
    }
    const { open, lastJob } = state;
    const acks = job.acks;
    const onNewBatch = this.partitioner.onNewBatch;
    // A count the default partitioner would reject goes through it, to fail as it fails.
    const hashHere = this.defaultPartitioner && Number.isSafeInteger(partitionCount) && partitionCount >= 1;
    for (let i = 0; i < count; i++) {
      let partition = partitions === null ? -1 : partitions[i];
      let fits: boolean;
      if (partition >= 0) {
        fits = this.fit(open[partition], prepared, i, acks);
      } else {
        const key = keys[i];
        if (hashHere && key !== null) {
          partition = toPositive(typeof key === 'string' ? murmur2Utf8(key, keyLengths[i]) : murmur2(key)) % partitionCount;
          fits = this.fit(open[partition], prepared, i, acks);
          // As below, the partitioner hears of the new batch (it may be its sticky partition's); a key hashes the same after.
          if (!fits) onNewBatch!.call(this.partitioner, topic, partition, partitionCount);
        } else {
          partition = this.choose(topic, partitionCount, key);
          fits = this.fit(open[partition], prepared, i, acks);
          if (!fits && onNewBatch !== undefined) {
            // KIP-480: a new batch is about to start, so a sticky partitioner may move on before the record lands.
            onNewBatch.call(this.partitioner, topic, partition, partitionCount);
            partition = this.choose(topic, partitionCount, key);
            fits = this.fit(open[partition], prepared, i, acks);
          }
        }
      }
      let batch = open[partition];
      if (!fits) {
        if (batch !== undefined) this.seal(batch);
        const body = recordBody(prepared.payloadSizes[i], 0, 0);
        batch = new ProducerBatch(topic, partition, acks, compression, prepared.logAppendTime, prepared.timestamps[i], performance.now(), job.timeoutMs, this.buffers, varintSize(body) + body);
        open[partition] = batch;
        this.opened.push(batch);
        if (this.timer === null) this.armTimer();
        this.fitBody = body;
      }
      this.bufferedBytes += batch!.add(prepared, i, this.fitBody, job, lastJob[partition] !== job.id);
      lastJob[partition] = job.id;
    }
  }

  /**
   * Whether record `index` of `prepared` can join `batch`; if so, `fitBody` is its body size there.
   * It takes the record by index, not its timestamp: a timestamp is a double, which a call that is
   * not inlined would box into a new heap number per record.
   */
  private fit(batch: ProducerBatch | undefined, prepared: PreparedTopic, index: number, acks: Acks): boolean {
    if (batch === undefined || batch.acks !== acks || batch.compression !== prepared.compression) return false;
    const body = recordBody(prepared.payloadSizes[index], prepared.timestamps[index] - batch.baseTimestamp, batch.count);
    if (BATCH_HEADER_SIZE + batch.recordBytes + varintSize(body) + body > this.config.batchBytes) return false;
    this.fitBody = body;
    return true;
  }

  private choose(topic: string, partitionCount: number, key: Buffer | string | null): number {
    const args = this.partitionArgs;
    args.topic = topic;
    args.partitionCount = partitionCount;
    // Partitioners take bytes; string keys stay strings up to here so the default path never encodes them twice.
    args.key = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
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

  /**
   * Seals an open batch (its partition's `open` one). Sealed batches at the front of `opened` leave
   * it now: batches mostly fill in the order they opened, so the queue holds few sealed ones (and
   * what they reference) until the timer gets to them, however long `lingerMs` is.
   */
  private seal(batch: ProducerBatch): void {
    this.topics.get(batch.topic)!.open[batch.partition] = undefined;
    this.onSealed(batch);
    this.firstOpen();
  }

  private isOpen(batch: ProducerBatch): boolean {
    return this.topics.get(batch.topic)!.open[batch.partition] === batch;
  }

  /** The batch that opened first of those still open, dropping sealed ones from the front. */
  private firstOpen(): ProducerBatch | undefined {
    let first = this.opened.peek();
    while (first !== undefined && !this.isOpen(first)) {
      this.opened.shift();
      first = this.opened.peek();
    }
    return first;
  }

  private armTimer(): void {
    const first = this.firstOpen();
    if (first === undefined) return;
    if (this.config.lingerMs === 0) {
      // No linger: records appended in the same turn of the event loop still share a batch.
      this.timer = setImmediate(this.onTimer);
    } else {
      this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(first.openedAt + this.config.lingerMs - performance.now())));
    }
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    const now = performance.now();
    for (let batch = this.firstOpen(); batch !== undefined && batch.openedAt + this.config.lingerMs <= now; batch = this.firstOpen()) {
      this.opened.shift();
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
