/**
 * An exclusive lock on a data directory, so that a second runtime opening the same directory, in
 * this process or another, fails with DIR_LOCKED instead of writing into partitions the first one
 * owns.
 *
 * Node has no flock, so the lock is a file, `<dir>/.lock`, holding the owner's pid, a random token,
 * the host name and (on Linux) the owner process's boot id and start time. It is created
 * atomically: the record is written and fsynced to a private temporary file, then hard-linked to
 * `.lock`, which fails if `.lock` exists. Linking rather than `open(..., 'wx')` plus a write means
 * no one ever sees an empty or half-written lock file, even after a crash or power loss mid-create.
 *
 * A lock whose owner is gone is stale and is taken over:
 * - the owner's pid no longer exists (the process crashed or was SIGKILLed and never released);
 * - or it exists but is another process: its start time or boot differs from the recorded one.
 *   This matters in containers, where a restarted application usually gets the same pid as the
 *   one that crashed, and after a reboot.
 * A lock from another host (a shared network directory) is never judged stale: its pid means
 * nothing here.
 *
 * Locks held by this thread are also tracked in memory, so a second open in the same thread fails
 * without touching the disk. Another worker thread of this process has its own module state but
 * the same pid and start time, so the lock file itself stops it. Locks are released by `release()`
 * and, for a normal exit, by a process 'exit' hook; a process killed by a signal leaves its lock
 * behind, and the next open takes it over as stale.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TributaryError, storageError } from '../errors.js';

export const LOCK_FILE_NAME = '.lock';

export interface DirLock {
  /** The directory's real path (symlinks resolved), as the lock is keyed. */
  readonly dir: string;
  readonly lockFile: string;
  readonly released: boolean;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

interface LockRecord {
  readonly pid: number;
  readonly token: string;
  readonly hostname: string;
  /** Boot id and start time of the owning process, or null where the platform does not expose them. */
  readonly processStart: string | null;
  readonly createdAt: string;
}

/** Locks held by this thread, by real path. */
const held = new Map<string, DirLock>();
let exitHookInstalled = false;

/** Enough to get past a release or a takeover racing with us; each round only loops after real progress by someone. */
const MAX_ATTEMPTS = 8;

/**
 * Takes the exclusive lock on `dir`, creating the directory if needed. Throws DIR_LOCKED if it is
 * held by this process or another live one, STORAGE_ERROR if the file system refuses.
 */
export function lockDir(dir: string): DirLock {
  const realDir = resolveDir(dir);
  const lockFile = path.join(realDir, LOCK_FILE_NAME);
  if (held.has(realDir)) {
    throw new TributaryError('DIR_LOCKED', `Data directory ${realDir} is already open in this process (pid ${process.pid})`, {
      dir: realDir,
      pid: process.pid,
    });
  }

  const record: LockRecord = {
    pid: process.pid,
    token: randomBytes(16).toString('hex'),
    hostname: os.hostname(),
    processStart: processStart(process.pid),
    createdAt: new Date().toISOString(),
  };
  const draft = `${lockFile}.${record.token}.new`;
  writeDraft(draft, record);
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        fs.linkSync(draft, lockFile);
        return remember(realDir, lockFile, record.token);
      } catch (cause) {
        if (errnoCode(cause) !== 'EEXIST') throw storageError('link', lockFile, cause);
      }
      const owner = readLock(lockFile);
      if (owner === undefined) continue; // Released between our link and our read.
      if (owner === null) {
        throw new TributaryError(
          'DIR_LOCKED',
          `Data directory ${realDir} has a lock file ${lockFile} that cannot be read; if no process uses the directory, delete it`,
          { dir: realDir, lockFile },
        );
      }
      const liveness = ownerLiveness(owner);
      if (liveness !== 'dead') throw lockedBy(realDir, lockFile, owner, liveness);
      takeOverStale(realDir, lockFile, owner);
    }
    throw new TributaryError('DIR_LOCKED', `Data directory ${realDir}: gave up after ${MAX_ATTEMPTS} attempts racing other processes for ${lockFile}`, {
      dir: realDir,
    });
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

function resolveDir(dir: string): string {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return fs.realpathSync(dir);
  } catch (cause) {
    throw storageError('open data directory', dir, cause);
  }
}

