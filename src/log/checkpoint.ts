/**
 * Offset checkpoint files, in the text format of Kafka's OffsetCheckpointFile: a version line
 * (0), an entry-count line, then one line per entry. Kafka keeps one file per log directory with
 * a `topic partition offset` entry per partition; a tributary partition owns its directory, so
 * each file holds exactly one entry, the offset alone.
 *
 * Written atomically (temporary file, fdatasync, rename, directory fsync): a crash leaves the old
 * checkpoint or the new one.
 */
import path from 'node:path';
import { TributaryError } from '../errors.js';
import { readWholeFile, replaceFile, syncDir } from './sync-fs.js';

const VERSION = '0';

/** The checkpointed offset, or null when the file does not exist. */
export function readCheckpoint(dir: string, name: string): number | null {
  const file = path.join(dir, name);
  const bytes = readWholeFile(file);
  if (bytes === null) return null;
  const lines = bytes.toString('utf8').split('\n');
  const offset = Number(lines[2]);
  if (lines[0] !== VERSION || lines[1] !== '1' || lines[2] === '' || !Number.isSafeInteger(offset) || offset < 0 || lines.slice(3).some((line) => line !== '')) {
    throw new TributaryError('CORRUPT_LOG', `checkpoint ${file} is malformed; expected "${VERSION}\\n1\\n<offset>\\n" (delete it to recover from the start of the log)`, { file });
  }
  return offset;
}

export function writeCheckpoint(dir: string, name: string, offset: number): void {
  replaceFile(path.join(dir, name), Buffer.from(`${VERSION}\n1\n${offset}\n`));
  syncDir(dir);
}
