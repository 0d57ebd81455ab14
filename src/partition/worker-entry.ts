/**
 * Which file a worker thread loads to host partitions (the runtime hands it to piscina).
 *
 * From the published package (`dist/`), this module sits at dist/src/partition/ and the compiled
 * entry at dist/workers/partition-worker.js. From source, that file does not exist: the entry is
 * TypeScript, which a Node 20 worker cannot load by itself, so the `.dev.mjs` bootstrap that
 * registers tsx first is used. One rule serves tests, benchmarks, examples and the package.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export function partitionWorkerEntry(): string {
  const compiled = fileURLToPath(new URL('../../workers/partition-worker.js', import.meta.url));
  if (fs.existsSync(compiled)) return compiled;
  return fileURLToPath(new URL('../../workers/partition-worker.dev.mjs', import.meta.url));
}
