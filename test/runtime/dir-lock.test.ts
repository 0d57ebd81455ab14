import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { LOCK_FILE_NAME, lockDir, type DirLock } from '../../src/runtime/dir-lock.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const hasProc = fs.existsSync('/proc/self/stat');

interface ChildReport {
  readonly locked: boolean;
  readonly pid?: number;
  readonly code?: string;
  readonly message?: string;
  readonly details?: Record<string, unknown>;
}

let root: string;
let dir: string;
const locks: DirLock[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-dir-lock-'));
  dir = path.join(root, 'data');
});

afterEach(async () => {
  for (const lock of locks.splice(0)) lock.release();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

function lock(target = dir): DirLock {
  const taken = lockDir(target);
  locks.push(taken);
  return taken;
}

function refusal(target = dir): TributaryError {
  try {
    lock(target);
  } catch (error) {
    if (TributaryError.is(error, 'DIR_LOCKED')) return error;
    throw error;
  }
  throw new Error(`${target} was locked twice`);
}

/** Starts the fixture in another process and waits for its one-line report. */
async function startChild(mode: 'try' | 'hold' | 'exit'): Promise<{ child: ChildProcess; report: ChildReport }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, 'dir-lock-child.ts'), mode, dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return { child, report: JSON.parse(line) as ChildReport };
}

const lockFile = () => path.join(fs.realpathSync(dir), LOCK_FILE_NAME);
const readRecord = () => JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as Record<string, unknown>;

