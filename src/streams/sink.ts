/**
 * `sink(topic, options?)`: the operator that writes a stream to a topic, through a producer of
 * the sink's binding (see context.ts); it emits nothing and completes once everything it wrote is
 * acknowledged. A failed write fails it.
 *
 * ```ts
 * source('clicks').pipe(window(tumbling('1m')), count(), sink('clicks-per-minute'));
 * ```
 *
 * Each element becomes one record:
 * - a record `{ key?, value, headers?, timestamp?, partition? }`; a record read from a topic (a
 *   `StreamRecord`, which has an `offset`) keeps its key, value, headers and timestamp, but not its
 *   partition number: it is partitioned by key, as Kafka Streams' `to()` does;
 * - a windowed result `{ key, window, value }`: the record key is the result's key, the value
 *   `{ window: { start, end }, value, final }`, the timestamp the window's start;
 * - a keyed result `{ key, value }` (after `groupByKey()`): a record of that key and value.
 *
 * Options and defaults:
 * - `serde`: the values' serde (`'json' | 'string' | 'bytes'` or a `Serde`). Default: Buffers as
 *   they are, strings as UTF-8, null as null (a tombstone), anything else as JSON.
 * - `keySerde`: the keys' serde; the same default.
 * - `producer`: options of the sink's producer (`lingerMs`, `batchBytes`, `bufferMemory`,
 *   `compression`...). Its `bufferMemory` (default 32 MiB) is also the sink's backpressure
 *   bound: past it, the pipeline's sources stop reading until acknowledgements catch up.
 *
 * Records are sent once per job (the records of one source batch go out as one send); the
 * `partition` of an element not read from a topic overrides the producer's partitioner.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { parseProducerOptions, type ProducerOptions } from '../client/producer-options.js';
import type { ProducerMessage } from '../client/producer-message.js';
import { resolveSerde, type Serde, type SerdeName } from '../client/serde.js';
import { TributaryError } from '../errors.js';
import { defineOptions, describeValue } from '../runtime/options.js';
import { defaultBinding, taskBinding, type StreamBinding } from './context.js';
import { SinkWriter } from './sink-writer.js';
import { producerOption, serdeOption } from './option-specs.js';

export interface SinkOptions {
  readonly serde?: SerdeName | Serde<any>;
  readonly keySerde?: SerdeName | Serde<any>;
  readonly producer?: ProducerOptions<unknown, unknown>;
}


const parseSinkOptions = defineOptions('sink', {
  serde: serdeOption,
  keySerde: serdeOption,
  producer: producerOption,
});

/** Buffers as they are, strings as UTF-8, null and undefined as null, anything else as JSON. */
const defaultSerializer = (value: unknown): Buffer | null => {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
};

/** Writes the stream to `topic`; see the module comment. */
export function sink<T>(topic: string, options?: SinkOptions): OperatorFunction<T, never> {
  return sinkOn<T>(taskBinding(), topic, options);
}

/** `sink()` bound to `binding`, or, when it is undefined, to the runtime open in this thread when subscribed. */
export function sinkOn<T>(binding: StreamBinding | undefined, topic: string, options: SinkOptions | undefined): OperatorFunction<T, never> {
  if (typeof topic !== 'string' || topic === '') {
    throw new TributaryError('INVALID_CONFIG', `sink() needs a topic name, got ${describeValue(topic)}`, { field: 'topic', value: describeValue(topic) });
  }
  const parsed = parseSinkOptions(options as Parameters<typeof parseSinkOptions>[0]);
  const producerOptions = parsed.producer as ProducerOptions<unknown, unknown> | undefined;
  // Checked now, so that a bad option fails where the pipeline is built rather than when it runs.
  const highWaterBytes = parseProducerOptions(producerOptions as Parameters<typeof parseProducerOptions>[0]).bufferMemory;
  const serializeKey = serializerOf(parsed.keySerde as SerdeName | Serde<unknown> | undefined, 'sink option keySerde');
  const serializeValue = serializerOf(parsed.serde as SerdeName | Serde<unknown> | undefined, 'sink option serde');
  const toMessage = (element: T): SinkMessage => {
    if (typeof element !== 'object' || element === null) {
      throw new TributaryError('INVALID_RECORD', `sink('${topic}') writes objects { key?, value, ... } or windowed results { key, window, value }, got ${describeValue(element)}`, { topic });
    }
    const { key, value, window, headers, timestamp, partition, offset, final } = element as Record<string, any>;
    const windowed = isWindow(window);
    const keyBytes = serializeKey(key);
    const valueBytes = serializeValue(windowed ? { window: { start: window.start, end: window.end }, value, final: final ?? true } : value);
    const message = {
      key: keyBytes,
      value: valueBytes,
      headers,
      timestamp: windowed ? window.start : timestamp,
      // A read record's partition is where it was, not where it goes.
      partition: typeof offset === 'number' ? undefined : partition,
    };
    return { message, bytes: (keyBytes?.length ?? 0) + (valueBytes?.length ?? 0) };
  };
  return writeTo<T>(binding, topic, producerOptions, highWaterBytes, toMessage);
}

/** A message for the producer and the bytes it holds (for the sink's backpressure). */
export interface SinkMessage {
  readonly message: ProducerMessage<Buffer | null, Buffer | null>;
  readonly bytes: number;
}

/**
 * The writing part of a sink, also used by `repartition()`: each element becomes a message by
 * `toMessage` (a throw fails the stream), `closing` adds messages after the input completes, and
 * the operator completes once all are acknowledged.
 */
export function writeTo<T>(
  binding: StreamBinding | undefined,
  topic: string,
  producerOptions: ProducerOptions<unknown, unknown> | undefined,
  highWaterBytes: number,
  toMessage: (element: T) => SinkMessage,
  closing: () => readonly SinkMessage[] = () => [],
): OperatorFunction<T, never> {
  return (input) =>
    new Observable<never>((subscriber) => {
      const bound = binding ?? defaultBinding(`sink('${topic}')`);
      const writer = new SinkWriter(bound, topic, producerOptions, highWaterBytes, (error) => subscriber.error(error));
      const detach = bound.attachSink(writer);
      const subscription = input.subscribe({
        next(element) {
          let converted;
          try {
            converted = toMessage(element);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          writer.write(converted.message, converted.bytes);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          for (const last of closing()) writer.write(last.message, last.bytes);
          writer.flush().then(
            () => subscriber.complete(),
            (error: unknown) => subscriber.error(error),
          );
        },
      });
      return () => {
        subscription.unsubscribe();
        detach();
        // The producer flushes as it closes; a failure there was already reported by its send.
        void writer.close().catch(() => undefined);
      };
    });
}

function serializerOf(serde: SerdeName | Serde<unknown> | undefined, field: string): (value: unknown) => Buffer | null {
  if (serde === undefined) return defaultSerializer;
  const resolved = resolveSerde(serde, field);
  return (value) => resolved.serialize(value);
}

function isWindow(value: unknown): value is { start: number; end: number } {
  return typeof value === 'object' && value !== null && typeof (value as { start?: unknown }).start === 'number' && typeof (value as { end?: unknown }).end === 'number';
}
