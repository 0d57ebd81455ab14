/**
 * A partition thread that dies is replaced: requests it had not answered fail with the retriable
 * PARTITION_UNAVAILABLE, its partitions are reopened through log recovery, requests made
 * meanwhile wait and then succeed, and no acknowledged batch is lost. Threads are killed from
 * outside with `Worker.terminate()`, as an uncaught error or `process.exit()` in them would end them.
 */
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import type { Runtime, WorkerRestartedEvent } from '../../src/runtime/runtime.js';
import { readValues, runtimeFixture } from './helpers.js';

const { newDir, open } = runtimeFixture();

/** The runtime's worker threads, reached past its privacy: only a test kills them. */
function threadsOf(rt: Runtime): Worker[] {
  return rt['pool'].threads;
}

function nextRestart(rt: Runtime): Promise<WorkerRestartedEvent & { at: number }> {
  return new Promise((resolve) => rt.once('workerRestarted', (event) => resolve({ ...event, at: Date.now() })));
}

/** Appends one record with a unique value and remembers, when acknowledged, the offset it got. */
class Appender {
  readonly acked = new Map<number, string>();
  readonly failures: TributaryError[] = [];
  private sequence = 0;

  constructor(
    private readonly rt: Runtime,
    readonly topic: string,
    readonly partition: number,
  ) {}

  async append(): Promise<boolean> {
    const value = `${this.topic}/${this.partition}#${this.sequence++}`;
    try {
      const answer = await this.rt.request('append', {
        topic: this.topic,
        partition: this.partition,
        batch: encodeRecordBatch([{ key: 'k', value: value.padEnd(200, '.') }]),
        acks: 1,
        logAppendTime: false,
      });
      this.acked.set(answer.baseOffset, value.padEnd(200, '.'));
      return true;
    } catch (error) {
      if (!TributaryError.is(error)) throw error;
      this.failures.push(error);
      return false;
    }
  }

  /** Every acknowledged record is in the partition at its acknowledged offset, and the log has no gaps. */
  async verify(rt = this.rt): Promise<void> {
    const records = await readValues(rt, this.topic, this.partition);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    const byOffset = new Map(records.map((r) => [r.offset, r.value]));
    for (const [offset, value] of this.acked) expect(byOffset.get(offset), `offset ${offset}`).toBe(value);
  }
}

describe('supervision', () => {
  it('survives a terminated thread in the middle of appends without losing an acknowledged batch', async () => {
    const rt = await open({ dir: newDir(), threads: 1 });
    // Partition 2 gets no appends, so a fetch at its end stays parked until the thread dies.
    await rt.admin.createTopic('crash', { partitions: 3 });
    const appenders = [new Appender(rt, 'crash', 0), new Appender(rt, 'crash', 1)];
    // Steady sequential appends on both partitions...
    let stop = false;
    const loops = appenders.map(async (appender) => {
      while (!stop) await appender.append();
    });
    while (appenders[0].acked.size < 50) await new Promise((resolve) => setTimeout(resolve, 5));
    // ...plus a long-poll fetch parked at the log end, surely still unanswered when the thread goes.
    const restarted = nextRestart(rt);
    const parked = rt.request('fetch', { topic: 'crash', partition: 2, offset: 0, maxBytes: 1024, maxWaitMs: 10_000, minBytes: 1 }).then(
      () => null,
      (error: TributaryError) => error,
    );
    const burst = Array.from({ length: 40 }, (_, i) => appenders[i % 2].append());
    void threadsOf(rt)[0].terminate();
    await Promise.all(burst);
    const event = await restarted;
    expect(event.slot).toBe(0);
    expect(event.restarts).toBe(1);
    expect(event.failed).toEqual([]);
    expect(event.reason).toBeInstanceOf(Error);
    // Keep appending after the restart: new requests succeed.
    const ackedAtRestart = appenders.map((a) => a.acked.size);
    while (appenders.some((a, i) => a.acked.size < ackedAtRestart[i] + 20)) await new Promise((resolve) => setTimeout(resolve, 5));
    stop = true;
    await Promise.all(loops);

    expect((await parked)?.code).toBe('PARTITION_UNAVAILABLE');
    // Appends the dead thread had not answered (there may be none: it may have answered all before dying).
    for (const failure of appenders.flatMap((a) => a.failures)) {
      expect(failure.code).toBe('PARTITION_UNAVAILABLE');
      expect(failure.retriable).toBe(true);
    }
    expect(rt.restarts).toBe(1);
    for (const appender of appenders) await appender.verify();

    // And after a clean close and reopen, recovery kept them all as well.
    const dir = rt.dir;
    await rt.close();
    const again = await open({ dir, threads: 1 });
    for (const appender of appenders) await appender.verify(again);
  });

  it('only the dead thread\'s partitions pause; requests made while it restarts wait and succeed', async () => {
    const rt = await open({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('pair', { partitions: 2 });
    const slotOf = [rt.slotOf('pair', 0)!, rt.slotOf('pair', 1)!];
    expect(new Set(slotOf).size).toBe(2);
    const appenders = [new Appender(rt, 'pair', 0), new Appender(rt, 'pair', 1)];
    for (const appender of appenders) await appender.append();

    const restarted = nextRestart(rt);
    await threadsOf(rt)[0].terminate();
    // Give the runtime a moment to notice, so the next requests arrive during the restart.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waited = Promise.all(appenders.map(async (appender) => ({ ok: await appender.append(), at: Date.now() })));
    const event = await restarted;
    const outcomes = await waited;
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    const deadPartition = slotOf.indexOf(event.slot);
    // The request to the dead slot was answered only after its partitions were back.
    expect(outcomes[deadPartition].at).toBeGreaterThanOrEqual(event.at);
    expect(appenders.flatMap((a) => a.failures)).toEqual([]);
    for (const appender of appenders) await appender.verify();
    expect(rt.restarts).toBe(1);
  });
});
