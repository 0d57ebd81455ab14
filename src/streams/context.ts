/**
 * Which runtime `source()` and `sink()` use, and what they need from it.
 *
 * - Inside a stream task (`rt.run`), the task's binding: the worker thread's client, the run's
 *   consumer group, the task's commits. The task builds the pipeline inside `withBinding`, which
 *   holds the binding in an AsyncLocalStorage, so `source()`/`sink()` called while the pipeline
 *   builds (also after an `await` in an async builder) bind to it.
 * - Otherwise, the runtime most recently opened in this thread and not yet closed, looked up when
 *   the source or sink is subscribed; `rt.source()`/`rt.sink()` name one explicitly.
 *
 * The storage and the list of open runtimes live on `globalThis` under registered symbols, so that
 * two copies of this module (the package loaded twice, from source and from `dist/`) agree.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Consumer, ConsumerOptions } from '../client/consumer.js';
import type { Producer, ProducerOptions } from '../client/producer.js';
import { TributaryError } from '../errors.js';
import type { OffsetCommitEntry } from '../runtime/messages.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import type { AggregationStore } from './aggregation/aggregate-with.js';
import type { EndMarkerSpec, EndMarkerState } from './end-markers.js';
import type { FlowControl } from './flow-control.js';

/** Where a source starts reading a partition that has no committed position. */
export type SourcePosition = 'earliest' | 'latest' | { readonly offset: number } | { readonly timestamp: number };

/** What a source asks its binding for. */
export interface SourceRequest<K, V> {
  /** What `declareSource` answered when the source was made. */
  readonly declaration: number;
  readonly topic: string;
  readonly serde: ConsumerOptions<K, V>['serde'];
  readonly from: SourcePosition;
  /** For the reader of a repartition topic: it ends once every writer's end marker was read (see end-markers.ts). */
  readonly endMarkers?: EndMarkerSpec;
}

/** A source's reading of its topic, as its binding set it up. */
export interface SourceSession<K, V> {
  readonly consumer: Consumer<K, V>;
  /** The partitions this source reads (in a task: its share once every task of the run has joined). */
  readonly partitions: readonly number[];
  /** True in a task: the consumer is a group member whose commits the task makes, so it must not commit by itself. */
  readonly grouped: boolean;
  /** The end markers the task's last commit had read, for a repartition reader of this run. */
  readonly restoredEndMarkers?: EndMarkerState;
  /** Registers the running source with the task, for its commits; nothing outside a task. */
  attach(source: RunningSource): void;
  /** The source ended (completed, failed or unsubscribed). Outside a task the consumer is disconnected; a task closes its consumers after its last commit. */
  close(): Promise<void>;
}

/** What a task needs from a running source. */
export interface RunningSource {
  readonly topic: string;
  /** The next offset of each partition after the last record emitted: what a commit may cover. */
  positions(): OffsetCommitEntry[];
  /** A repartition reader's end markers read up to those positions; null for other sources. */
  endMarkers(): EndMarkerState | null;
  /** Stops pulling batches; records already emitted stay emitted. */
  halt(): void;
  /** Halts and lets the consumer's iteration go, so that a rebalance need not wait for it; before the consumer is disconnected. */
  release(): Promise<void>;
  /** Forgets the positions of partitions taken away by a rebalance (committed first). */
  forget(partitions: readonly number[]): void;
}

/** A repartition's internal topic, and how its writers mark the end of their input. */
export interface RepartitionTarget {
  readonly topic: string;
  readonly markers: EndMarkerSpec;
  /** This task's index among the writers. */
  readonly writer: number;
}

/** What a task needs from a running sink. */
export interface RunningSink {
  /** Sends what is pending and resolves once everything sent so far is acknowledged; rejects with the first failed send. */
  flush(): Promise<void>;
}

export interface StreamBinding {
  /** Names the binding in errors: `the runtime on ./data`, `task 1 of run 'counts'`. */
  readonly name: string;
  readonly client: PartitionClient;
  readonly flow: FlowControl;
  /** A source was made for `topic` while the pipeline was built; the answer goes back in its request. */
  declareSource(topic: string): number;
  /**
   * A `repartition()` was made while the pipeline was built (in order, `name` undefined for a
   * generated one): where its records go. Only the bindings of a run have it; elsewhere records
   * are re-keyed in place (see repartition.ts).
   */
  repartition?(name: string | undefined, partitions: number | undefined): RepartitionTarget;
  /** A state store was made while the pipeline was built (see stores.ts); in a task it is restored and logged. */
  registerStore(store: AggregationStore): void;
  openSource<K, V>(request: SourceRequest<K, V>): Promise<SourceSession<K, V>>;
  /** A producer for a sink; closed with `closeProducer` when the sink ends. */
  producer(options: ProducerOptions<unknown, unknown> | undefined): Producer<unknown, unknown>;
  closeProducer(producer: Producer<unknown, unknown>): Promise<void>;
  /** Registers a running sink with the task, for its commits; the returned function unregisters it. */
  attachSink(sink: RunningSink): () => void;
}

const STORAGE_KEY = Symbol.for('tributary.streams.taskBinding');
const OPEN_KEY = Symbol.for('tributary.streams.openRuntimes');
const shared = globalThis as unknown as Record<symbol, unknown>;
const taskBindings = (shared[STORAGE_KEY] ??= new AsyncLocalStorage<StreamBinding>()) as AsyncLocalStorage<StreamBinding>;
const openRuntimes = (shared[OPEN_KEY] ??= []) as StreamBinding[];

/** Runs `build` with `binding` as the binding of every source and sink it makes. */
export function withBinding<T>(binding: StreamBinding, build: () => T): T {
  return taskBindings.run(binding, build);
}

/** The binding of the pipeline being built in a task, if any. */
export function taskBinding(): StreamBinding | undefined {
  return taskBindings.getStore();
}

/** A runtime opened in this thread: the default binding from now on. */
export function runtimeOpened(binding: StreamBinding): void {
  openRuntimes.push(binding);
}

/** A runtime closing: no longer a default binding. */
export function runtimeClosed(binding: StreamBinding): void {
  const index = openRuntimes.lastIndexOf(binding);
  if (index >= 0) openRuntimes.splice(index, 1);
}

/** The runtime most recently opened in this thread and not closed; INVALID_REQUEST naming `what` when there is none. */
export function defaultBinding(what: string): StreamBinding {
  const binding = openRuntimes[openRuntimes.length - 1];
  if (binding === undefined) {
    throw new TributaryError(
      'INVALID_REQUEST',
      `${what} has no runtime to read or write: open() one in this thread first, name one with rt.source()/rt.sink(), or run the pipeline with rt.run()`,
      {},
    );
  }
  return binding;
}
