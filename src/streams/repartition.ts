/**
 * `repartition(options?)`: re-keys a stream and, inside `rt.run`, moves each record to the task
 * that owns its new key, through an internal topic (Kafka Streams' `repartition()`, and what its
 * `groupBy` does by itself). A task of a run reads only its share of the input partitions, so an
 * aggregation keyed by anything but the input's partitioning key would give each task a partial
 * result; after a repartition every record of one key is read by one task.
 *
 * ```ts
 * // clicks are keyed by user; count them per page, one result per page and minute for the whole run
 * source('clicks', { serde: 'json' }).pipe(
 *   repartition({ key: (click) => click.value.page }),
 *   window(tumbling('1m'), { grace: '5s' }),
 *   count(),
 *   sink('page-views'),
 * );
 * ```
 *
 * Emits `StreamRecord`s keyed by the new key. A record (an element with `value` and a numeric
 * `timestamp`, as `source()` emits) keeps its value, timestamp and headers; any other element
 * becomes the value of a record stamped with the time it was written. Inside `rt.run` records are
 * written to `<run>-<name>-repartition`, partitioned by the murmur2 hash of the serialized key as
 * any producer partitions, and read back by the task owning each partition as one more source of
 * the task (a member of the run's group, committed with the task's commits, which also delete the
 * records read from the topic, as Kafka Streams purges its repartition topics). Elsewhere (a
 * pipeline subscribed directly, which reads every partition itself) the records are re-keyed in
 * place and nothing is written.
 *
 * A bounded run (sources `to: 'end'`) completes: each task writes an end-of-input marker into every
 * partition of the topic once its own input has ended, and the readers end when they have read
 * every task's (see end-markers.ts). Records reach the topic in the order tasks write them, so a
 * window after a repartition sees records of different tasks interleaved: give it a
 * `maxOutOfOrderness` or `grace` that covers how far tasks drift apart.
 *
 * Options and defaults:
 * - `key`: the new key; default the element's `key`.
 * - `name`: names the internal topic, 1 to 100 of a-z A-Z 0-9 . _ -; default `repartition-<n>`,
 *   n counting the pipeline's repartitions from 0 in the order they are made.
 * - `partitions`: the internal topic's partitions when the run creates it; default the most
 *   partitions of the pipeline's source topics made before it (Kafka Streams' default). A topic
 *   that exists keeps its own; one with another count than a `partitions` given is refused.
 * - `serde` / `keySerde`: how values and keys are written; default a self-describing format that
 *   round-trips Buffers, strings and JSON values (element-serde.ts).
 * - `producer`: options of the writing producer, as `sink()` takes them.
 */
import { map, merge, type Observable, type OperatorFunction } from 'rxjs';
import { parseProducerOptions, type ProducerOptions } from '../client/producer-options.js';
import { resolveSerde, type Serde, type SerdeName } from '../client/serde.js';
import { defineOptions } from '../runtime/options.js';
import type { RecordHeader } from '../record/types.js';
import { taskBinding, type RepartitionTarget, type StreamBinding } from './context.js';
import { elementSerde } from './element-serde.js';
import { endMarkerMessages } from './end-markers.js';
import { isFunction, recordKey } from './extractors.js';
import { NAME_RULE, isStreamName } from './names.js';
import { writeTo, type SinkMessage } from './sink.js';
import { sourceOn } from './source.js';
import type { DefaultKey, KeyExtractor, StreamRecord } from './types.js';
import { producerOption, serdeOption } from './option-specs.js';

export interface RepartitionOptions<T, K> {
  readonly key?: KeyExtractor<T, K>;
  readonly name?: string;
  readonly partitions?: number;
  readonly serde?: SerdeName | Serde<any>;
  readonly keySerde?: SerdeName | Serde<any>;
  readonly producer?: ProducerOptions<unknown, unknown>;
}

/** A record keeps its value; any other element is the value. */
export type RepartitionedValue<T> = T extends { readonly value: infer V; readonly timestamp: number } ? V : T;


