/**
 * The synchronous file-system calls the log makes, each turning a Node.js failure into a
 * STORAGE_ERROR that names the operation and the file.
 *
 * Synchronous on purpose: a log belongs to one worker thread, and a sync call on a page-cached
 * file costs microseconds where a libuv threadpool round trip costs tens of them.
 */
import fs from 'node:fs';
import { storageError } from '../errors.js';

export function openFile(file: string, flags: string): number {
  try {
    return fs.openSync(file, flags);
  } catch (cause) {
    throw storageError('open', file, cause);
  }
}

export function closeFile(fd: number, file: string): void {
  try {
    fs.closeSync(fd);
  } catch (cause) {
    throw storageError('close', file, cause);
  }
}

/** Reads up to `length` bytes at `position`, retrying short reads; returns fewer only at end of file. */
export function readAt(fd: number, file: string, target: Uint8Array, targetOffset: number, length: number, position: number): number {
  let done = 0;
  try {
    while (done < length) {
      const n = fs.readSync(fd, target, targetOffset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
  } catch (cause) {
    throw storageError('read', file, cause);
  }
  return done;
}

/** Writes all `length` bytes at `position`, retrying short writes. */
export function writeAt(fd: number, file: string, source: Uint8Array, sourceOffset: number, length: number, position: number): void {
  let done = 0;
  try {
    while (done < length) {
      done += fs.writeSync(fd, source, sourceOffset + done, length - done, position + done);
    }
  } catch (cause) {
    throw storageError('write', file, cause);
  }
}

export function syncData(fd: number, file: string): void {
  try {
    fs.fdatasyncSync(fd);
  } catch (cause) {
    throw storageError('fdatasync', file, cause);
  }
}

/** Makes creations, renames and deletions in `dir` durable. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (cause) {
    throw storageError('fsync directory', dir, cause);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function truncateFile(fd: number, file: string, size: number): void {
  try {
    fs.ftruncateSync(fd, size);
  } catch (cause) {
    throw storageError('truncate', file, cause);
  }
}

/** Size of `file`, or -1 when it does not exist. */
export function sizeOrMissing(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw storageError('stat', file, cause);
  }
}

export function modifiedTime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch (cause) {
    throw storageError('stat', file, cause);
  }
}

/** The whole file, or null when it does not exist. */
export function readWholeFile(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageError('read', file, cause);
  }
}

export function removeFile(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch (cause) {
    throw storageError('delete', file, cause);
  }
}

export function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw storageError('mkdir', dir, cause);
  }
}

export function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (cause) {
    throw storageError('list', dir, cause);
  }
}

/**
 * Replaces `file` with `data` so that a crash leaves either the old or the new content, never a
 * mix: write a temporary sibling, fdatasync it, rename it over. The rename is durable only after
 * the caller's `syncDir`, which lets several replacements share one directory fsync.
 */
export function replaceFile(file: string, data: Uint8Array): void {
  const temp = `${file}${TEMP_SUFFIX}`;
  writeFileSynced(temp, data);
  try {
    fs.renameSync(temp, file);
  } catch (cause) {
    throw storageError('rename', temp, cause);
  }
}

/** Suffix of `replaceFile`'s temporary files; any found on open are leftovers of a crash. */
export const TEMP_SUFFIX = '.tmp';

/** Writes `data` as the whole content of `file` (created or truncated) and fdatasyncs it. */
export function writeFileSynced(file: string, data: Uint8Array): void {
  const fd = openFile(file, 'w');
  try {
    writeAt(fd, file, data, 0, data.length, 0);
    syncData(fd, file);
  } finally {
    closeFile(fd, file);
  }
}