function writeDraft(draft: string, record: LockRecord): void {
  try {
    const fd = fs.openSync(draft, 'wx');
    try {
      fs.writeFileSync(fd, `${JSON.stringify(record)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (cause) {
    fs.rmSync(draft, { force: true });
    throw storageError('write lock file', draft, cause);
  }
}

function remember(dir: string, lockFile: string, token: string): DirLock {
  let released = false;
  const lock: DirLock = {
    dir,
    lockFile,
    get released() {
      return released;
    },
    release() {
      if (released) return;
      released = true;
      held.delete(dir);
      // Never remove a lock file that is no longer ours: that would unlock someone else's directory.
      if (readLock(lockFile)?.token !== token) return;
      try {
        fs.unlinkSync(lockFile);
      } catch (cause) {
        if (errnoCode(cause) !== 'ENOENT') throw storageError('remove lock file', lockFile, cause);
      }
    },
  };
  held.set(dir, lock);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', releaseAllAtExit);
  }
  return lock;
}

function releaseAllAtExit(): void {
  for (const lock of [...held.values()]) {
    try {
      lock.release();
    } catch {
      // The process is exiting and can report nothing; a lock left behind is taken over as stale.
    }
  }
}

/**
 * Removes the stale lock `owner` wrote, unless it changed meanwhile. Two processes may find the
 * same stale lock; deleting by path after a separate read could then delete the lock the faster
 * one just created. So the right to delete is itself an exclusive file, named after the stale
 * token: only one process ever wins it, and the winner re-reads `.lock` before deleting it. Once
 * the winner is done the claim is removed; a late claimant then finds a different token and backs off.
 */
function takeOverStale(dir: string, lockFile: string, owner: LockRecord): void {
  const claim = `${lockFile}.${owner.token}.takeover`;
  let fd: number;
  try {
    fd = fs.openSync(claim, 'wx');
  } catch (cause) {
    if (errnoCode(cause) !== 'EEXIST') throw storageError('create', claim, cause);
    throw new TributaryError(
      'DIR_LOCKED',
      `Data directory ${dir} has a stale lock from pid ${owner.pid} that another process is taking over ` +
        `(or was, and crashed: if no process uses the directory, delete ${claim} and ${lockFile})`,
      { dir, pid: owner.pid, claim },
    );
  }
  try {
    fs.closeSync(fd);
    if (readLock(lockFile)?.token === owner.token) fs.unlinkSync(lockFile);
  } catch (cause) {
    throw storageError('remove stale lock file', lockFile, cause);
  } finally {
    fs.rmSync(claim, { force: true });
  }
}

type Liveness = 'alive' | 'dead' | 'this-process' | 'other-host';

function ownerLiveness(owner: LockRecord): Liveness {
  if (owner.hostname !== os.hostname()) return 'other-host';
  if (owner.pid === process.pid) {
    return owner.processStart !== null && owner.processStart !== processStart(process.pid) ? 'dead' : 'this-process';
  }
  try {
    process.kill(owner.pid, 0);
  } catch (cause) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    if (errnoCode(cause) === 'ESRCH') return 'dead';
  }
  const current = procStat(owner.pid);
  // A zombie has exited and only waits for its parent to reap it; a different start is a reused pid.
  if (current !== null && (current.state === 'Z' || (owner.processStart !== null && current.start !== owner.processStart))) {
    return 'dead';
  }
  return 'alive';
}

function lockedBy(dir: string, lockFile: string, owner: LockRecord, liveness: Exclude<Liveness, 'dead'>): TributaryError {
  const by = {
    alive: `process ${owner.pid} (since ${owner.createdAt})`,
    'this-process': `another thread of this process (pid ${owner.pid}, since ${owner.createdAt})`,
    'other-host':
      `process ${owner.pid} on host ${owner.hostname} (since ${owner.createdAt}); a lock from another host is never ` +
      `taken over, so if that process is gone, delete ${lockFile}`,
  }[liveness];
  return new TributaryError('DIR_LOCKED', `Data directory ${dir} is locked by ${by}`, {
    dir,
    lockFile,
    pid: owner.pid,
    hostname: owner.hostname,
  });
}

/** The lock record in `lockFile`; undefined if there is no lock file, null if it cannot be parsed. */
function readLock(lockFile: string): LockRecord | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockFile, 'utf8');
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return undefined;
    throw storageError('read lock file', lockFile, cause);
  }
  try {
    const record = JSON.parse(text) as Partial<LockRecord>;
    // A pid of 0 or below would make process.kill address a process group, or every process.
    if (!Number.isSafeInteger(record.pid) || record.pid! <= 0) return null;
    if (typeof record.token !== 'string' || typeof record.hostname !== 'string') return null;
    if (typeof record.processStart !== 'string' && record.processStart !== null) return null;
    return {
      pid: record.pid!,
      token: record.token,
      hostname: record.hostname,
      processStart: record.processStart,
      createdAt: String(record.createdAt),
    };
  } catch {
    return null;
  }
}

/** Linux's id of the current boot; null where there is none to read. Read once: it cannot change while we run. */
let bootId: string | null | undefined;

/**
 * What Linux says about `pid`: its state letter and an id for this run of it, the boot id plus
 * the start time in clock ticks since boot (field 22 of /proc/<pid>/stat). Null where /proc is not
 * available or the pid is gone.
 */
function procStat(pid: number): { readonly state: string; readonly start: string } | null {
  if (bootId === undefined) {
    try {
      bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = null;
    }
  }
  if (bootId === null) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces, so count fields after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], start: `${bootId}:${fields[19]}` };
  } catch {
    return null;
  }
}

function processStart(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
