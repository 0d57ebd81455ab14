#!/usr/bin/env node
// The `tributary` command. It runs the same code two ways, by the rule partitionWorkerEntry()
// (src/partition/worker-entry.ts) applies to worker threads: the compiled JavaScript when it is
// there, else the TypeScript through tsx's loader, which this plain-JS file registers first.
// One difference: this file is never compiled, so it cannot tell by its own location which
// applies. In a source checkout (src/ is there) the TypeScript runs, so a dist/ left by an earlier
// build never serves stale code; the published package has only dist/, so the compiled CLI runs.
import fs from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

let cli;
if (fs.existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(compiled.href);
}
const code = await cli.main(process.argv.slice(2));
process.exit(code);
