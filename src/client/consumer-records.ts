/**
 * Turns fetched RecordBatch bytes into the objects a consumer hands to the application, one
 * RecordBatch at a time and only when it is delivered.
 *
 * This is the consumer's hot path, so it does not go through `decodeRecordBatch`: that builds a
 * `DecodedRecord` per record which the consumer would then copy into its own shape (a second
 * object per record). It runs the same record loop, `readRecords` (record/record-reader.ts),
 * straight into the delivered object, which keeps the per-record cost to one object and two
 * zero-copy views. CRCs are not checked: the partition verified every batch before answering the
 * fetch.
 *
 * Two shapes are delivered: the native one (numbers, headers as `[{ key, value }]`) and KafkaJS's
 * (`offset`/`timestamp` as decimal strings, headers as an object, repeated keys as arrays), so code
 * written for KafkaJS behaves the same. With a serde, key and value are deserialised on first
 * access through a getter and cached; a value nobody reads is never parsed.
 */
import { TributaryError } from '../errors.js';
import { ATTRIBUTES_OFFSET, BATCH_HEADER_SIZE, CONTROL_FLAG_MASK, LAST_OFFSET_DELTA_OFFSET, batchSizeAt } from '../record/batch-header.js';
import { readInt64 } from '../record/int64.js';
import { readRecords, type RecordMaker } from '../record/record-reader.js';
import type { RecordHeader } from '../record/types.js';
import type { Serde } from './serde.js';

/** A record as the native API delivers it (`for await (const m of consumer)`). */
export interface ConsumerRecord<K = Buffer | null, V = Buffer | null> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch milliseconds: the producer's (CreateTime) or the partition's (LogAppendTime). */
  readonly timestamp: number;
  readonly key: K;
  readonly value: V;
  /** Values are views into the fetched bytes; copy one to keep it past the record. */
  readonly headers: readonly RecordHeader[];
}

/** KafkaJS's `IHeaders`: repeated keys become arrays, in record order. */
export interface KafkaHeaders {
  [key: string]: Buffer | null | (Buffer | null)[] | undefined;
}

/** KafkaJS's message shape (`eachMessage`, `eachBatch`): decimal strings for offset and timestamp. */
export interface KafkaMessage<K = Buffer | null, V = Buffer | null> {
  readonly key: K;
  readonly value: V;
  readonly timestamp: string;
  readonly attributes: number;
  readonly offset: string;
  readonly headers: KafkaHeaders;
}

/** Builds the delivered objects: `forPartition` is called once per batch, its maker once per delivered record. */
export interface RecordFactory<T> {
  forPartition(topic: string, partition: number): RecordMaker<T>;
}

/** The serdes of a consumer; a side left out stays bytes. */
export interface Serdes {
  readonly key: Serde<unknown> | undefined;
  readonly value: Serde<unknown> | undefined;
}

/** Not-yet-deserialised marker: `undefined` and `null` are both values a serde may return. */
const PENDING: unique symbol = Symbol('pending');

class PlainRecord {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: readonly RecordHeader[],
  ) {}
}

/** Key and value deserialized on first access: a value nobody reads is never parsed. */
abstract class LazyKeyValue {
  private decodedKey: unknown = PENDING;
  private decodedValue: unknown = PENDING;

  constructor(
    private readonly rawKey: Buffer | null,
    private readonly rawValue: Buffer | null,
    private readonly serdes: Serdes,
  ) {}

  get key(): unknown {
    if (this.decodedKey === PENDING) this.decodedKey = deserialize(this.serdes.key, this.rawKey);
    return this.decodedKey;
  }

  get value(): unknown {
    if (this.decodedValue === PENDING) this.decodedValue = deserialize(this.serdes.value, this.rawValue);
    return this.decodedValue;
  }
}

class LazyRecord extends LazyKeyValue {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    rawKey: Buffer | null,
    rawValue: Buffer | null,
    readonly headers: readonly RecordHeader[],
    serdes: Serdes,
  ) {
    super(rawKey, rawValue, serdes);
  }

  /** Accessors live on the prototype, which JSON.stringify does not see. */
  toJSON(): object {
    const { topic, partition, offset, timestamp, key, value, headers } = this;
    return { topic, partition, offset, timestamp, key, value, headers };
  }
}

class PlainKafkaMessage {
  readonly attributes = 0;
  constructor(
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly timestamp: string,
    readonly offset: string,
    readonly headers: KafkaHeaders,
  ) {}
}

class LazyKafkaMessage extends LazyKeyValue {
  readonly attributes = 0;

