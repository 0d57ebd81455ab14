/**
 * The embedded runtime as an application sees it: `open()` a data directory, then use `admin`,
 * `producer()` and `consumer()` as KafkaJS code uses `kafka.admin()`, `kafka.producer()` and
 * `kafka.consumer()`.
 *
 * This facade sits above both the runtime (threads, partitions, metadata) and the clients, which
 * only know the runtime through `PartitionClient`; it is the one place that ties them together
 * and tracks the clients it made, so `close()` can flush producers and stop consumers before the
 * partitions close underneath them.
 */
import type { Observable, OperatorFunction } from 'rxjs';
import { Consumer, type ConsumerOptions } from './client/consumer.js';
import { Producer, type ProducerOptions, type RecordBytes } from './client/producer.js';
import { GroupAdmin } from './group/group-admin.js';
import { Runtime, type RuntimeEvents, type RuntimeOptions } from './runtime/runtime.js';
import { runtimeClosed, runtimeOpened } from './streams/context.js';
import { runPipeline, type RunHandle, type RunOptions } from './streams/run.js';
import { RuntimeBinding } from './streams/runtime-binding.js';
import { sinkOn, type SinkOptions } from './streams/sink.js';
import { sourceOn, type SourceOptions } from './streams/source.js';
import type { StreamRecord } from './streams/types.js';

export type TributaryOptions = RuntimeOptions;

export class Tributary {
  private readonly clients = new Set<{ disconnect(): Promise<void> }>();
  /** Topic and consumer-group administration, KafkaJS-style (see GroupAdmin and Admin). */
  readonly admin: GroupAdmin;

  /** What `source()`/`sink()` bind to while this is the runtime opened last in this thread, and what `rt.source()`/`rt.sink()` use. */
  private readonly streams: RuntimeBinding;

  private constructor(readonly runtime: Runtime) {
    this.admin = new GroupAdmin(runtime);
    this.streams = new RuntimeBinding(`the runtime on ${runtime.dir}`, runtime, {
      consumer: (options) => this.consumer(options),
      producer: (options) => this.producer(options),
    });
    runtimeOpened(this.streams);
  }

  /**
   * Opens (creating if needed) the runtime in `options.dir` (default `./.tributary`) with
   * `options.threads` worker threads (default: one per core). Fails with DIR_LOCKED if another
   * runtime, in this process or another, has the directory open.
   */
  static async open(options?: TributaryOptions): Promise<Tributary> {
    return new Tributary(await Runtime.open(options));
  }

  /** The data directory, resolved. */
  get dir(): string {
    return this.runtime.dir;
  }

  /** Worker threads hosting partitions. */
  get threads(): number {
    return this.runtime.threads;
  }

  producer<K = RecordBytes, V = RecordBytes>(options?: ProducerOptions<K, V>): Producer<K, V> {
    return this.track(new Producer<K, V>(this.runtime, options));
  }

  consumer<K = Buffer | null, V = Buffer | null>(options?: ConsumerOptions<K, V>): Consumer<K, V> {
    return this.track(new Consumer<K, V>(this.runtime, options));
  }

  /** `source()` of `tributary/streams`, reading through this runtime whatever runtime is opened last. */
  source<V = Buffer | null, K = Buffer | null>(topic: string, options?: SourceOptions<K, V>): Observable<StreamRecord<K, V>> {
    return sourceOn<K, V>(this.streams, topic, options);
  }

  /** `sink()` of `tributary/streams`, writing through this runtime whatever runtime is opened last. */
  sink<T>(topic: string, options?: SinkOptions): OperatorFunction<T, never> {
    return sinkOn<T>(this.streams, topic, options);
  }

  /**
   * Runs a pipeline module (its default export builds the pipeline) on the worker threads, as
   * `parallelism` stream tasks forming the consumer group `name`; see streams/run.ts.
   */
  run(module: string | URL, options?: RunOptions): Promise<RunHandle> {
    return runPipeline(this.runtime, module, options);
  }

  on<E extends keyof RuntimeEvents>(event: E, listener: (...args: RuntimeEvents[E]) => void): this {
    this.runtime.on(event, listener as never);
    return this;
  }

  /** Flushes and disconnects every producer, stops every consumer, then closes the partitions and releases the directory. */
  async close(): Promise<void> {
    runtimeClosed(this.streams);
    await Promise.allSettled([...this.clients].map((client) => client.disconnect()));
    this.clients.clear();
    await this.runtime.close();
  }

  private track<T extends { disconnect(): Promise<void> }>(client: T): T {
    this.clients.add(client);
    return client;
  }
}

/** Opens an embedded runtime; see `Tributary.open`. */
export function open(options?: TributaryOptions): Promise<Tributary> {
  return Tributary.open(options);
}
