/**
 * What `send` accepts, and its conversion into records the encoder takes.
 *
 * Messages are KafkaJS's shape, so ported code keeps working: `key`/`value` as Buffer, string or
 * null, `headers` as KafkaJS's object (`{ name: value | value[] }`) or as an array of
 * `{ key, value }`, `timestamp` as epoch milliseconds in a number or KafkaJS's string.
 *
 * Messages become columns of keys, values, headers and timestamps (see `PreparedTopic`), so the
 * caller's message objects, of whatever shapes, are read once, here. A record's
 * timestamp is fixed here, at send time, as Kafka's CreateTime is; that also makes a later
 * re-encode of the batch produce the same bytes. Everything is validated before any record of a
 * send is buffered, so a bad message rejects the whole send and buffers nothing.
 */
import { TributaryError } from '../errors.js';
import { codecById, codecByName, type CompressionName } from '../record/index.js';
import type { TopicMetadata } from '../runtime/partition-client.js';
import { varintSize } from '../record/varint.js';
import type { Serde } from './serde.js';

export type RecordBytes = Buffer | string | null;

/** KafkaJS's header object: a name maps to one value or several (sent as repeated headers). */
export interface MessageHeadersObject {
  readonly [key: string]: Buffer | string | readonly (Buffer | string)[] | undefined;
}

export type MessageHeadersArray = ReadonlyArray<{ readonly key: string; readonly value: Buffer | string | null }>;

export interface ProducerMessage<K = RecordBytes, V = RecordBytes> {
  readonly key?: K | null;
  readonly value: V | null;
  readonly headers?: MessageHeadersObject | MessageHeadersArray;
  /** Explicit partition; overrides the partitioner. */
  readonly partition?: number;
  /** Epoch milliseconds (KafkaJS passes them as a string); default: the time of the `send` call. */
  readonly timestamp?: number | string;
}

/** KafkaJS's `CompressionTypes` numbers (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) or our codec names. */
export type CompressionSetting = CompressionName | 0 | 1 | 2 | 3 | 4;

/** Largest record timestamp: any two then differ by less than the 2^52 a batch's varlong delta holds. */
const MAX_TIMESTAMP = 2 ** 52 - 1;

/**
 * Upper bound of a record's framing around its key, value and headers: length varint (5),
 * attributes (1), timestamp delta (8 for deltas below 2^52), offset delta (5). Admission control
 * reserves this much, so buffered bytes stay within `bufferMemory` whatever the real framing.
 */
const MAX_RECORD_FRAMING = 19;

/**
 * One topic's share of a send, validated and converted, as columns: record `i` is `keys[i]`,
 * `values[i]`, ... Columns rather than one object per record: a send allocates a few arrays
 * instead of a thousand objects that would live, and be copied by the GC, until acknowledged.
 */
export interface PreparedTopic {
  readonly topic: string;
  readonly partitionCount: number;
  readonly compression: CompressionName;
  /** The topic stamps LogAppendTime. */
  readonly logAppendTime: boolean;
  readonly count: number;
  /** Keys as given (strings are encoded straight into the batch, and hashed without encoding when ASCII). */
  readonly keys: (Buffer | string | null)[];
  readonly values: (Buffer | string | null)[];
  /** Each record's headers, or null when no message of the send has any. */
  readonly headers: (MessageHeadersArray | undefined)[] | null;
  readonly timestamps: number[];
  /** Explicit partitions (-1: ask the partitioner), or null when no message names one. */
  readonly partitions: number[] | null;
  /** UTF-8 byte lengths, -1 for null. */
  readonly keyLengths: number[];
  readonly valueLengths: number[];
  /** Bytes of the key, value and headers with their length varints: the record's size minus its framing. */
  readonly payloadSizes: number[];
  /** Sum of the records' largest possible sizes. */
  readonly maxBytes: number;
}

export interface MessageSerdes {
  readonly keySerde: Serde<unknown> | undefined;
  readonly valueSerde: Serde<unknown> | undefined;
}

/** The codec a batch of this topic uses: the send's, else the producer's, else the topic's. */
export function chooseCompression(perSend: CompressionSetting | undefined, producerDefault: CompressionName | undefined, topic: TopicMetadata): CompressionName {
  if (perSend !== undefined) return typeof perSend === 'number' ? codecById(perSend).name : codecByName(perSend).name;
  if (producerDefault !== undefined) return producerDefault;
  return topic.compression === 'producer' ? 'none' : topic.compression;
}

