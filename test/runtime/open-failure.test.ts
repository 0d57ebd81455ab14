/**
 * A runtime whose threads cannot start must fail to open with the cause, and leave nothing
 * behind: no lock on the directory, no threads keeping the process alive.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it, vi } from 'vitest';
import { lockDir } from '../../src/runtime/dir-lock.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { parseTopicConfig, splitTopicConfig } from '../../src/runtime/topic-config.js';
import { TopicStore } from '../../src/runtime/topic-store.js';
import { rejection, runtimeFixture } from './helpers.js';

vi.mock('../../src/partition/worker-entry.js', () => ({
  partitionWorkerEntry: () => path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'broken-worker.mjs'),
}));

const { newDir } = runtimeFixture();

it.each([
  ['with partitions to open', 2],
  ['with no partitions at all', 0],
])('fails to open when its threads cannot load (%s), and releases the directory', async (_, partitions) => {
  const dir = newDir();
  if (partitions > 0) {
    const store = await TopicStore.load(dir);
    await store.add([{ name: 't', ...splitTopicConfig(parseTopicConfig({ partitions })) }]);
  }
  const error = await rejection(Runtime.open({ dir, threads: 2 }), 'PARTITION_UNAVAILABLE');
  expect(error.message).toContain('broken worker entry');
  lockDir(dir).release();
});
