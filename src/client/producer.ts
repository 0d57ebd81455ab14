/**
 * The producer: KafkaJS's API over tributary's partitions, so code ports by changing the
 * constructor (`kafka.producer(config)` becomes `rt.producer(options)`).
 *
 * ```ts
 * const producer = rt.producer({ lingerMs: 5 });
 * await producer.connect();
 * const [meta] = await producer.send({ topic: 'clicks', messages: [{ key: 'u1', value: '{"page":"/"}' }] });
 * meta.baseOffset; // '0': offsets are decimal strings, as in KafkaJS
 * await producer.disconnect(); // flushes first
 * ```
 *
 * ## How a send travels
 *
 * `send` validates and converts all its messages first (a bad one rejects the send and buffers
 * nothing), then appends them to the open batch of their partition (`record-accumulator.ts`).
 * Batches seal at `batchBytes` or `lingerMs` and are encoded here, on the caller's thread, then
 * handed to the partition's thread (`producer-sender.ts`). The send's one promise resolves when
 * every batch holding its records is acknowledged, with one `RecordMetadata` per partition
 * written; it rejects if any of those batches fails for good, even though records of it in other
 * batches may have been written (as a KafkaJS send spanning partitions can half-succeed).
 *
 * ## Backpressure
 *
 * Records count against `bufferMemory` from `send` until their batch is acknowledged or failed.
 * A send that does not fit waits (its promise stays pending, its records are not buffered) until
 * enough is acknowledged; sends are admitted strictly in call order, so waiting never reorders
 * them. A single send larger than `bufferMemory` is admitted alone, when nothing else is buffered.
 *
 * ## Differences from KafkaJS, on purpose
 *
 * - `idempotent` defaults to true (KafkaJS: false); it requires acks -1.
 * - Records of many `send` calls share batches (KafkaJS sends one request per call), so many
 *   small sends cost little.
 * - No topic auto-creation: a send to a topic that does not exist retries the lookup for
 *   `METADATA_WAIT_MS` (a topic being created concurrently appears), then rejects with
 *   UNKNOWN_TOPIC_OR_PARTITION. An explicit partition outside the topic rejects at once.
 * - `send` before `connect` connects implicitly.
 * - Transactions (`transactionalId`, `transaction()`) come later.
 */
import { TributaryError } from '../errors.js';
import { IdTable } from '../runtime/id-table.js';
import type { Acks } from '../runtime/messages.js';
import type { PartitionClient, TopicMetadata } from '../runtime/partition-client.js';
import { Fifo } from './fifo.js';
import { createDefaultPartitioner } from './partitioner.js';
import { ProducerBatch, SendJob, type RecordMetadata } from './producer-batch.js';
import { chooseCompression, prepareTopic, type CompressionSetting, type PreparedTopic, type ProducerMessage, type RecordBytes } from './producer-message.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producer-options.js';
import { ProducerSender } from './producer-sender.js';
import { RecordAccumulator } from './record-accumulator.js';

export type { RecordMetadata } from './producer-batch.js';
export type { CompressionSetting, MessageHeadersArray, MessageHeadersObject, ProducerMessage, RecordBytes } from './producer-message.js';
export type { ProducerOptions, ProducerSerdes } from './producer-options.js';

/** How long a send keeps looking for a topic that does not exist before rejecting. */
export const METADATA_WAIT_MS = 100;
const METADATA_RETRY_MS = 10;

interface SendSettingsInput {
  /** -1 (all, the default), 1 (appended) or 0 (not awaited); an idempotent producer takes only -1. */
  readonly acks?: number;
  /** Milliseconds an append may go unanswered before it is retried; default the producer's `timeout`. */
  readonly timeout?: number;
  readonly compression?: CompressionSetting;
}

export interface ProducerRecord<K = RecordBytes, V = RecordBytes> extends SendSettingsInput {
  readonly topic: string;
  readonly messages: readonly ProducerMessage<K, V>[];
}

export interface TopicMessages<K = RecordBytes, V = RecordBytes> {
  readonly topic: string;
  readonly messages: readonly ProducerMessage<K, V>[];
}

export interface ProducerBatchRequest<K = RecordBytes, V = RecordBytes> extends SendSettingsInput {
  readonly topicMessages?: readonly TopicMessages<K, V>[];
}

/** A send waiting for room in `bufferMemory` (or for `connect`), or a flush waiting for the sends before it. */
type Admission = SendJob | (() => void);

type State = 'idle' | 'connecting' | 'connected' | 'closing' | 'closed';