export function prepareTopic(
  topic: TopicMetadata,
  messages: readonly ProducerMessage<unknown, unknown>[],
  compression: CompressionName,
  serdes: MessageSerdes,
  /** Timestamp of messages that carry none. */
  now: number,
): PreparedTopic {
  if (!Array.isArray(messages)) {
    throw new TributaryError('INVALID_REQUEST', `messages for topic '${topic.name}' must be an array, got ${typeof messages}`, { topic: topic.name });
  }
  const count = messages.length;
  const { keySerde, valueSerde } = serdes;
  const keys: (Buffer | string | null)[] = new Array(count);
  const values: (Buffer | string | null)[] = new Array(count);
  const timestamps: number[] = new Array(count);
  const keyLengths: number[] = new Array(count);
  const valueLengths: number[] = new Array(count);
  const payloadSizes: number[] = new Array(count);
  let headersColumn: (MessageHeadersArray | undefined)[] | null = null;
  let partitions: number[] | null = null;
  let maxBytes = 0;
  for (let i = 0; i < count; i++) {
    const message = messages[i];
    if (message === null || typeof message !== 'object') throw invalid(topic, i, 'message', `must be an object, got ${message === null ? 'null' : typeof message}`);
    const key = toBytes(keySerde === undefined ? message.key : keySerde.serialize(message.key ?? null), topic, i, 'key', keySerde);
    const value = toBytes(valueSerde === undefined ? message.value : valueSerde.serialize(message.value), topic, i, 'value', valueSerde);
    const explicit = message.partition;
    if (explicit !== undefined && explicit !== null) {
      if (!Number.isInteger(explicit) || explicit < 0 || explicit >= topic.partitions) {
        throw new TributaryError(
          'UNKNOWN_TOPIC_OR_PARTITION',
          `message ${i} names partition ${String(explicit)} of topic '${topic.name}', which has partitions 0-${topic.partitions - 1}`,
          { topic: topic.name, partition: typeof explicit === 'number' ? explicit : String(explicit), partitions: topic.partitions, index: i },
        );
      }
      if (partitions === null) partitions = new Array<number>(count).fill(-1);
      partitions[i] = explicit;
    }
    const headers = message.headers === undefined || message.headers === null ? undefined : toHeaders(message.headers, topic, i);
    if (headers !== undefined) (headersColumn ??= new Array<MessageHeadersArray | undefined>(count).fill(undefined))[i] = headers;
    const timestamp = message.timestamp === undefined || message.timestamp === null ? now : toTimestamp(message.timestamp, topic, i);
    const keyLength = byteLength(key);
    const valueLength = byteLength(value);
    const payloadSize =
      varintSize(keyLength) + (keyLength > 0 ? keyLength : 0) + varintSize(valueLength) + (valueLength > 0 ? valueLength : 0) + (headers === undefined ? 1 : headersSize(headers));
    keys[i] = key;
    values[i] = value;
    timestamps[i] = timestamp;
    keyLengths[i] = keyLength;
    valueLengths[i] = valueLength;
    payloadSizes[i] = payloadSize;
    maxBytes += payloadSize + MAX_RECORD_FRAMING;
  }
  return {
    topic: topic.name,
    partitionCount: topic.partitions,
    compression,
    logAppendTime: topic.timestampType === 'log-append',
    count,
    keys,
    values,
    headers: headersColumn,
    timestamps,
    partitions,
    keyLengths,
    valueLengths,
    payloadSizes,
    maxBytes,
  };
}

function byteLength(bytes: Buffer | string | null): number {
  if (bytes === null) return -1;
  return typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length;
}

function toBytes(value: unknown, topic: TopicMetadata, index: number, field: 'key' | 'value', serde: Serde<unknown> | undefined): Buffer | string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || value instanceof Buffer) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const hint = serde === undefined ? ` (set the producer option serde.${field}, e.g. 'json', to send other values)` : ` (the ${field} serde returned it)`;
  throw invalid(topic, index, field, `must be a Buffer, a string or null, got ${Array.isArray(value) ? 'an array' : typeof value}${hint}`);
}

function toTimestamp(timestamp: unknown, topic: TopicMetadata, index: number): number {
  const value = typeof timestamp === 'string' && timestamp.length > 0 ? Number(timestamp) : timestamp;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_TIMESTAMP) {
    throw invalid(topic, index, 'timestamp', `must be epoch milliseconds (an integer in [0, 2^52), as a number or a decimal string), got ${JSON.stringify(timestamp)}`);
  }
  return value;
}

function toHeaders(headers: MessageHeadersObject | MessageHeadersArray, topic: TopicMetadata, index: number): MessageHeadersArray | undefined {
  if (Array.isArray(headers)) {
    const list = headers as MessageHeadersArray;
    for (let h = 0; h < list.length; h++) {
      const header = list[h];
      if (header === null || typeof header !== 'object' || typeof header.key !== 'string') {
        throw invalid(topic, index, 'headers', `entry ${h} must be { key: string, value: Buffer | string | null }`);
      }
      checkHeaderValue(header.value, header.key, topic, index);
    }
    return list.length === 0 ? undefined : list;
  }
  if (typeof headers !== 'object') throw invalid(topic, index, 'headers', `must be an object or an array, got ${typeof headers}`);
  const list: { key: string; value: Buffer | string | null }[] = [];
  for (const key in headers as MessageHeadersObject) {
    const value = (headers as MessageHeadersObject)[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly unknown[]) list.push({ key, value: checkHeaderValue(item, key, topic, index) });
    } else {
      list.push({ key, value: checkHeaderValue(value, key, topic, index) });
    }
  }
  return list.length === 0 ? undefined : list;
}

function checkHeaderValue(value: unknown, key: string, topic: TopicMetadata, index: number): Buffer | string | null {
  if (value === null || typeof value === 'string' || value instanceof Buffer) return value;
  throw invalid(topic, index, 'headers', `header '${key}' must be a Buffer, a string or null, got ${typeof value}`);
}

function headersSize(headers: MessageHeadersArray): number {
  let size = varintSize(headers.length);
  for (let h = 0; h < headers.length; h++) {
    const keyLength = Buffer.byteLength(headers[h].key, 'utf8');
    const valueLength = byteLength(headers[h].value);
    size += varintSize(keyLength) + keyLength + varintSize(valueLength) + (valueLength > 0 ? valueLength : 0);
  }
  return size;
}

function invalid(topic: TopicMetadata, index: number, field: string, problem: string): TributaryError {
  return new TributaryError('INVALID_RECORD', `message ${index} for topic '${topic.name}': ${field} ${problem}`, { topic: topic.name, index, field });
}
