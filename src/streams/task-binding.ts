/**
 * One stream task of a run (`rt.run`), on its worker thread: what its pipeline's sources, sinks
 * and stores bind to, and the commits that make the run at-least-once.
 *
 * Group membership. Each source of the pipeline is a member of the run's consumer group (the run's
 * name, as Kafka Streams' application.id), with static membership (`<run>-<task>`, and
 * `<run>-<task>-<n>` for the pipeline's n-th further source), so a task started again on a
 * replacement thread takes its partitions back without a rebalance, and with the locality
 * assignor, which gives each partition to a task on the thread hosting it. The coordinator has no
 * initial rebalance delay, so tasks that join one after another first get each other's
 * partitions; a task holds back (pauses) any partition outside the share the assignor gives it
 * once every task of the run has joined, which it works out itself, so that no record is processed
 * by a task that is about to give its partition up.
 *
 * Commits, in Kafka Streams' order: take a snapshot of the sources' positions (the offset after
 * the last record each emitted), flush every sink and changelog (everything those records caused
 * is then acknowledged), then commit the snapshot, with each changelog's end offset as the commit
 * metadata, and the end markers the task's repartition readers have read (see end-markers.ts).
 * After a commit, the records of repartition topics below the committed offsets are deleted.
 * Commits run every `commitIntervalMs`, before partitions are revoked, when the pipeline completes
 * and when the task is stopped (after its sources stop pulling). Limit: the snapshot
 * covers what the pipeline emitted synchronously from the records read; an asynchronous stage
 * (`delay`, a `mergeMap` over promises) may still hold some of them, and their outputs are covered
 * only by a later commit: if the task dies in between, they are lost. Stores, restored to the last
 * commit when the task starts (see changelog.ts), make windows and aggregates survive a restart.
 */
import { Consumer } from '../client/consumer.js';
import { Producer, type ProducerOptions } from '../client/producer.js';
import { parseProducerOptions } from '../client/producer-options.js';
import { TributaryError } from '../errors.js';
import { encodeSlot, localityAssign, localityAssignor, type AssignorMember, type TopicPartition } from '../group/assignors/index.js';
import type { OffsetCommitEntry } from '../runtime/messages.js';
import type { ThreadClient } from '../runtime/thread-client.js';
import type { AggregationStore } from './aggregation/aggregate-with.js';
import { StoreChangelog, changelogTopic } from './changelog.js';
import type { RepartitionTarget, RunningSink, RunningSource, SourceRequest, SourceSession, StreamBinding } from './context.js';
import type { EndMarkerState } from './end-markers.js';
import { repartitionTopic } from './names.js';
import { FlowControl } from './flow-control.js';
import { SinkWriter } from './sink-writer.js';

/** What a task is started with (see run.ts). */
export interface PipelineTaskInput {
  /** Made anew by every `rt.run`; a task restarted on a replacement thread keeps it. Tells this run's end markers from an earlier run's (end-markers.ts). */
  readonly runId: string;
  /** The pipeline module, whose default export builds the pipeline. */
  readonly moduleUrl: string;
  /** The run's name: its consumer group and the prefix of its changelog topics. */
  readonly name: string;
  readonly index: number;
  readonly parallelism: number;
  /** The runtime's threads: task i runs on slot i mod threads. */
  readonly threads: number;
  readonly commitIntervalMs: number;
}

/** Group timing of task members: in-process members answer fast, so a rebalance settles in a fraction of a second. */
const HEARTBEAT_INTERVAL_MS = 250;
const SESSION_TIMEOUT_MS = 10_000;

/** A failed commit other than these fails the task; these only leave the offsets for the next commit. */
const SKIPPED_COMMIT_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/** What a task's commits carry as metadata, and what its restart reads back from the latest one. */
interface CommitMetadata {
  /** Each changelog topic's end offset. */
  readonly changelog?: Readonly<Record<string, number>>;
  /** The run the end markers belong to. */
  readonly run?: string;
  /** The end markers read, per repartition topic. */
  readonly ended?: Readonly<Record<string, EndMarkerState>>;
}