const parseRepartitionOptions = defineOptions('repartition', {
  key: { type: 'custom', expected: 'a function (record) => key', is: isFunction, default: undefined },
  name: { type: 'custom', expected: `a name of ${NAME_RULE}`, is: isStreamName, default: undefined },
  partitions: { type: 'integer', min: 1, max: 10_000, default: undefined },
  serde: serdeOption,
  keySerde: serdeOption,
  producer: producerOption,
});

/** An element `source()` could have emitted: its value, timestamp and headers carry over. */
interface RecordLike {
  readonly value: unknown;
  readonly timestamp: number;
  readonly headers?: readonly RecordHeader[];
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
}

function isRecordLike(element: unknown): element is RecordLike {
  return typeof element === 'object' && element !== null && 'value' in element && typeof (element as { timestamp?: unknown }).timestamp === 'number';
}

export function repartition<T, K = DefaultKey<T>>(options?: RepartitionOptions<T, K>): OperatorFunction<T, StreamRecord<K, RepartitionedValue<T>>> {
  const parsed = parseRepartitionOptions(options as Parameters<typeof parseRepartitionOptions>[0]);
  const keyOf = (parsed.key ?? recordKey) as KeyExtractor<T, K>;
  const producerOptions = parsed.producer as ProducerOptions<unknown, unknown> | undefined;
  // Checked now, so that a bad option fails where the pipeline is built rather than when it runs.
  const highWaterBytes = parseProducerOptions(producerOptions as Parameters<typeof parseProducerOptions>[0]).bufferMemory;
  const binding = taskBinding();
  const target = binding?.repartition?.(parsed.name, parsed.partitions);
  if (binding === undefined || target === undefined) return map((element) => rekeyed(element, keyOf(element)) as StreamRecord<K, RepartitionedValue<T>>);

  const keySerde = resolveSerde(parsed.keySerde ?? elementSerde, 'repartition option keySerde');
  const valueSerde = resolveSerde(parsed.serde ?? elementSerde, 'repartition option serde');
  const toMessage = (element: T): SinkMessage => {
    const record = isRecordLike(element);
    const key = keySerde.serialize(keyOf(element));
    const value = valueSerde.serialize(record ? element.value : element);
    const message = record ? { key, value, timestamp: element.timestamp, headers: element.headers } : { key, value };
    return { message, bytes: (key?.length ?? 0) + (value?.length ?? 0) };
  };
  const write = writeTo<T>(binding, target.topic, producerOptions, highWaterBytes, toMessage, () => markersOf(binding, target));
  // The reader is made now, while the pipeline is built, so that it is declared in build order as every source is.
  const read = sourceOn<K, RepartitionedValue<T>>(binding, target.topic, { serde: valueSerde as Serde<RepartitionedValue<T>>, keySerde: keySerde as Serde<K> }, target.markers);
  return (input: Observable<T>) => merge(input.pipe(write), read);
}

/** The end markers, once the task's input to the repartition has ended; they carry no bytes that count against the sink. */
function markersOf(binding: StreamBinding, target: RepartitionTarget): SinkMessage[] {
  const partitions = binding.client.topic(target.topic).partitions;
  return endMarkerMessages(target.markers.run, target.writer, partitions).map((message) => ({ message, bytes: 0 }));
}

/** Outside a run: the element as a record of the new key, its value read only when asked for. */
function rekeyed(element: unknown, key: unknown): StreamRecord<unknown, unknown> {
  if (isRecordLike(element)) return new RekeyedRecord(element, key);
  return { key, value: element, timestamp: Date.now(), headers: [], topic: '', partition: -1, offset: -1 };
}

class RekeyedRecord implements StreamRecord<unknown, unknown> {
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;

  constructor(
    private readonly record: RecordLike,
    readonly key: unknown,
  ) {
    this.timestamp = record.timestamp;
    this.headers = record.headers ?? [];
    this.topic = record.topic ?? '';
    this.partition = record.partition ?? -1;
    this.offset = record.offset ?? -1;
  }

  get value(): unknown {
    return this.record.value;
  }

  toJSON(): object {
    const { key, value, timestamp, headers, topic, partition, offset } = this;
    return { key, value, timestamp, headers, topic, partition, offset };
  }
}
