/**
 * `tributary run`: a pipeline module run as stream tasks on the worker threads, to completion,
 * and a second run of it resuming from the committed offsets.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirs } from '../temp-dirs.js';
import { oneLineError, runMain } from './helpers.js';

const newDir = tempDirs('tributary-cli-run-');
const PIPELINE = path.join(import.meta.dirname, 'fixtures', 'upper-words.ts');

async function countShouted(dir: string): Promise<number> {
  const rt = await open({ dir, threads: 2 });
  try {
    return (await rt.admin.fetchTopicOffsets('shouted')).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await rt.close();
  }
}

describe('tributary run', () => {
  it('runs a pipeline to the end of its input, and a second run resumes from the committed offsets', async () => {
    const dir = newDir();
    const rt = await open({ dir, threads: 2 });
    await rt.admin.createTopic('words', { partitions: 4 });
    await rt.admin.createTopic('shouted', { partitions: 2 });
    await rt.producer().send({ topic: 'words', messages: Array.from({ length: 200 }, (_, i) => ({ key: `w${i}`, value: `word${i}` })) });
    await rt.close();

    const first = await runMain(['run', PIPELINE, '--dir', dir, '--threads', '2', '--name', 'shout', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/run 'shout': task 0 on thread 0, task 1 on thread 1/);
    const summary = JSON.parse(first.stdout) as { name: string; lag: number; tasks: Array<{ state: string }> };
    expect(summary).toMatchObject({ name: 'shout', lag: 0 });
    expect(summary.tasks.map((task) => task.state)).toEqual(['completed', 'completed']);
    expect(await countShouted(dir)).toBe(200);

    const again = await runMain(['run', PIPELINE, '--dir', dir, '--threads', '2', '--name', 'shout']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^run 'shout' done after .*task 0: completed, task 1: completed; lag 0\n$/);
    expect(await countShouted(dir)).toBe(200);
  });

  it('refuses a missing module argument, and reports a module that cannot be loaded on one line', async () => {
    const dir = newDir();
    expect(oneLineError(await runMain(['run', '--dir', dir]), 2)).toMatch(/run takes one pipeline module/);
    expect(oneLineError(await runMain(['run', path.join(dir, 'nowhere.ts'), '--dir', dir]), 1)).toMatch(/nowhere\.ts/);
  });
});
