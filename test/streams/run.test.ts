/**
 * `rt.run`'s checks before and while tasks start: the module, its topics, its options and its
 * stores' changelog topics; and the handle's defaults.
 */
import { describe, expect, it } from 'vitest';
import { runFixtures } from './run-fixtures.js';

const { newDir, openRuntime, fixture, clicksRuntime: runtime } = runFixtures();

describe('rt.run checks', () => {
  it('rejects a module that does not load or does not build a pipeline', async () => {
    const rt = await runtime();
    await expect(rt.run(fixture('missing.ts'))).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/failed to load/) });
    await expect(rt.run(fixture('not-a-pipeline.ts'))).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/must return the pipeline, an Observable/) });
    await expect(rt.run(fixture('../run.test.ts'))).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/must export as default a function/) });
  });

  it('rejects bad options, naming them', async () => {
    const rt = await runtime();
    await expect(rt.run(fixture('click-counts.ts'), { parallelism: 0 })).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { field: 'parallelism' } });
    await expect(rt.run(fixture('click-counts.ts'), { name: 'a/b' })).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { field: 'name' } });
    await expect(rt.run(fixture('click-counts.ts'), { paralelism: 2 } as never)).rejects.toThrow(/did you mean 'parallelism'/);
  });

  it('needs the source topics to exist', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 1 });
    await expect(rt.run(fixture('click-counts.ts'))).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('creates the changelog topics of its stores, one compacted partition per task, and keeps that parallelism, also by default', async () => {
    const rt = await runtime();
    const run = await rt.run(fixture('click-counts.ts'), { parallelism: 3 });
    // Named after the module's file; one task per requested parallelism, dealt over the threads.
    expect(run.name).toBe('click-counts');
    expect(run.tasks.map((task) => task.slot)).toEqual([0, 1, 0]);
    await run.done;
    const changelog = rt.runtime.storedTopic('click-counts-counts-changelog')!;
    expect(changelog.partitions).toBe(3);
    expect(changelog.config.cleanupPolicy).toBe('compact');
    // Another parallelism would not match the stores' partitions; without one, the run takes the stores' own.
    await expect(rt.run(fixture('click-counts.ts'), { parallelism: 2 })).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { field: 'parallelism' } });
    const again = await rt.run(fixture('click-counts.ts'));
    expect(again.tasks).toHaveLength(3);
    await again.done;
  });

  it('a task that fails fails the run: done rejects with its error and the other tasks stop', async () => {
    const rt = await runtime();
    const run = await rt.run(fixture('from-offset.ts'), { name: 'from-offset' });
    await expect(run.done).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/starts from 'earliest' or 'latest'/) });
    const states = run.tasks.map((task) => task.state);
    expect(states).toContain('failed');
    for (const state of states) expect(['failed', 'stopped']).toContain(state);
  });
});
