/**
 * The main thread's side of thread tasks (see thread-tasks.ts): starts a task on a slot's
 * thread, learns of its end, and starts it again when its thread dies and is replaced — a task
 * that lived on a dead thread died with it, mid-work, so it must resume from whatever it
 * committed, as a Kafka Streams task resumes on another instance.
 */
import { TributaryError } from '../errors.js';
import type { WorkerRequests } from './messages.js';

export interface ThreadTaskSpec {
  /** A module the worker threads can import (a file: URL or a package specifier). */
  readonly moduleUrl: string;
  /** The exported function to run; default `default`. */
  readonly exportName?: string;
  /** Passed to the task as `context.input`; structured-cloned. */
  readonly input?: unknown;
}

export interface ThreadTaskHandle {
  readonly id: string;
  readonly slot: number;
  /** Times the task was started again on a replacement thread. */
  readonly restarts: number;
  /** Settles when the task ends: resolves when it returns or is stopped, rejects (TASK_FAILED or its own error) when it fails. */
  readonly done: Promise<void>;
  /** Aborts the task's signal and resolves once it has ended. */
  stop(): Promise<void>;
}

/** What the supervisor starts a task with; the slot's call adds the metadata version of the moment. */
export type TaskStartArgs = Omit<WorkerRequests['startTask']['args'], 'metadataVersion'>;

/** How the supervisor reaches a slot's thread. */
export interface TaskSlots {
  startTask(slot: number, args: TaskStartArgs): Promise<unknown>;
  stopTask(slot: number, args: WorkerRequests['stopTask']['args']): Promise<unknown>;
}

interface Task {
  readonly id: string;
  readonly slot: number;
  readonly args: TaskStartArgs;
  restarts: number;
  stopping: boolean;
  readonly done: Promise<void>;
  readonly settle: (error: Error | null) => void;
}

export class TaskSupervisor {
  private readonly tasks = new Map<string, Task>();
  private nextId = 0;

  constructor(
    private readonly call: TaskSlots,
    private readonly slots: number,
  ) {}

  /** Starts a task on `slot`'s thread; rejects if the module cannot be loaded or lacks the export. */
  async start(slot: number, spec: ThreadTaskSpec): Promise<ThreadTaskHandle> {
    if (!Number.isSafeInteger(slot) || slot < 0 || slot >= this.slots) {
      throw new TributaryError('INVALID_REQUEST', `slot must be an integer in [0, ${this.slots - 1}], got ${String(slot)}`, { slot: String(slot) });
    }
    if (typeof spec?.moduleUrl !== 'string' || spec.moduleUrl === '') {
      throw new TributaryError('INVALID_REQUEST', 'a thread task needs a moduleUrl', {});
    }
    const id = `task-${this.nextId++}`;
    let settle!: (error: Error | null) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === null ? resolve() : reject(error));
    });
    // A failure nobody awaits must not crash the process as an unhandled rejection.
    done.catch(() => undefined);
    const task: Task = {
      id,
      slot,
      args: { taskId: id, moduleUrl: spec.moduleUrl, exportName: spec.exportName ?? 'default', input: spec.input ?? null },
      restarts: 0,
      stopping: false,
      done,
      settle: (error) => {
        if (this.tasks.delete(id)) settle(error);
      },
    };
    this.tasks.set(id, task);
    try {
      await this.call.startTask(slot, task.args);
    } catch (error) {
      this.tasks.delete(id);
      throw error;
    }
    return {
      id,
      slot,
      get restarts() {
        return task.restarts;
      },
      done,
      stop: () => this.stop(task),
    };
  }

  /** A task reported its end from its thread. */
  ended(taskId: string, error: Error | null): void {
    this.tasks.get(taskId)?.settle(error);
  }

  /** The slot's thread was replaced: its tasks died with the old one and start again. */
  slotRestarted(slot: number): void {
    for (const task of this.tasks.values()) {
      if (task.slot !== slot || task.stopping) continue;
      task.restarts++;
      this.call.startTask(slot, task.args).catch((error: Error) => task.settle(error));
    }
  }

  /** Stops every task (the runtime is closing). */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.tasks.values()].map((task) => this.stop(task)));
  }

  private async stop(task: Task): Promise<void> {
    task.stopping = true;
    if (this.tasks.has(task.id)) {
      try {
        await this.call.stopTask(task.slot, { taskId: task.id });
      } catch (error) {
        // The thread is gone: so is the task.
        if (!TributaryError.is(error, 'PARTITION_UNAVAILABLE') && !TributaryError.is(error, 'CLOSED')) throw error;
      }
      // The stop answer and the task's own end notice travel on different ports; whichever comes first ends it.
      task.settle(null);
    }
    await task.done.catch(() => undefined);
  }
}
