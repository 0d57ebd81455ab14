/**
 * `rt.run(module, options)`: runs a pipeline module (see pipeline-module.ts) on the runtime's
 * worker threads, as `parallelism` stream tasks (default one per thread); task i runs on slot
 * i mod threads, next to the partitions the locality assignor gives it, so reading its input is a
 * local call. The tasks of a run form the consumer group `name` (Kafka Streams' application.id):
 * a run stopped and started again resumes from its committed offsets, with its stores restored;
 * a task whose thread dies starts again on the replacement thread and does the same. See
 * task-binding.ts for membership and commits.
 *
 * ```ts
 * const run = await rt.run(new URL('./page-views.ts', import.meta.url), { name: 'page-views' });
 * await run.done;    // bounded sources: when every task has completed; otherwise call run.stop()
 * ```
 *
 * Options and defaults:
 * - `name`: the run's name: its consumer group, and the prefix of its changelog topics
 *   (`<name>-<store>-changelog`). Default: the module's file name without its extension.
 * - `parallelism`: how many tasks; default the runtime's threads, or for a run whose stores exist
 *   already, the tasks they were made for (so a run resumes on a runtime with other threads).
 * - `commitIntervalMs`: how often tasks commit (Kafka Streams' `commit.interval.ms`); default 30000.
 *
 * Before starting tasks, the pipeline is built once on this thread: that checks the module, its
 * source topics (which must exist) and its stores, whose changelog topics are created here
 * (compacted, one partition per task), as are its repartitions' topics (see repartition.ts;
 * records are deleted from them as tasks commit). A run with stores cannot change its parallelism
 * later.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Producer } from '../client/producer.js';
import { TributaryError } from '../errors.js';
import { defineOptions, describeValue, type OptionsInput } from '../runtime/options.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ThreadTaskHandle } from '../runtime/task-supervisor.js';
import type { AggregationStore } from './aggregation/aggregate-with.js';
import { changelogTopic } from './changelog.js';
import type { RepartitionTarget, SourceSession, StreamBinding } from './context.js';
import { FlowControl } from './flow-control.js';
import { NAME_RULE, isStreamName, repartitionTopic } from './names.js';
import { buildPipeline, pipelineModuleUrl } from './pipeline-module.js';
import type { PipelineTaskInput } from './task-binding.js';

const parseRunOptions = defineOptions('run', {
  name: { type: 'custom', expected: `a name of ${NAME_RULE}`, is: isStreamName, default: undefined },
  parallelism: { type: 'integer', min: 1, max: 1024, default: undefined },
  commitIntervalMs: { type: 'integer', min: 1, max: 2_147_483_647, default: 30_000 },
});

export type RunOptions = OptionsInput<typeof parseRunOptions.schema>;

export type TaskState = 'running' | 'completed' | 'stopped' | 'failed';

export interface TaskStatus {
  readonly index: number;
  /** The thread slot it runs on. */
  readonly slot: number;
  readonly state: TaskState;
  /** Times it was started again on a replacement thread. */
  readonly restarts: number;
  /** Why it failed. */
  readonly error?: Error;
}

export interface RunHandle {
  readonly name: string;
  /** Each task's state now. */
  readonly tasks: readonly TaskStatus[];
  /** Stops every task: its sources stop reading, it commits what it emitted, and it leaves; resolves once all have. */
  stop(): Promise<void>;
  /** Resolves when every task has completed (bounded sources) or the run was stopped; rejects with the first task failure, after stopping the others. */
  readonly done: Promise<void>;
}

