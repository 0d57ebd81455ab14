/**
 * `source(topic, options?)`: a topic as an RxJS Observable of `StreamRecord`s.
 *
 * ```ts
 * source('clicks', { serde: 'json', to: 'end' }).pipe(window(tumbling('1m')), count(), sink('clicks-per-minute'));
 * ```
 *
 * Records come from a `Consumer`'s batch iterator and are emitted as the consumer decoded them:
 * key and timestamp are the record's own fields, and a value with a serde is deserialized on first
 * access, so a pipeline keyed by record key and timed by record timestamp never parses a value.
 * Where the records come from is the source's binding (see context.ts): outside `rt.run`, every
 * partition of the topic, read by this source alone; inside, the task's share of the partitions,
 * read as a member of the run's consumer group, resuming from its committed offsets.
 *
 * Options and defaults:
 * - `serde`: the values' serde, `'json' | 'string' | 'bytes'` or a `Serde`; default bytes (Buffers).
 * - `keySerde`: the keys' serde; default bytes.
 * - `from`: where a partition without a committed position starts: `'earliest'` (default, as
 *   Kafka Streams), `'latest'`, `{ offset }` or `{ timestamp }` (the first record at or after it;
 *   the end when there is none). Inside `rt.run` only `'earliest'` and `'latest'`: a run resumes
 *   from its group's commits.
 * - `to`: `'end'` makes the source bounded: it completes once it has read every partition up to
 *   the end offsets it saw when subscribed, which closes and emits every open window downstream.
 *   Default unbounded.
 *
 * Unsubscribing stops the consumer (in a task, after the task's last commit).
 */
import { Observable } from 'rxjs';
import type { SerdeName, Serde } from '../client/serde.js';
import { TributaryError } from '../errors.js';
import { defineOptions, describeValue } from '../runtime/options.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import { defaultBinding, taskBinding, type SourcePosition, type SourceSession, type StreamBinding } from './context.js';
import { EndMarkers, type EndMarkerSpec } from './end-markers.js';
import { SourceReader, type CatchUp } from './source-reader.js';
import type { StreamRecord } from './types.js';
import { serdeOption } from './option-specs.js';

export type { SourcePosition } from './context.js';

export interface SourceOptions<K = Buffer | null, V = Buffer | null> {
  readonly serde?: SerdeName | Serde<V>;
  readonly keySerde?: SerdeName | Serde<K>;
  readonly from?: SourcePosition;
  readonly to?: 'end';
}


export function isSourcePosition(value: unknown): value is SourcePosition {
  if (value === 'earliest' || value === 'latest') return true;
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const { offset, timestamp } = value as { offset?: unknown; timestamp?: unknown };
  if (keys[0] === 'offset') return Number.isSafeInteger(offset) && (offset as number) >= 0;
  return keys[0] === 'timestamp' && Number.isSafeInteger(timestamp);
}

const parseSourceOptions = defineOptions('source', {
  serde: serdeOption,
  keySerde: serdeOption,
  from: { type: 'custom', expected: "'earliest', 'latest', { offset: integer >= 0 } or { timestamp: epoch ms }", is: isSourcePosition, default: 'earliest' },
  to: { type: 'enum', values: ['end'], default: undefined },
});

/** The records of `topic`; see the module comment. */
export function source<V = Buffer | null, K = Buffer | null>(topic: string, options?: SourceOptions<K, V>): Observable<StreamRecord<K, V>> & CatchingUp {
  return sourceOn<K, V>(taskBinding(), topic, options);
}

/**
 * The Observable of `source()` carries this method: it resolves once the source's subscription
 * has read every partition up to the end offsets seen when it started (at completion for a bounded
 * source). A table made of a source waits for it before a join lets stream records through
 * (join/table.ts). Symbol.for, so two copies of this module agree (see context.ts).
 */
export const CAUGHT_UP: unique symbol = Symbol.for('tributary.streams.caughtUp') as never;

export interface CatchingUp {
  [CAUGHT_UP](): Promise<void>;
}

/**
 * `source()` bound to `binding`, or, when it is undefined, to the runtime open in this thread when
 * subscribed. `endMarkers` makes it the reader of a repartition topic (see repartition.ts).
 */
export function sourceOn<K, V>(
  binding: StreamBinding | undefined,
  topic: string,
  options: SourceOptions<K, V> | undefined,
  endMarkers?: EndMarkerSpec,
): Observable<StreamRecord<K, V>> & CatchingUp {
  if (typeof topic !== 'string' || topic === '') {
    throw new TributaryError('INVALID_CONFIG', `source() needs a topic name, got ${describeValue(topic)}`, { field: 'topic', value: describeValue(topic) });
  }
  const parsed = parseSourceOptions(options as Parameters<typeof parseSourceOptions>[0]);
  const declaration = binding?.declareSource(topic) ?? 0;
  const serde = parsed.serde === undefined && parsed.keySerde === undefined ? undefined : { key: parsed.keySerde as SerdeName | Serde<K>, value: parsed.serde as SerdeName | Serde<V> };
  // Made when somebody asks: only then does an unbounded source look up the end offsets to catch up to.
  let caughtUp: { promise: Promise<void>; resolve: () => void } | null = null;
  const observable = new Observable<StreamRecord<K, V>>((subscriber) => {
    const bound = binding ?? defaultBinding(`source('${topic}')`);
    let session: SourceSession<K, V> | undefined;
    let reader: SourceReader<K, V> | undefined;
    let ended = false;
    const read = async (): Promise<void> => {
      session = await bound.openSource<K, V>({ declaration, topic, serde, from: parsed.from, ...(endMarkers === undefined ? {} : { endMarkers }) });
      if (ended) {
        await session.close();
        return;
      }
      const bounded = parsed.to === 'end';
      const ends = bounded || caughtUp !== null ? await endOffsets(bound.client, topic, session.partitions) : null;
      if (ended) return;
      const markers = endMarkers === undefined ? null : new EndMarkers(endMarkers, session.restoredEndMarkers);
      const catchUp: CatchUp | null = bounded || caughtUp === null || ends === null ? null : { ends, reached: caughtUp.resolve };
      const emit = (record: unknown): void => subscriber.next(record as StreamRecord<K, V>);
      reader = new SourceReader<K, V>(topic, session.consumer, emit, bound.flow, session.partitions, bounded ? ends : null, markers, !session.grouped, catchUp);
      session.attach(reader);
      if ((await reader.read()) !== 'end') return;
      caughtUp?.resolve();
      subscriber.complete();
    };
    read().catch((error: unknown) => subscriber.error(error));
    return () => {
      ended = true;
      reader?.halt();
      // Nothing waits for the consumer to stop; a close that fails has nobody left to tell.
      void session?.close().catch(() => undefined);
    };
  });
  return Object.assign(observable, {
    [CAUGHT_UP]: (): Promise<void> => {
      if (caughtUp === null) {
        let resolve!: () => void;
        const promise = new Promise<void>((settle) => (resolve = settle));
        caughtUp = { promise, resolve };
      }
      return caughtUp.promise;
    },
  });
}

/** The end offset (high watermark) of each partition now. */
async function endOffsets(client: PartitionClient, topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const ends = await Promise.all(partitions.map((partition) => client.request('listOffsets', { topic, partition, spec: 'latest' })));
  return new Map(partitions.map((partition, i) => [partition, ends[i].offset]));
}
