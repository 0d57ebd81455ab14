/**
 * The thread task of a stream run (started by `rt.run` with `Runtime.startThreadTask`): builds the
 * pipeline on its worker thread, bound to the task (see task-binding.ts), restores its stores,
 * then runs it until it completes (bounded sources) or the task is stopped, committing as it goes.
 */
import type { Subscription } from 'rxjs';
import type { ThreadTaskContext } from '../runtime/thread-tasks.js';
import { buildPipeline } from './pipeline-module.js';
import { TaskBinding, type PipelineTaskInput } from './task-binding.js';

export async function runPipelineTask(context: ThreadTaskContext<PipelineTaskInput>): Promise<void> {
  const { client, input, signal } = context;
  await client.metadataReady();
  const task = new TaskBinding(client, input);
  try {
    const pipeline = await buildPipeline(input.moduleUrl, task);
    await task.restoreStores();
    if (signal.aborted) return;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let subscription: Subscription | undefined;
      const timer = setInterval(() => task.commit().catch(fail), input.commitIntervalMs);
      const stop = (): void => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        signal.removeEventListener('abort', stop);
        // Completed, or stopped: nothing more is read, so the last commit covers everything emitted.
        task.halt();
        task.commit().then(resolve, reject).finally(() => subscription?.unsubscribe());
      };
      function fail(error: unknown): void {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        signal.removeEventListener('abort', stop);
        subscription?.unsubscribe();
        reject(error);
      }
      signal.addEventListener('abort', stop, { once: true });
      subscription = pipeline.subscribe({ error: fail, complete: stop });
      if (settled) subscription.unsubscribe();
    });
  } finally {
    await task.close();
  }
}
