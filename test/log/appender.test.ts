/**
 * The interval flush must not stall the log's thread on the disk: it writes the buffer at once and
 * leaves the fdatasync to the threadpool (a blocking fdatasync showed up as the producer's p99).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Log } from '../../src/log/index.js';
import { batchAt, tempDirs } from './helpers.js';

const newDir = tempDirs();

afterEach(() => {
  vi.restoreAllMocks();
});

function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error('timed out'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('interval flush', () => {
  it('writes the buffer on the timer and fdatasyncs off the thread', async () => {
    const log = Log.open(newDir(), { fsync: 'interval', flushIntervalMs: 10 });
    const blocking = vi.spyOn(fs, 'fdatasyncSync');
    const background = vi.spyOn(fs, 'fdatasync');
    log.append(batchAt(0, 10));
    const file = log.segments[0].file;
    expect(fs.statSync(file).size).toBe(0); // still in the appender's buffer
    await waitFor(() => background.mock.calls.length > 0);
    expect(fs.statSync(file).size).toBe(log.size);
    expect(blocking).not.toHaveBeenCalled();
    log.close();
  });

  it('a segment rolled or closed while its background sync runs does not fail the log', async () => {
    const dir = newDir();
    const log = Log.open(dir, { fsync: 'interval', flushIntervalMs: 5, segmentBytes: 2048 });
    const background = vi.spyOn(fs, 'fdatasync');
    for (let offset = 0; offset < 200; offset += 10) {
      log.append(batchAt(offset, 10));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor(() => background.mock.calls.length > 0);
    log.close();
    const reopened = Log.open(dir);
    expect(reopened.logEndOffset).toBe(200);
    reopened.close();
  });
});