interface TaskSource {
  readonly consumer: Consumer<unknown, unknown>;
  readonly topic: string;
  /** True for the reader of a repartition topic, whose committed records are deleted. */
  readonly repartition: boolean;
  readonly groupInstanceId: string;
  /** The running source, once subscribed. */
  reader(): RunningSource | null;
  /** The member id of its last join; null before it joined. */
  memberId(): string | null;
}

export class TaskBinding implements StreamBinding {
  readonly name: string;
  readonly flow = new FlowControl();
  private readonly declaredTopics: string[] = [];
  private readonly sources: TaskSource[] = [];
  private readonly sinks = new Set<RunningSink>();
  private readonly producers = new Set<Producer<unknown, unknown>>();
  private readonly stores = new Map<string, AggregationStore>();
  private readonly changelogs: StoreChangelog[] = [];
  private repartitions = 0;
  /** The metadata of the task's last commit, read by `restore()`. */
  private restored: CommitMetadata = {};
  private commits: Promise<void> = Promise.resolve();
  /** Set once the task winds down: rebalance listeners then leave commits to it. */
  private closing = false;
  private markLost!: () => void;
  /**
   * Resolves if a source's member lost its partitions without a commit (its membership expired, or
   * the group's coordinator restarted without it). The group hands them back from the last commit,
   * so records after it would be counted twice in the stores: the task must start over, its stores
   * restored to that commit (see pipeline-task.ts). Sources stop pulling and commits stop at once.
   */
  readonly lost = new Promise<void>((resolve) => (this.markLost = resolve));
  private isLost = false;

  constructor(
    readonly client: ThreadClient,
    private readonly input: PipelineTaskInput,
  ) {
    this.name = `task ${input.index} of run '${input.name}'`;
  }

  declareSource(topic: string): number {
    this.declaredTopics.push(topic);
    return this.declaredTopics.length - 1;
  }

  registerStore(store: AggregationStore): void {
    if (this.stores.has(store.name)) {
      throw new TributaryError('INVALID_CONFIG', `the pipeline of run '${this.input.name}' makes two stores named '${store.name}'; each store needs its own name (it names its changelog topic)`, {
        field: 'name',
        value: store.name,
      });
    }
    this.stores.set(store.name, store);
  }

  repartition(name: string | undefined): RepartitionTarget {
    const topic = repartitionTopic(this.input.name, name, this.repartitions++);
    return { topic, markers: { run: this.input.runId, writers: this.input.parallelism }, writer: this.input.index };
  }

  async openSource<K, V>(request: SourceRequest<K, V>): Promise<SourceSession<K, V>> {
    const { topic, from, declaration } = request;
    if (from !== 'earliest' && from !== 'latest') {
      throw new TributaryError('INVALID_CONFIG', `source('${topic}') in rt.run starts from 'earliest' or 'latest': a run resumes from its group's committed offsets`, {
        field: 'from',
        value: JSON.stringify(from),
      });
    }
    const share = new Set(this.shareOf(declaration));
    const groupInstanceId = this.instanceId(this.input.index, declaration);
    let reader: RunningSource | null = null;
    let memberId: string | null = null;
    const consumer = new Consumer<K, V>(this.client, {
      serde: request.serde,
      groupId: this.input.name,
      groupInstanceId,
      autoOffsetReset: from,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      sessionTimeout: SESSION_TIMEOUT_MS,
      partitionAssigners: [localityAssignor({ slot: this.client.slot, task: this.input.index, slotOf: (t, p) => this.client.slotOf(t, p) })],
      onPartitionsAssigned: (assigned) => {
        const held = assigned.filter((tp) => !share.has(tp.partition)).map((tp) => tp.partition);
        if (held.length > 0) consumer.pause([{ topic, partitions: held }]);
      },
      onPartitionsRevoked: async (revoked) => {
        if (this.closing) return;
        await this.commit();
        reader?.forget(revoked.map((tp) => tp.partition));
      },
      onPartitionsLost: (lost) => {
        if (this.closing || lost.length === 0) return;
        this.isLost = true;
        this.halt();
        this.markLost();
      },
    });
    consumer.on('consumer.group_join', (event) => {
      memberId = event.payload.memberId;
    });
    const repartition = request.endMarkers !== undefined;
    this.sources.push({ consumer: consumer as Consumer<unknown, unknown>, topic, repartition, groupInstanceId, reader: () => reader, memberId: () => memberId });
    await consumer.subscribe({ topic });
    const restoredEndMarkers = repartition ? this.restoredEndMarkers(topic) : undefined;
    return {
      consumer,
      partitions: [...share].sort((a, b) => a - b),
      grouped: true,
      ...(restoredEndMarkers === undefined ? {} : { restoredEndMarkers }),
      attach: (running) => {
        reader = running;
      },
      // The task disconnects its consumers after its last commit.
      close: async () => undefined,
    };
  }

