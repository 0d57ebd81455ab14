/**
 * Crash safety against a real process kill: a child appends with fsync `always` and reports each
 * acknowledged append; the parent SIGKILLs it at seeded random moments (mostly mid-append, some
 * during startup and recovery), reopens the same directory each round so the log grows across
 * crashes, and checks that every acknowledged record is there byte for byte and nothing torn can
 * be read.
 *
 * A SIGKILL practically never lands inside a `write` call, so in some rounds the parent also
 * tears the write in flight itself (cutting it short, sometimes adding zeros as a file system can
 * after a power loss), as an interrupted write would leave the end of the last segment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import { decodeRecordBatches } from '../../src/record/batch-decoder.js';
import { CRASH_LOG_CONFIG } from './fixtures/crash-config.js';
import { baseOffsetAt, batchSizeAt, lastOffsetAt, setBaseOffset } from '../../src/record/batch-header.js';
import { SeededRandom, batchAt, checkRecords, tempDirs } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/crash-appender.ts', import.meta.url));
const ROUNDS = 24;
const newDir = tempDirs();

interface RoundOutcome {
  /** [baseOffset, lastOffset] of every acknowledged append. */
  readonly acked: [number, number][];
  /** The child had opened the log (and so removed the clean-shutdown marker) before it died. */
  readonly opened: boolean;
}

/** Runs the appender until it is killed `delayMs` after its first acknowledged append (or after spawning). */
function runUntilKilled(dir: string, seed: number, delayMs: number, fromSpawn: boolean): Promise<RoundOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let armed = false;
    const kill = (): boolean => child.kill('SIGKILL');
    const arm = (): void => {
      armed = true;
      setTimeout(kill, delayMs);
    };
    const safety = setTimeout(kill, 15_000);
    if (fromSpawn) arm();
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!armed && /^\d+ \d+$/m.test(stdout)) arm();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(safety);
      if (signal !== 'SIGKILL') {
        reject(new Error(`appender exited by itself (code ${code}): ${stderr}`));
        return;
      }
      const lines = stdout.split('\n').slice(0, -1); // the last piece is an unfinished line, if any
      const acked = lines.filter((line) => /^\d+ \d+$/.test(line)).map((line) => line.split(' ').map(Number) as [number, number]);
      resolve({ acked, opened: lines.some((line) => line.startsWith('open ')) });
    });
  });
}

/**
 * Leaves the last segment as if the kill had interrupted the write after the last acknowledged
 * batch: the batch being written is cut at a random point, sometimes followed by zeros, and
 * nothing after it remains.
 */
function tearInFlightWrite(dir: string, lastAcked: number, rng: SeededRandom): void {
  const name = fs.readdirSync(dir).filter((file) => file.endsWith('.log')).sort().at(-1)!;
  const file = path.join(dir, name);
  const bytes = fs.readFileSync(file);
  let position = 0;
  let next = Number(name.slice(0, 20));
  while (bytes.length - position >= 12 && baseOffsetAt(bytes, position) <= lastAcked) {
    next = lastOffsetAt(bytes, position) + 1;
    position += batchSizeAt(bytes, position);
  }
  // The first unacknowledged batch on disk, else one that was about to be written.
  let inFlight: Buffer = bytes.subarray(position, bytes.length - position >= 12 ? position + batchSizeAt(bytes, position) : bytes.length);
  if (inFlight.length === 0) {
    inFlight = batchAt(next, 1 + rng.int(30));
    setBaseOffset(inFlight, next);
  }
  const cut = 1 + rng.int(Math.max(1, inFlight.length - 1));
  const zeros = rng.int(2) === 0 ? 0 : 1 + rng.int(5000);
  fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, position), inFlight.subarray(0, cut), Buffer.alloc(zeros)]));
}

describe('crash recovery', () => {
  it(`keeps every acknowledged append through ${ROUNDS} SIGKILLs`, async () => {
    const dir = newDir();
    const rng = new SeededRandom(20_241_124);
    const acked: [number, number][] = [];
    let roundsWithAcks = 0;
    let tears = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const fromSpawn = rng.int(4) === 0;
      const outcome = await runUntilKilled(dir, rng.nextUint32(), fromSpawn ? 100 + rng.int(700) : rng.int(250), fromSpawn);
      acked.push(...outcome.acked);
      if (outcome.acked.length > 0) roundsWithAcks++;
      const lastAcked = acked.length === 0 ? -1 : Math.max(...acked.map(([, last]) => last));
      // Its own generator, so the kill schedule drawn from `rng` stays the same whatever the tear draws.
      const tear = round % 3 === 1 && outcome.opened;
      if (tear) {
        tearInFlightWrite(dir, lastAcked, new SeededRandom(round));
        tears++;
      }

      const log = Log.open(dir, CRASH_LOG_CONFIG);
      try {
        if (outcome.opened) expect(log.recovery.cleanShutdown).toBe(false);
        expect(log.logStartOffset).toBe(0);
        expect(log.logEndOffset).toBeGreaterThan(lastAcked);
        if (tear) expect(log.recovery.truncated).not.toBeNull();

        // Everything readable decodes (CRC included), is contiguous from 0, and holds exactly what was written.
        const boundaries = new Set<number>();
        for (let offset = 0; offset < log.logEndOffset; ) {
          const { bytes, nextOffset } = log.read(offset, 64 * 1024);
          const { first, next, problems } = checkRecords(bytes);
          expect(problems).toEqual([]);
          expect(first).toBe(offset);
          expect(next).toBe(nextOffset);
          for (const batch of decodeRecordBatches(bytes)) boundaries.add(batch.baseOffset);
          offset = nextOffset;
        }
        boundaries.add(log.logEndOffset);
        for (const [base, last] of acked) {
          expect(boundaries.has(base), `acknowledged append ${base}-${last} starts a batch`).toBe(true);
          expect(boundaries.has(last + 1), `acknowledged append ${base}-${last} ends a batch`).toBe(true);
        }
      } finally {
        log.close();
      }
    }
    expect(roundsWithAcks).toBeGreaterThan(ROUNDS / 2);
    expect(acked.length).toBeGreaterThan(100);
    expect(tears).toBeGreaterThan(2);
  });
});
