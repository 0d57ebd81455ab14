/**
 * What a subscribed `sink()` does with its elements: gathers the elements emitted in one go (the
 * records of one source batch, and what the pipeline made of them) and hands them to the producer
 * as one `send` when the current job ends (a microtask), so a send and its promise cost per batch,
 * not per record; the producer batches further by partition.
 *
 * Unacknowledged bytes are counted: past `highWaterBytes` the sink marks itself full in the
 * binding's flow control, which stops its sources pulling, until acknowledgements bring it back
 * under. A failed send fails the sink; `flush` also reports it, so a task never commits past it.
 */
import type { Producer, RecordMetadata } from '../client/producer.js';
import type { ProducerMessage } from '../client/producer-message.js';
import { IdTable } from '../runtime/id-table.js';
import type { RunningSink, StreamBinding } from './context.js';

type Message = ProducerMessage<Buffer | null, Buffer | null>;

/** One send: its records' metadata once acknowledged, and how many records it held. */
export interface SentRecords {
  readonly result: Promise<RecordMetadata[]>;
  readonly count: number;
}

export class SinkWriter implements RunningSink {
  private readonly producer: Producer<unknown, unknown>;
  private pending: Message[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  /** Bytes written and not yet acknowledged, pending ones included, so a source sees the sink full as soon as it has emitted. */
  private unacknowledgedBytes = 0;
  /**
   * Sends not settled yet, by send number (an IdTable, not a Set: see id-table.ts); a send to a
   * topic still unknown is not even in the producer's queue.
   */
  private readonly inFlight = new IdTable<Promise<unknown>>();
  private sends = 0;
  private failure: unknown = undefined;
  private closed = false;
  private lastSend: SentRecords | null = null;

  constructor(
    private readonly binding: StreamBinding,
    private readonly topic: string,
    producerOptions: Parameters<StreamBinding['producer']>[0],
    private readonly highWaterBytes: number,
    /** Called once, with the first send that failed. */
    private readonly failed: (error: unknown) => void,
  ) {
    this.producer = binding.producer(producerOptions);
  }

  /** Queues one record; it is sent with the others of this job. */
  write(message: Message, bytes: number): void {
    this.pending.push(message);
    this.pendingBytes += bytes;
    this.unacknowledgedBytes += bytes;
    if (this.unacknowledgedBytes >= this.highWaterBytes) this.binding.flow.setFull(this, true);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.send());
  }

  async flush(): Promise<void> {
    this.send();
    await this.producer.flush();
    await Promise.all(this.inFlight.values());
    if (this.failure !== undefined) throw this.failure;
  }

  /** Sends what is pending; the last send so far, or null if nothing was ever sent. */
  lastSent(): SentRecords | null {
    this.send();
    return this.lastSend;
  }

  /** The sink ended: the producer is flushed and closed by the binding; nothing more is written. */
  close(): Promise<void> {
    this.closed = true;
    this.pending = [];
    this.binding.flow.setFull(this, false);
    return this.binding.closeProducer(this.producer);
  }

  private send(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    const messages = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const result = this.producer.send({ topic: this.topic, messages });
    this.lastSend = { result, count: messages.length };
    const settled = result.then(
      () => {
        this.unacknowledgedBytes -= bytes;
        if (this.unacknowledgedBytes < this.highWaterBytes) this.binding.flow.setFull(this, false);
      },
      (error: unknown) => {
        this.unacknowledgedBytes -= bytes;
        if (this.failure !== undefined) return;
        this.failure = error;
        this.failed(error);
      },
    );
    const id = this.sends++;
    this.inFlight.set(id, settled);
    void settled.then(() => this.inFlight.delete(id));
  }
}