  constructor(
    rawKey: Buffer | null,
    rawValue: Buffer | null,
    readonly timestamp: string,
    readonly offset: string,
    readonly headers: KafkaHeaders,
    serdes: Serdes,
  ) {
    super(rawKey, rawValue, serdes);
  }

  toJSON(): object {
    const { key, value, timestamp, attributes, offset, headers } = this;
    return { key, value, timestamp, attributes, offset, headers };
  }
}

function deserialize(serde: Serde<unknown> | undefined, bytes: Buffer | null): unknown {
  return serde === undefined ? bytes : serde.deserialize(bytes);
}

/** Factories for the native shape: plain fields without a serde, lazy getters with one. */
export function nativeRecordFactory<K, V>(serdes: Serdes | null): RecordFactory<ConsumerRecord<K, V>> {
  if (serdes === null) {
    return {
      forPartition: (topic, partition) => (offset, timestamp, key, value, headers) =>
        new PlainRecord(topic, partition, offset, timestamp, key, value, headers) as unknown as ConsumerRecord<K, V>,
    };
  }
  return {
    forPartition: (topic, partition) => (offset, timestamp, key, value, headers) =>
      new LazyRecord(topic, partition, offset, timestamp, key, value, headers, serdes) as unknown as ConsumerRecord<K, V>,
  };
}

/**
 * Factories for KafkaJS's shape. Consecutive records of a batch usually share a millisecond, so
 * the last timestamp's string is reused rather than formatted again.
 */
export function kafkaMessageFactory<K, V>(serdes: Serdes | null): RecordFactory<KafkaMessage<K, V>> {
  let lastTimestamp = Number.NaN;
  let lastTimestampText = '';
  const timestampText = (timestamp: number): string => {
    if (timestamp !== lastTimestamp) {
      lastTimestamp = timestamp;
      lastTimestampText = String(timestamp);
    }
    return lastTimestampText;
  };
  // KafkaJS's message carries neither topic nor partition: one maker serves every partition.
  const make: RecordMaker<KafkaMessage<K, V>> =
    serdes === null
      ? (offset, timestamp, key, value, headers) =>
          new PlainKafkaMessage(key, value, timestampText(timestamp), String(offset), kafkaHeaders(headers)) as unknown as KafkaMessage<K, V>
      : (offset, timestamp, key, value, headers) =>
          new LazyKafkaMessage(key, value, timestampText(timestamp), String(offset), kafkaHeaders(headers), serdes) as unknown as KafkaMessage<K, V>;
  return { forPartition: () => make };
}

/** KafkaJS gives every message its own headers object, which ported code may mutate. */
function kafkaHeaders(headers: readonly RecordHeader[]): KafkaHeaders {
  const result: KafkaHeaders = {};
  for (let i = 0; i < headers.length; i++) {
    const { key, value } = headers[i];
    const previous = Object.hasOwn(result, key) ? result[key] : undefined;
    const next = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    // A plain assignment of '__proto__' would replace the object's prototype instead.
    Object.defineProperty(result, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/**
 * The end of the whole batch starting at `pos`, or -1 if no whole batch starts there (the end of
 * the bytes, or a cut final batch, which Kafka consumers skip as well).
 */
export function batchEnd(bytes: Buffer, pos: number): number {
  if (bytes.length - pos < BATCH_HEADER_SIZE) return -1;
  const size = batchSizeAt(bytes, pos);
  if (size < BATCH_HEADER_SIZE) {
    throw new TributaryError('CORRUPT_BATCH', `record batch at byte ${pos} of a fetch response has invalid length ${size}`, { position: pos, size });
  }
  return pos + size > bytes.length ? -1 : pos + size;
}

/** The offset after the last record of the batch at `pos`. */
function batchNextOffset(bytes: Buffer, pos: number): number {
  return readInt64(bytes, pos) + bytes.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
}

/**
 * Appends to `out` the records of the batch bytes[pos, end) whose offset is at least `minOffset`,
 * built by `factory`. Control batches (transaction markers) hold no application records and are
 * skipped, as Kafka's consumer does.
 */
export function decodeBatchInto<T>(
  bytes: Buffer,
  pos: number,
  end: number,
  topic: string,
  partition: number,
  minOffset: number,
  factory: RecordFactory<T>,
  out: T[],
): void {
  const attributes = bytes.readInt16BE(pos + ATTRIBUTES_OFFSET);
  if ((attributes & CONTROL_FLAG_MASK) !== 0 || batchNextOffset(bytes, pos) <= minOffset) return;
  readRecords(bytes, pos, end, minOffset, factory.forPartition(topic, partition), out);
}