/** A pid that just exited and was reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('lockDir', () => {
  it('creates the directory, locks it, releases it and locks it again', () => {
    const first = lock();
    expect(first.dir).toBe(fs.realpathSync(dir));
    expect(readRecord()).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    first.release();
    expect(first.released).toBe(true);
    expect(fs.existsSync(lockFile())).toBe(false);
    first.release();

    const second = lock();
    expect(second.released).toBe(false);
    expect(readRecord().pid).toBe(process.pid);
    // Nothing but the lock file is left behind.
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE_NAME]);
  });

  it('refuses a second open in this process, however the path is spelt', () => {
    const held = lock();
    fs.symlinkSync(dir, path.join(root, 'alias'));
    for (const spelling of [dir, `${dir}/`, path.join(root, 'alias'), path.relative(process.cwd(), dir)]) {
      const error = refusal(spelling);
      expect(error.message).toContain(`${held.dir} is already open in this process (pid ${process.pid})`);
      expect(error.details).toEqual({ dir: held.dir, pid: process.pid });
    }
    held.release();
    expect(fs.existsSync(lockFile())).toBe(false);
  });

  it('refuses an open from another process while held, naming this pid', async () => {
    const held = lock();
    const { report } = await startChild('try');
    expect(report.locked).toBe(false);
    expect(report.code).toBe('DIR_LOCKED');
    expect(report.message).toContain(`Data directory ${held.dir} is locked by process ${process.pid}`);
    expect(report.details).toMatchObject({ dir: held.dir, pid: process.pid });
    expect(readRecord().pid).toBe(process.pid);
  });

  it('refuses while another process holds the lock, and takes it over once that process is SIGKILLed', async () => {
    const { child, report } = await startChild('hold');
    expect(report).toEqual({ locked: true, pid: child.pid });

    const error = refusal();
    expect(error.message).toContain(`is locked by process ${child.pid} (since `);
    expect(error.details).toMatchObject({ pid: child.pid, hostname: os.hostname() });
    expect(error.kafkaCode).toBe(56);

    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(readRecord().pid).toBe(child.pid);
    lock();
    expect(readRecord().pid).toBe(process.pid);
  });

  it('is released by the exit hook when a process exits without releasing', async () => {
    const { child, report } = await startChild('exit');
    expect(report.locked).toBe(true);
    if (child.exitCode === null) await once(child, 'exit');
    expect(fs.existsSync(lockFile())).toBe(false);
    lock();
  });

  it('refuses an open from another worker thread of this process', async () => {
    lock();
    // Node 20 ignores `--import tsx` in a worker's execArgv for the entry module, so the worker registers tsx itself.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const entry = pathToFileURL(path.join(fixtures, 'dir-lock-worker.ts')).href;
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(bootstrap, { eval: true, workerData: dir });
    const [message] = (await once(worker, 'message')) as [ChildReport];
    await once(worker, 'exit');
    expect(message.code).toBe('DIR_LOCKED');
    expect(message.message).toContain(`locked by another thread of this process (pid ${process.pid}`);
    expect(readRecord().pid).toBe(process.pid);
  });

  it.skipIf(!hasProc)('takes over a lock of a live pid whose process started at another time (a reused pid)', async () => {
    const { child, report } = await startChild('hold');
    expect(report.locked).toBe(true);
    fs.writeFileSync(lockFile(), JSON.stringify({ ...readRecord(), processStart: 'another-boot:12345' }));

    const taken = lock();
    expect(readRecord().pid).toBe(process.pid);
    // The child still believes it holds the lock; its release on exit must not remove ours.
    child.stdin!.end();
    await once(child, 'exit');
    expect(readRecord().pid).toBe(process.pid);
    taken.release();
  });

  it.skipIf(!hasProc)('takes over a lock with this very pid from an earlier run (a restarted container)', () => {
    lock().release();
    const earlierRun = { pid: process.pid, token: 'earlier', hostname: os.hostname(), processStart: 'another-boot:1', createdAt: 'x' };
    fs.writeFileSync(lockFile(), JSON.stringify(earlierRun));
    lock();
    expect(readRecord().token).not.toBe('earlier');
  });

  it('takes over a lock of a pid that no longer exists', async () => {
    fs.mkdirSync(dir);
    const stale = { pid: await deadPid(), token: 'stale', hostname: os.hostname(), processStart: null, createdAt: 'x' };
    fs.writeFileSync(path.join(dir, LOCK_FILE_NAME), JSON.stringify(stale));
    lock();
    expect(readRecord().pid).toBe(process.pid);
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE_NAME]);
  });

  it('never takes over a lock from another host', async () => {
    fs.mkdirSync(dir);
    const remote = { pid: await deadPid(), token: 'remote', hostname: `not-${os.hostname()}`, processStart: null, createdAt: 'x' };
    fs.writeFileSync(path.join(dir, LOCK_FILE_NAME), JSON.stringify(remote));
    const error = refusal();
    expect(error.message).toContain(`on host not-${os.hostname()}`);
    expect(error.message).toContain(`delete ${lockFile()}`);
    expect(readRecord().token).toBe('remote');
  });

  it.each([
    ['garbage', 'not json'],
    ['an empty file', ''],
    ['a process-group pid', JSON.stringify({ pid: 0, token: 't', hostname: os.hostname(), processStart: null })],
  ])('refuses a lock file holding %s and leaves it in place', (_what, content) => {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, LOCK_FILE_NAME), content);
    expect(refusal().message).toContain(`has a lock file ${lockFile()} that cannot be read; if no process uses the directory, delete it`);
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(content);
  });

  it('backs off from a stale lock another process is already taking over', async () => {
    fs.mkdirSync(dir);
    const stale = { pid: await deadPid(), token: 'stale', hostname: os.hostname(), processStart: null, createdAt: 'x' };
    fs.writeFileSync(path.join(dir, LOCK_FILE_NAME), JSON.stringify(stale));
    const claim = `${lockFile()}.stale.takeover`;
    fs.writeFileSync(claim, '');
    const error = refusal();
    expect(error.message).toContain(`stale lock from pid ${stale.pid} that another process is taking over`);
    expect(error.details).toMatchObject({ claim });
    expect(readRecord().token).toBe('stale');

    fs.rmSync(claim);
    lock();
    expect(readRecord().pid).toBe(process.pid);
  });
});
