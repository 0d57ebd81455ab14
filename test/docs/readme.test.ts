/**
 * Every TypeScript block in README.md runs, as a new user would paste it: imports of the package
 * (`tributary`, `tributary/record`, ...) are pointed at this checkout's sources, other packages
 * (rxjs) resolve from this checkout's node_modules, and each block runs in its own temporary
 * directory with `node --import tsx`. A block that throws fails the test.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-readme-'));
// Blocks import the libraries a user would install beside tributary (rxjs): Node finds them by walking up to this link.
fs.symlinkSync(path.join(root, 'node_modules'), path.join(workDir, 'node_modules'), 'dir');
const run = promisify(execFile);
// The block runs outside the checkout, so the loader is named by path rather than resolved from the cwd.
const tsxLoader = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

function entryFor(specifier: string): string {
  const subpath = specifier === 'tributary' ? 'index.ts' : `${specifier.slice('tributary/'.length)}/index.ts`;
  return path.join(root, 'src', subpath);
}

function localise(code: string): string {
  return code.replace(/from '(tributary(?:\/[a-z]+)?)'/g, (_, specifier: string) => `from '${entryFor(specifier)}'`);
}

afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

describe('README code blocks', () => {
  it('has blocks to check', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  blocks.forEach((code, index) => {
    const title = code.split('\n').find((line) => line.trim() !== '' && !line.startsWith('import')) ?? '';
    it(`block ${index + 1} runs: ${title.slice(0, 60)}`, async () => {
      const dir = fs.mkdtempSync(path.join(workDir, `block-${index + 1}-`));
      const file = path.join(dir, 'block.ts');
      // As in a new ESM project: blocks use top-level await.
      fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
      fs.writeFileSync(file, localise(code));
      await run(process.execPath, ['--import', tsxLoader, file], { cwd: dir, timeout: 60_000 });
    });
  });
});

/**
 * The README's command-line lines (`npm run tributary -- …`) run in order, in one fresh directory,
 * as a user would type them one after another; `npm run tributary --` becomes the bin itself, which
 * is what that script runs. Each must succeed.
 */
const commandLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((match) => match[1].split('\n'))
  .filter((line) => line.includes('npm run tributary -- '));

describe('README command lines', () => {
  it('has command lines to check', () => {
    expect(commandLines.length).toBeGreaterThan(0);
  });

  it('run one after another in a fresh directory', async () => {
    const dir = fs.mkdtempSync(path.join(workDir, 'cli-'));
    const bin = path.join(root, 'bin', 'tributary.mjs');
    for (const line of commandLines) {
      const command = line.replaceAll('npm run tributary -- ', `"${process.execPath}" "${bin}" `);
      await run('bash', ['-c', `set -o pipefail; ${command}`], { cwd: dir, timeout: 60_000 }).catch((error: Error) => {
        throw new Error(`README line failed: ${line}\n${error.message}`);
      });
    }
  });
});
