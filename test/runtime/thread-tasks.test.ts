/**
 * Thread tasks: functions run on the partition worker threads, reaching partitions through the
 * thread's client (its own partitions without a message), reported when they end, and started
 * again when their thread dies.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkerRestartedEvent } from '../../src/index.js';
import { integrationFixture, readTopic, threadsOf } from '../integration/helpers.js';

const { newDir, openRuntime } = integrationFixture();
const moduleUrl = pathToFileURL(path.join(import.meta.dirname, 'fixtures', 'thread-tasks.ts')).href;

describe('thread tasks', () => {
  it('run on a worker thread and produce to local and remote partitions through the thread client', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('out', { partitions: 4 });
    const task = await rt.runtime.startThreadTask(1, { moduleUrl, exportName: 'produce', input: { topic: 'out', count: 1000 } });
    await task.done;
    const partitions = await readTopic(rt, 'out');
    expect(partitions.map((records) => records.length)).toEqual([250, 250, 250, 250]);
    expect(new Set(partitions.flat().map((record) => record.value!.toString()))).toEqual(new Set(['from slot 1']));
  });

  it('see every topic created before they started, though metadata reaches their thread by another port', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    for (let i = 0; i < 20; i++) {
      await rt.admin.createTopic(`fresh-${i}`, { partitions: 2 });
      const task = await rt.runtime.startThreadTask(i % 2, { moduleUrl, exportName: 'produce', input: { topic: `fresh-${i}`, count: 2 } });
      await task.done;
    }
  });

  it('consume more than the consumer-wide byte budget from their own partitions (answers to local calls do not starve the event loop)', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    // 24 partitions of 4,000 records of ~1 KiB: 12 MiB a thread, past a consumer's 10 MiB budget, so delivery must free budget.
    await rt.admin.createTopic('big', { partitions: 24 });
    await rt.admin.createTopic('reads', { partitions: 1 });
    const producer = rt.producer();
    const value = 'x'.repeat(1000);
    for (let round = 0; round < 4; round++) {
      await producer.send({ topic: 'big', messages: Array.from({ length: 24_000 }, (_, i) => ({ value, partition: i % 24 })) });
    }
    await producer.disconnect();
    const tasks = await Promise.all([0, 1].map((slot) => rt.runtime.startThreadTask(slot, { moduleUrl, exportName: 'consumeLocal', input: { topic: 'big', count: 48_000, resultsTopic: 'reads' } })));
    await Promise.all(tasks.map((task) => task.done));
    const reads = (await readTopic(rt, 'reads')).flat().map((record) => record.value!.toString());
    expect(reads.sort()).toEqual(['slot 0 read 48000', 'slot 1 read 48000']);
  });

  it('report a failure, and refuse a module without the export', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 1 });
    const failing = await rt.runtime.startThreadTask(0, { moduleUrl, exportName: 'fail' });
    await expect(failing.done).rejects.toMatchObject({ code: 'TASK_FAILED', message: expect.stringContaining('the task broke on purpose') });
    await expect(rt.runtime.startThreadTask(0, { moduleUrl, exportName: 'notAFunction' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(rt.runtime.startThreadTask(0, { moduleUrl: 'file:///nowhere/task.js' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(rt.runtime.startThreadTask(5, { moduleUrl })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('start again on the replacement of a thread that died, and stop on request or when the runtime closes', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('marks', { partitions: 1 });
    const task = await rt.runtime.startThreadTask(0, { moduleUrl, exportName: 'markThenWait', input: { topic: 'marks' } });
    const other = await rt.runtime.startThreadTask(1, { moduleUrl, exportName: 'markThenWait', input: { topic: 'marks' } });
    const marks = async () => (await readTopic(rt, 'marks')).flat().map((record) => record.value!.toString());
    while ((await marks()).length < 2) await new Promise((resolve) => setTimeout(resolve, 20));

    const restarted = new Promise<WorkerRestartedEvent>((resolve) => rt.on('workerRestarted', resolve));
    // Which piscina thread runs slot 0 is not exposed; kill both, then both tasks restart.
    for (const thread of threadsOf(rt)) void thread.terminate();
    await restarted;
    while ((await marks()).length < 4) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await marks()).sort()).toEqual(['started on slot 0', 'started on slot 0', 'started on slot 1', 'started on slot 1']);
    expect(task.restarts + other.restarts).toBe(2);

    await task.stop();
    await expect(task.done).resolves.toBeUndefined();
    // `other` is still running: closing the runtime stops it.
    await rt.close();
    await expect(other.done).resolves.toBeUndefined();
  });
});