  producer(options: ProducerOptions<unknown, unknown> | undefined): Producer<unknown, unknown> {
    const producer = new Producer<unknown, unknown>(this.client, options);
    this.producers.add(producer);
    return producer;
  }

  closeProducer(producer: Producer<unknown, unknown>): Promise<void> {
    this.producers.delete(producer);
    return producer.disconnect();
  }

  attachSink(sink: RunningSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /**
   * Reads what the task's last commit recorded, and rebuilds every store from its changelog up to
   * it; after the pipeline is built, before it is subscribed.
   */
  async restore(): Promise<void> {
    if (this.stores.size === 0 && this.repartitions === 0) return;
    this.restored = await this.committedMetadata();
    const committed = this.restored.changelog ?? {};
    for (const store of this.stores.values()) {
      const topic = changelogTopic(this.input.name, store.name);
      // A failed changelog write fails the next commit's flush, and so the task.
      const writer = new SinkWriter(this, topic, undefined, parseProducerOptions.defaults.bufferMemory, () => undefined);
      this.sinks.add(writer);
      const changelog = new StoreChangelog(store, topic, this.input.index, writer);
      await changelog.restore(this.client, committed[topic] ?? 0);
      this.changelogs.push(changelog);
    }
  }

  /**
   * Snapshot, flush, commit (see the module comment); one at a time. Rejects when a sink or
   * changelog write failed, or the commit failed for a reason other than the group moving on.
   */
  commit(): Promise<void> {
    const next = this.commits.then(() => (this.isLost ? undefined : this.commitOnce()));
    this.commits = next.catch(() => undefined);
    return next;
  }

  /** Stops every source pulling: the pipeline gets nothing more to work on. */
  halt(): void {
    for (const source of this.sources) source.reader()?.halt();
  }

  /**
   * After the last commit: consumers stop and leave the group, and producers flush and close. A
   * static member leaving by itself only stops heartbeating (KIP-345), and the group would wait
   * out its session before handing its partitions on; a task that is done sends the LeaveGroup
   * itself (Kafka's admin removeMembersFromConsumerGroup does the same). A task that starts over
   * (`rejoin`), or whose thread died, does not leave: it joins again under the same instance ids,
   * which takes the members' places without a rebalance.
   */
  async close(rejoin = false): Promise<void> {
    this.closing = true;
    this.halt();
    await Promise.allSettled([...this.sources.map((source) => this.leave(source, rejoin)), ...[...this.producers].map((producer) => producer.disconnect())]);
  }

  private async leave(source: TaskSource, rejoin: boolean): Promise<void> {
    await source.reader()?.release();
    await source.consumer.disconnect();
    if (rejoin) return;
    const coordinator = await this.client.groupCoordinator(this.input.name);
    // A join still in flight when the source ended (a task with nothing to read ends at once) made a member this consumer never heard of.
    const memberId =
      source.memberId() ?? (await this.client.request('describeGroup', coordinator)).members.find((member) => member.groupInstanceId === source.groupInstanceId)?.memberId;
    if (memberId === undefined) return;
    await this.client.request('leaveGroup', { ...coordinator, memberId, groupInstanceId: source.groupInstanceId });
  }

  private async commitOnce(): Promise<void> {
    const positions = this.sources.map((source) => source.reader()?.positions() ?? []);
    // A reader not running yet has read nothing since the last commit, whose markers then carry over.
    const ended: Record<string, EndMarkerState> = {};
    for (const source of this.sources) {
      const markers = source.repartition ? (source.reader()?.endMarkers() ?? this.restoredEndMarkers(source.topic)) : undefined;
      if (markers !== undefined && markers !== null) ended[source.topic] = markers;
    }
    const changelogEnds = this.changelogs.map((changelog) => changelog.position());
    await Promise.all([...this.sinks].map((sink) => sink.flush()));
    const changelog = Object.fromEntries(await Promise.all(this.changelogs.map(async (changelog, i) => [changelog.topic, await changelogEnds[i]()])));
    const metadata = this.commitMetadata(changelog, ended);
    await Promise.all(
      this.sources.map(async (source, i) => {
        if (positions[i].length === 0) return;
        try {
          await source.consumer.commitOffsets(positions[i].map((entry: OffsetCommitEntry) => ({ ...entry, metadata })));
        } catch (error) {
          if (!TributaryError.is(error) || (!SKIPPED_COMMIT_ERRORS.has(error.code) && !error.retriable)) throw error;
          return;
        }
        if (source.repartition) await this.purge(positions[i]);
      }),
    );
  }

  private commitMetadata(changelog: Record<string, number>, ended: Record<string, EndMarkerState>): string | null {
    const metadata: CommitMetadata = {
      ...(this.changelogs.length === 0 ? {} : { changelog }),
      ...(this.repartitions === 0 ? {} : { run: this.input.runId, ended }),
    };
    return Object.keys(metadata).length === 0 ? null : JSON.stringify(metadata);
  }

  /** The end markers of `topic` the last commit recorded, if it was this run's. */
  private restoredEndMarkers(topic: string): EndMarkerState | undefined {
    return this.restored.run === this.input.runId ? this.restored.ended?.[topic] : undefined;
  }

  /**
   * Deletes a repartition topic's records below the offsets just committed: every task that reads
   * them is past them. Housekeeping only: a failure (the partition's thread restarting) leaves the
   * records to the next commit's purge.
   */
  private async purge(committed: readonly OffsetCommitEntry[]): Promise<void> {
    await Promise.allSettled(committed.map(({ topic, partition, offset }) => this.client.request('deleteRecords', { topic, partition, beforeOffset: offset })));
  }

  /** The metadata of the task's last commit: the latest among its input partitions' commits. */
  private async committedMetadata(): Promise<CommitMetadata> {
    const partitions = this.declaredTopics.flatMap((topic, declaration) => this.shareOf(declaration).map((partition) => ({ topic, partition })));
    if (partitions.length === 0) return {};
    const coordinator = await this.client.groupCoordinator(this.input.name);
    const committed = await this.client.request('fetchOffsets', { ...coordinator, partitions });
    const latest = committed.filter((entry) => entry.metadata !== '').sort((a, b) => b.commitTimestamp - a.commitTimestamp)[0];
    if (latest === undefined) return {};
    return JSON.parse(latest.metadata) as CommitMetadata;
  }

  /**
   * The partitions of the `declaration`-th source's topic that this task gets once every task of
   * the run has joined: the locality assignment over the members the run will have.
   */
  private shareOf(declaration: number): number[] {
    const { parallelism, threads, index } = this.input;
    const members: AssignorMember[] = [];
    for (let task = 0; task < parallelism; task++) {
      this.declaredTopics.forEach((topic, n) => {
        const id = this.instanceId(task, n);
        members.push({ memberId: id, groupInstanceId: id, topics: [topic], userData: encodeSlot(task % threads, task) });
      });
    }
    const partitionsPerTopic = Object.fromEntries(this.declaredTopics.map((topic) => [topic, this.client.topic(topic).partitions]));
    const assigned: TopicPartition[] = localityAssign({ members, partitionsPerTopic }, (t, p) => this.client.slotOf(t, p)).get(this.instanceId(index, declaration)) ?? [];
    return assigned.map((tp) => tp.partition);
  }

  private instanceId(task: number, declaration: number): string {
    return declaration === 0 ? `${this.input.name}-${task}` : `${this.input.name}-${task}-${declaration}`;
  }
}
