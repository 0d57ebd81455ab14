/**
 * Long-running tasks on the partition worker threads — stream-processing pipelines, benchmark
 * producers — started by the runtime (`Runtime.startThreadTask`) so that they run next to the
 * partitions they read and write, through the thread's own client.
 *
 * A task is a function exported by a module, loaded on the thread with a dynamic import (the
 * thread has the same loader as the rest of the runtime, so a `.ts` module works wherever the
 * runtime's own sources do). It gets a `ThreadTaskContext` and runs until its promise settles or
 * its `signal` aborts. Its end — success or failure — goes up to the runtime as a `taskEnded`
 * call. If the thread dies, its tasks die with it; the runtime starts them again on the
 * replacement thread.
 */
import { TributaryError } from '../errors.js';
import type { ExtensionOutcome, HostExtension, HostedPartition } from '../partition/partition-host.js';
import type { RequestType, WorkerRequests } from './messages.js';
import type { ThreadClient } from './thread-client.js';

export interface ThreadTaskContext<I = unknown> {
  /** The thread's client: partitions of this thread without a message, all others through the runtime. */
  readonly client: ThreadClient;
  /** The thread's slot. */
  readonly slot: number;
  /** What the task was started with (structured-cloned). */
  readonly input: I;
  /** Aborted when the task is to stop: the task's promise should settle soon after. */
  readonly signal: AbortSignal;
}

/** What a task module exports. */
export type ThreadTask<I = unknown> = (context: ThreadTaskContext<I>) => Promise<void> | void;

interface RunningTask {
  readonly controller: AbortController;
  readonly ended: Promise<void>;
}

const TASK_REQUESTS: ReadonlySet<RequestType> = new Set<RequestType>(['startTask', 'stopTask']);

export class ThreadTaskExtension implements HostExtension {
  readonly requestTypes = TASK_REQUESTS;
  private readonly tasks = new Map<string, RunningTask>();

  /** `client` is asked for lazily: the thread's client is made after its host, which holds this extension. */
  constructor(private readonly client: () => ThreadClient) {}

  partitionOpened(): void {}

  partitionClosed(): void {}

  handle(type: RequestType, args: unknown, _partition: HostedPartition | null, reply: (outcome: ExtensionOutcome) => void): void {
    if (type === 'startTask') {
      this.start(args as WorkerRequests['startTask']['args']).then(
        () => reply({ ok: true, result: null }),
        (error: unknown) => reply({ ok: false, error }),
      );
      return;
    }
    const running = this.tasks.get((args as WorkerRequests['stopTask']['args']).taskId);
    if (running === undefined) {
      reply({ ok: true, result: null });
      return;
    }
    running.controller.abort(new TributaryError('CLOSED', 'the task was stopped', {}));
    void running.ended.then(() => reply({ ok: true, result: null }));
  }

  /** The thread is stopping: every task's signal aborts. */
  close(): void {
    for (const running of this.tasks.values()) running.controller.abort(new TributaryError('CLOSED', 'the thread is stopping', {}));
  }

  /**
   * Registers the task at once, so that a stop arriving while its module loads or its metadata is
   * awaited aborts it (it then ends without running) instead of missing it; then runs it.
   */
  private async start(args: WorkerRequests['startTask']['args']): Promise<void> {
    const { taskId, moduleUrl, exportName, input, metadataVersion } = args;
    if (this.tasks.has(taskId)) throw new TributaryError('INVALID_REQUEST', `task ${taskId} is already running on this thread`, { taskId });
    const controller = new AbortController();
    let markEnded!: () => void;
    this.tasks.set(taskId, { controller, ended: new Promise<void>((resolve) => (markEnded = resolve)) });
    const client = this.client();
    let task: ThreadTask;
    try {
      task = await loadTask(moduleUrl, exportName);
      await client.metadataReady(metadataVersion);
    } catch (error) {
      this.tasks.delete(taskId);
      markEnded();
      throw error;
    }
    const context: ThreadTaskContext = { client, slot: client.slot, input, signal: controller.signal };
    void Promise.resolve()
      .then(() => (controller.signal.aborted ? undefined : task(context)))
      .then(
        () => null,
        (error: unknown) => asTaskError(error),
      )
      .then((error) => {
        this.tasks.delete(taskId);
        markEnded();
        client.taskEnded(taskId, error);
      });
  }
}

/** The task function `exportName` of `moduleUrl`; INVALID_REQUEST when it does not load or is not a function. */
async function loadTask(moduleUrl: string, exportName: string): Promise<ThreadTask> {
  let task: unknown;
  try {
    task = ((await import(moduleUrl)) as Record<string, unknown>)[exportName];
  } catch (cause) {
    throw new TributaryError('INVALID_REQUEST', `task module ${moduleUrl} failed to load: ${(cause as Error)?.message ?? String(cause)}`, { moduleUrl }, { cause });
  }
  if (typeof task !== 'function') {
    throw new TributaryError('INVALID_REQUEST', `${moduleUrl} has no function export ${JSON.stringify(exportName)}`, { moduleUrl, exportName });
  }
  return task as ThreadTask;
}

/** A task's failure as it crosses to the main thread. */
function asTaskError(error: unknown): TributaryError {
  if (TributaryError.is(error)) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new TributaryError('TASK_FAILED', `thread task failed: ${message}`, {}, { cause: error });
}