/** This module's sibling task entry, in the same form (`.ts` from source, `.js` from `dist/`). */
const TASK_MODULE = new URL(`./pipeline-task${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

export async function runPipeline(runtime: Runtime, module: string | URL, options?: RunOptions): Promise<RunHandle> {
  const parsed = parseRunOptions(options);
  const moduleUrl = pipelineModuleUrl(module);
  const name = parsed.name ?? defaultName(moduleUrl);
  const plan = new PlanningBinding(runtime, name);
  await buildPipeline(moduleUrl, plan);
  const parallelism = parsed.parallelism ?? storedParallelism(runtime, name, plan.stores) ?? runtime.threads;
  await createRepartitionTopics(runtime, plan.repartitions);
  for (const topic of plan.topics) runtime.topic(topic);
  await createChangelogs(runtime, name, plan.stores, parallelism);
  const runId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

  const handles: ThreadTaskHandle[] = [];
  try {
    for (let index = 0; index < parallelism; index++) {
      const input: PipelineTaskInput = { runId, moduleUrl, name, index, parallelism, threads: runtime.threads, commitIntervalMs: parsed.commitIntervalMs };
      handles.push(await runtime.startThreadTask(index % runtime.threads, { moduleUrl: TASK_MODULE, exportName: 'runPipelineTask', input }));
    }
  } catch (error) {
    await Promise.allSettled(handles.map((handle) => handle.stop()));
    throw error;
  }
  return new Run(name, handles);
}

class Run implements RunHandle {
  readonly done: Promise<void>;
  private readonly states: TaskState[];
  private readonly errors: (Error | undefined)[];
  private stopping = false;

  constructor(
    readonly name: string,
    private readonly handles: readonly ThreadTaskHandle[],
  ) {
    this.states = handles.map(() => 'running');
    this.errors = handles.map(() => undefined);
    this.done = Promise.all(
      handles.map((handle, i) =>
        handle.done.then(
          () => {
            this.states[i] = this.stopping ? 'stopped' : 'completed';
          },
          async (error: Error) => {
            this.states[i] = 'failed';
            this.errors[i] = error;
            await this.stop();
            throw error;
          },
        ),
      ),
    ).then(() => undefined);
    // A failure is the caller's to see through `done`; unobserved, it must not crash the process.
    this.done.catch(() => undefined);
  }

  get tasks(): readonly TaskStatus[] {
    return this.handles.map((handle, index) => ({
      index,
      slot: handle.slot,
      state: this.states[index],
      restarts: handle.restarts,
      ...(this.errors[index] === undefined ? {} : { error: this.errors[index] }),
    }));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.handles.map((handle) => handle.stop()));
  }
}

/** An internal topic a run's repartition needs. */
interface PlannedRepartition {
  readonly topic: string;
  readonly partitions: number;
  /** True when the pipeline named the partition count (the `partitions` option). */
  readonly explicit: boolean;
}

/**
 * The binding of the build on the main thread, which only learns what the pipeline reads, which
 * stores it keeps and where it repartitions; it is never subscribed.
 */
class PlanningBinding implements StreamBinding {
  readonly name = 'the planning of a run';
  readonly flow = new FlowControl();
  readonly topics: string[] = [];
  readonly stores: AggregationStore[] = [];
  readonly repartitions: PlannedRepartition[] = [];

  constructor(
    readonly client: Runtime,
    private readonly runName: string,
  ) {}

  /** Its topic, and by default as many partitions as the most of the sources made before it (Kafka Streams' rule). */
  repartition(name: string | undefined, partitions: number | undefined): RepartitionTarget {
    const topic = repartitionTopic(this.runName, name, this.repartitions.length);
    if (this.repartitions.some((planned) => planned.topic === topic)) {
      throw new TributaryError('INVALID_CONFIG', `the pipeline makes two repartitions with topic '${topic}'; each needs its own name (it names its topic)`, { field: 'name', value: name });
    }
    const upstream = this.topics.map((source) => this.repartitions.find((planned) => planned.topic === source)?.partitions ?? this.client.storedTopic(source)?.partitions ?? 1);
    this.repartitions.push({ topic, partitions: partitions ?? Math.max(1, ...upstream), explicit: partitions !== undefined });
    // Only its topic matters here: the planning build is never subscribed.
    return { topic, markers: { run: '', writers: 0 }, writer: 0 };
  }

  declareSource(topic: string): number {
    this.topics.push(topic);
    return this.topics.length - 1;
  }

  registerStore(store: AggregationStore): void {
    if (this.stores.some((known) => known.name === store.name)) {
      throw new TributaryError('INVALID_CONFIG', `the pipeline makes two stores named '${store.name}'; each store needs its own name (it names its changelog topic)`, {
        field: 'name',
        value: store.name,
      });
    }
    this.stores.push(store);
  }

  openSource<K, V>(): Promise<SourceSession<K, V>> {
    return Promise.reject(notRunning());
  }

  producer(): Producer<unknown, unknown> {
    throw notRunning();
  }

  closeProducer(): Promise<void> {
    return Promise.reject(notRunning());
  }

  attachSink(): () => void {
    throw notRunning();
  }
}

function notRunning(): TributaryError {
  return new TributaryError('INVALID_REQUEST', 'a pipeline built by rt.run() on the main thread is only planned: it runs in its tasks', {});
}

/**
 * Creates the repartition topics that do not exist yet. One that exists keeps its partitions
 * (records are placed by the partition count they find), unless the pipeline names another count,
 * which is refused: its records would not be where the pipeline expects.
 */
async function createRepartitionTopics(runtime: Runtime, repartitions: readonly PlannedRepartition[]): Promise<void> {
  for (const { topic, partitions, explicit } of repartitions) {
    const existing = runtime.storedTopic(topic);
    if (existing === undefined) {
      await runtime.admin.createTopic(topic, { partitions });
    } else if (explicit && existing.partitions !== partitions) {
      throw new TributaryError('INVALID_CONFIG', `repartition topic '${topic}' has ${existing.partitions} partitions, but the pipeline asks for ${partitions}; delete the topic to change its partitions`, {
        field: 'partitions',
        value: partitions,
      });
    }
  }
}

/** The tasks the run's existing changelog topics were made for (one partition each); undefined for a first run. */
function storedParallelism(runtime: Runtime, name: string, stores: readonly AggregationStore[]): number | undefined {
  for (const store of stores) {
    const existing = runtime.storedTopic(changelogTopic(name, store.name));
    if (existing !== undefined) return existing.partitions;
  }
  return undefined;
}

async function createChangelogs(runtime: Runtime, name: string, stores: readonly AggregationStore[], parallelism: number): Promise<void> {
  for (const store of stores) {
    const topic = changelogTopic(name, store.name);
    const existing = runtime.storedTopic(topic);
    if (existing === undefined) {
      await runtime.admin.createTopic(topic, { partitions: parallelism, cleanupPolicy: 'compact' });
    } else if (existing.partitions !== parallelism) {
      throw new TributaryError(
        'INVALID_CONFIG',
        `run '${name}' keeps store '${store.name}' in ${existing.partitions} changelog partitions, one per task; it cannot run with parallelism ${parallelism}`,
        { field: 'parallelism', value: parallelism },
      );
    }
  }
}

function defaultName(moduleUrl: string): string {
  const base = path.basename(new URL(moduleUrl).pathname).replace(/\.[^.]*$/, '');
  if (!isStreamName(base)) {
    throw new TributaryError('INVALID_CONFIG', `rt.run() needs a name option: the module's file name ${describeValue(base)} cannot name a run`, { field: 'name', value: base });
  }
  return base;
}
