/**
 * Shared pieces of the tests that call `rt.run` on pipeline modules from test/streams/fixtures:
 * a module's URL, and a two-thread runtime with empty `clicks` and `click-counts` topics (two
 * partitions each), closed and removed after each test (see integration/helpers.ts).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Tributary } from '../../src/index.js';
import { integrationFixture } from '../integration/helpers.js';

export function runFixtures(): { fixture: (name: string) => URL; clicksRuntime: () => Promise<Tributary> } & ReturnType<typeof integrationFixture> {
  const fixtures = integrationFixture();
  return {
    ...fixtures,
    fixture: (name) => pathToFileURL(path.join(import.meta.dirname, 'fixtures', name)),
    clicksRuntime: async () => {
      const rt = await fixtures.openRuntime({ dir: fixtures.newDir(), threads: 2 });
      await rt.admin.createTopic('clicks', { partitions: 2 });
      await rt.admin.createTopic('click-counts', { partitions: 2 });
      return rt;
    },
  };
}
