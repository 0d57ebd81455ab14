/**
 * The thread task of a stream run (started by `rt.run` with `Runtime.startThreadTask`): builds the
 * pipeline on its worker thread, bound to the task (see task-binding.ts), restores its stores,
 * then runs it until it completes (bounded sources) or the task is stopped, committing as it goes.
 *
 * If a source's group member loses its partitions without a commit, the task starts over as a new
 * incarnation, as it would on a replacement thread: what it did since its last commit is dropped
 * (its outputs stay written: at-least-once), and the pipeline is built again, its stores restored
 * to the last commit, its members rejoining under the same instance ids.
 */
import type { Observable, Subscription } from 'rxjs';
import type { ThreadTaskContext } from '../runtime/thread-tasks.js';
import { buildPipeline } from './pipeline-module.js';
import { TaskBinding, type PipelineTaskInput } from './task-binding.js';

type Outcome = 'done' | 'lost';

export async function runPipelineTask(context: ThreadTaskContext<PipelineTaskInput>): Promise<void> {
  const { client, input, signal } = context;
  await client.metadataReady();
  while ((await runIncarnation(new TaskBinding(client, input), input, signal)) === 'lost') {
    // Start over; see the module comment.
  }
}

async function runIncarnation(task: TaskBinding, input: PipelineTaskInput, signal: AbortSignal): Promise<Outcome> {
  let outcome: Outcome = 'done';
  try {
    const pipeline = await buildPipeline(input.moduleUrl, task);
    await task.restore();
    if (signal.aborted) return outcome;
    outcome = await Promise.race([drive(task, pipeline, input.commitIntervalMs, signal), task.lost.then((): Outcome => 'lost')]);
    return outcome;
  } finally {
    await task.close(outcome === 'lost');
  }
}

/** Runs the pipeline until it completes or `signal` aborts, then commits once more; rejects with its failure. */
function drive(task: TaskBinding, pipeline: Observable<unknown>, commitIntervalMs: number, signal: AbortSignal): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let settled = false;
    let subscription: Subscription | undefined;
    const timer = setInterval(() => task.commit().catch(fail), commitIntervalMs);
    const end = (): void => {
      settled = true;
      clearInterval(timer);
      signal.removeEventListener('abort', stop);
    };
    function stop(): void {
      if (settled) return;
      end();
      // Completed, or stopped: nothing more is read, so the last commit covers everything emitted.
      task.halt();
      task
        .commit()
        .then(() => resolve('done'), reject)
        .finally(() => subscription?.unsubscribe());
    }
    function fail(error: unknown): void {
      if (settled) return;
      end();
      subscription?.unsubscribe();
      reject(error);
    }
    void task.lost.then(() => {
      if (settled) return;
      end();
      subscription?.unsubscribe();
    });
    signal.addEventListener('abort', stop, { once: true });
    subscription = pipeline.subscribe({ error: fail, complete: stop });
    if (settled) subscription.unsubscribe();
  });
}