export class Producer<K = RecordBytes, V = RecordBytes> {
  private readonly options: ResolvedProducerOptions;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: ProducerSender;
  private state: State = 'idle';
  /** Admission is open: connected (with a producer id when idempotent). */
  private ready = false;
  private connecting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Admissions in call order. */
  private readonly waiting = new Fifo<Admission>();
  private pumping = false;
  /** Sealed batches not yet done, for `flush`, by `sealOrder` (an IdTable, not a Set: see id-table.ts). */
  private readonly pending = new IdTable<ProducerBatch>();
  private jobCount = 0;

  constructor(
    private readonly client: PartitionClient,
    options?: ProducerOptions<K, V>,
  ) {
    this.options = resolveProducerOptions(options as ProducerOptions<unknown, unknown> | undefined);
    const { idempotent, maxInFlightRequests, retry, batchBytes, lingerMs } = this.options;
    this.sender = new ProducerSender(client, { idempotent, maxInFlight: maxInFlightRequests, retry }, (batch) => this.onBatchDone(batch));
    const custom = this.options.partitioner;
    this.accumulator = new RecordAccumulator(
      { batchBytes, lingerMs },
      custom ?? createDefaultPartitioner(),
      (batch) => {
        this.sender.seal(batch);
        // A batch that failed while being sealed is done already.
        if (!batch.done) this.pending.set(batch.sealOrder, batch);
      },
      custom === undefined,
    );
  }

  isIdempotent(): boolean {
    return this.options.idempotent;
  }

  /** Gets a producer id when idempotent. Calling it again returns the same promise. */
  connect(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return Promise.reject(closedError('connect'));
    this.connecting ??= this.establish();
    return this.connecting;
  }

  /**
   * Sends `messages` to `topic`; resolves with one RecordMetadata per partition written, sorted by
   * partition, once all of them are acknowledged.
   */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata[]> {
    if (record === null || typeof record !== 'object') {
      return Promise.reject(new TributaryError('INVALID_REQUEST', `send takes { topic, messages }, got ${record === null ? 'null' : typeof record}`, {}));
    }
    return this.submit([{ topic: record.topic, messages: record.messages }], record);
  }

  /** Sends to several topics in one call; one RecordMetadata per topic-partition written, sorted by topic then partition. */
  sendBatch(batch: ProducerBatchRequest<K, V>): Promise<RecordMetadata[]> {
    if (batch === null || typeof batch !== 'object' || (batch.topicMessages !== undefined && !Array.isArray(batch.topicMessages))) {
      return Promise.reject(new TributaryError('INVALID_REQUEST', 'sendBatch takes { topicMessages: [{ topic, messages }] }', {}));
    }
    return this.submit(batch.topicMessages ?? [], batch);
  }

  /**
   * Seals every batch now and resolves when everything sent before this call is acknowledged or
   * has failed (failures reject their own sends; flush itself does not reject).
   */
  async flush(): Promise<void> {
    if (this.waiting.length > 0) {
      await new Promise<void>((resolve) => this.enqueue(resolve));
    }
    this.accumulator.sealAll();
    if (this.pending.size === 0) return;
    await new Promise<void>((resolve) => {
      const barrier = { remaining: this.pending.size, resolve };
      for (const batch of this.pending.values()) (batch.flushBarriers ??= []).push(barrier);
    });
  }

  /** Flushes, then closes: sends from now on reject with CLOSED. */
  disconnect(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.state = 'closing';
    this.closing = (async () => {
      if (this.connecting !== null) await this.connecting.catch(() => undefined);
      await this.flush();
      this.accumulator.close();
      this.sender.close();
      this.state = 'closed';
    })();
    return this.closing;
  }

  /** Same as `disconnect`. */
  close(): Promise<void> {
    return this.disconnect();
  }

  private async establish(): Promise<void> {
    this.state = 'connecting';
    try {
      if (this.options.idempotent) this.sender.setIdentity(await this.client.initProducerId());
    } catch (error) {
      this.connecting = null;
      if (this.state === 'connecting') this.state = 'idle';
      this.failWaiting(error);
      throw error;
    }
    if (this.state === 'connecting') this.state = 'connected';
    this.ready = true;
    this.pump();
  }

  private submit(topicMessages: readonly TopicMessages<K, V>[], settings: SendSettingsInput): Promise<RecordMetadata[]> {
    if (this.state === 'closing' || this.state === 'closed') return Promise.reject(closedError('send'));
    let topics: TopicMetadata[];
    try {
      topics = this.lookUp(topicMessages);
    } catch (error) {
      if (TributaryError.is(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return this.submitWhenKnown(topicMessages, settings, performance.now() + METADATA_WAIT_MS);
      return Promise.reject(error);
    }
    return this.submitKnown(topicMessages, topics, settings);
  }

  private async submitWhenKnown(topicMessages: readonly TopicMessages<K, V>[], settings: SendSettingsInput, deadline: number): Promise<RecordMetadata[]> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, METADATA_RETRY_MS));
      if (this.state === 'closing' || this.state === 'closed') throw closedError('send');
      try {
        return await this.submitKnown(topicMessages, this.lookUp(topicMessages), settings);
      } catch (error) {
        if (!TributaryError.is(error, 'UNKNOWN_TOPIC_OR_PARTITION') || performance.now() >= deadline) throw error;
      }
    }
  }

  private lookUp(topicMessages: readonly TopicMessages<K, V>[]): TopicMetadata[] {
    const topics: TopicMetadata[] = new Array(topicMessages.length);
    for (let t = 0; t < topicMessages.length; t++) {
      const entry = topicMessages[t];
      if (entry === null || typeof entry !== 'object' || typeof entry.topic !== 'string') {
        throw new TributaryError('INVALID_REQUEST', `topicMessages[${t}] must be { topic: string, messages: [...] }`, { index: t });
      }
      topics[t] = this.client.topic(entry.topic);
    }
    return topics;
  }

  private submitKnown(topicMessages: readonly TopicMessages<K, V>[], topics: readonly TopicMetadata[], settings: SendSettingsInput): Promise<RecordMetadata[]> {
    let prepared: PreparedTopic[];
    let acks: Acks;
    let timeoutMs: number;
    try {
      acks = this.acksOf(settings.acks);
      timeoutMs = timeoutOf(settings.timeout, this.options.timeout);
      const now = Date.now();
      prepared = new Array(topics.length);
      for (let t = 0; t < topics.length; t++) {
        const compression = chooseCompression(settings.compression, this.options.compression, topics[t]);
        prepared[t] = prepareTopic(topics[t], topicMessages[t].messages as readonly ProducerMessage<unknown, unknown>[], compression, this.options, now);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    let bytes = 0;
    for (const topic of prepared) bytes += topic.maxBytes;
    const job = new SendJob(++this.jobCount, prepared, acks, timeoutMs, bytes);
    this.enqueue(job);
    if (this.state === 'idle') this.connect().catch(() => undefined);
    return job.promise;
  }

  private acksOf(acks: number | undefined): Acks {
    if (acks === undefined) return this.options.acks;
    if (acks !== -1 && acks !== 0 && acks !== 1) {
      throw new TributaryError('INVALID_REQUEST', `send acks must be -1, 0 or 1, got ${String(acks)}`, { field: 'acks', value: String(acks) });
    }
    if (this.options.idempotent && acks !== -1) {
      throw new TributaryError('INVALID_REQUEST', `send acks ${acks} is not allowed on an idempotent producer, which requires acks -1`, { field: 'acks', value: acks });
    }
    return acks;
  }

  private enqueue(admission: Admission): void {
    this.waiting.push(admission);
    this.pump();
  }

  /** Admits waiting sends in order while they fit. Re-entered from a batch finishing during an append, it defers to the running loop. */
  private pump(): void {
    if (this.pumping || !this.ready) return;
    this.pumping = true;
    try {
      for (let next = this.waiting.peek(); next !== undefined; next = this.waiting.peek()) {
        if (next instanceof SendJob) {
          if (!this.hasRoom(next.maxBytes)) break;
          this.waiting.shift();
          this.accumulator.append(next);
        } else {
          this.waiting.shift();
          next();
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private hasRoom(bytes: number): boolean {
    const buffered = this.accumulator.bufferedBytes;
    return buffered === 0 || buffered + bytes <= this.options.bufferMemory;
  }

  private failWaiting(error: unknown): void {
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
      if (next instanceof SendJob) next.fail(error);
      else next();
    }
  }

  private onBatchDone(batch: ProducerBatch): void {
    this.pending.delete(batch.sealOrder);
    this.accumulator.release(batch);
    if (batch.flushBarriers !== null) {
      for (const barrier of batch.flushBarriers) if (--barrier.remaining === 0) barrier.resolve();
    }
    if (this.waiting.length > 0) this.pump();
  }
}

function timeoutOf(timeout: number | undefined, fallback: number): number {
  if (timeout === undefined) return fallback;
  if (!Number.isSafeInteger(timeout) || timeout < 1) {
    throw new TributaryError('INVALID_REQUEST', `send timeout must be a positive integer of milliseconds, got ${String(timeout)}`, { field: 'timeout', value: String(timeout) });
  }
  return timeout;
}

function closedError(operation: string): TributaryError {
  return new TributaryError('CLOSED', `cannot ${operation}: the producer is disconnected`, { operation });
}
