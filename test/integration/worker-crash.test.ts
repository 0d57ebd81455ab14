/**
 * The reliability requirement: a partition thread dying in the middle of heavy producing loses no
 * acknowledged record, and an idempotent producer (the default) writes none twice, not even the
 * records of batches that were in flight when the thread died and were retried on its replacement.
 *
 * One producer keeps a window of sends in flight (200 sends of 500 click events, each record's
 * value starting with a unique id) to an 8-partition topic spread over two threads; after the
 * first acknowledged sends the test terminates a thread (and, in the second case, later the other
 * one too). Everything is then read back from the beginning with a consumer and counted by id.
 * A consumer tails the topic throughout and must deliver exactly what the log ends up holding.
 * The same scenario with `idempotent: false, acks: 1` shows what idempotence buys: acknowledged
 * records are still all there, but a retried batch the dead thread had appended may be there twice.
 */
import { describe, expect, it } from 'vitest';
import { TributaryError, type ProducerOptions, type Tributary, type WorkerRestartedEvent } from '../../src/index.js';
import { ClickStream } from '../../src/workload/click-events.js';
import { integrationFixture, readTopic, threadsOf, until } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

const TOPIC = 'heavy';
const PARTITIONS = 8;
const SENDS = 200;
const RECORDS_PER_SEND = 500;
/** Sends in flight at once. */
const WINDOW = 16;
/** The first thread is killed once this many sends are acknowledged; the second this many acknowledgements after the first restart. */
const KILL_AFTER_ACKS = 5;

interface CrashRun {
  /** Per send: acknowledged, or the error it failed with. */
  readonly outcomes: Array<{ ok: true } | { ok: false; error: unknown }>;
  readonly restarts: WorkerRestartedEvent[];
  /** Sends acknowledged, and sends not yet settled, when each kill happened. */
  readonly kills: Array<{ acked: number; unsettled: number }>;
  /** How many times each id was read back. */
  readonly counts: Uint8Array;
  /** Ids in the order read, per partition. */
  readonly idsByPartition: number[][];
  /** Ids in the order a consumer tailing the topic during the whole run delivered them, per partition. */
  readonly tailedByPartition: number[][];
  /** Appends (attempts, retries included) as the runtime saw them: how the crash was exercised. */
  readonly appends: { sent: number; unavailable: number; answeredAsDuplicate: number };
}

/**
 * Counts the producer's append attempts by outcome, by wrapping the runtime's `request` (what the
 * producer talks to). Observation only: it shows how many batches the crash caught in flight and
 * how many retries the partition recognised as already written, which the facade does not report.
 */
function observeAppends(rt: Tributary): CrashRun['appends'] {
  const appends = { sent: 0, unavailable: 0, answeredAsDuplicate: 0 };
  const runtime = rt.runtime;
  const request = runtime.request.bind(runtime);
  runtime.request = ((type, args, transfer) => {
    const answer = request(type, args, transfer);
    if (type === 'append') {
      appends.sent++;
      answer.then(
        (result) => {
          if ((result as { duplicate: boolean }).duplicate) appends.answeredAsDuplicate++;
        },
        (error: unknown) => {
          if (TributaryError.is(error, 'PARTITION_UNAVAILABLE')) appends.unavailable++;
        },
      );
    }
    return answer;
  }) as typeof runtime.request;
  return appends;
}

/** The id at the start of a record's value (`<id> <click event JSON>`). */
function idOf(value: Buffer): number {
  return Number(value.subarray(0, value.indexOf(0x20)).toString());
}

async function crashDuringProduce(rt: Tributary, producerOptions: ProducerOptions, killThreads: 1 | 2): Promise<CrashRun> {
  await rt.admin.createTopic(TOPIC, { partitions: PARTITIONS });
  const appends = observeAppends(rt);
  const restarts: WorkerRestartedEvent[] = [];
  let ackedAtRestart = -1;
  let acked = 0;
  let settled = 0;
  rt.on('workerRestarted', (event) => {
    restarts.push(event);
    if (restarts.length === 1) ackedAtRestart = acked;
  });
  // The threads as first started: each hosts one slot's host task, so killing original[0] and later original[1] kills both slots in turn.
  const original = [...threadsOf(rt)];
  expect(original.length).toBe(2);
  const kills: CrashRun['kills'] = [];
  const maybeKill = (): void => {
    if (kills.length === 0 && acked >= KILL_AFTER_ACKS) {
      kills.push({ acked, unsettled: SENDS - settled });
      void original[0].terminate();
    } else if (killThreads === 2 && kills.length === 1 && ackedAtRestart >= 0 && acked >= ackedAtRestart + KILL_AFTER_ACKS) {
      expect(threadsOf(rt)).toContain(original[1]);
      kills.push({ acked, unsettled: SENDS - settled });
      void original[1].terminate();
    }
  };

  // A consumer tails the topic throughout: its fetches to the dead thread fail too, and it must carry on from its positions.
  const tailedByPartition: number[][] = Array.from({ length: PARTITIONS }, () => []);
  let tailed = 0;
  let tailCrash: unknown;
  const tail = rt.consumer({ autoOffsetReset: 'earliest', maxWaitTimeInMs: 100 });
  tail.on('consumer.crash', (event) => (tailCrash = event.payload.error));
  await tail.subscribe({ topics: [TOPIC], fromBeginning: true });
  await tail.run({
    eachMessage: async ({ partition, message }) => {
      tailedByPartition[partition].push(idOf(message.value!));
      tailed++;
    },
  });

  const producer = rt.producer(producerOptions);
  await producer.connect();
  const stream = new ClickStream({ seed: 42 });
  const outcomes: CrashRun['outcomes'] = new Array(SENDS);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < SENDS) {
      const send = next++;
      const messages = stream.records(RECORDS_PER_SEND).map((record, i) => ({
        key: record.key,
        value: `${send * RECORDS_PER_SEND + i} ${record.value.toString()}`,
        timestamp: record.timestamp,
      }));
      try {
        await producer.send({ topic: TOPIC, messages });
        outcomes[send] = { ok: true };
        acked++;
      } catch (error) {
        outcomes[send] = { ok: false, error };
      }
      settled++;
      maybeKill();
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  await producer.disconnect();
  // A restart still under way when the last send settled (possible after the second kill) must finish before reading.
  while (restarts.length < kills.length) await new Promise((resolve) => rt.runtime.once('workerRestarted', resolve));

  const written = (await rt.admin.fetchTopicOffsets(TOPIC)).reduce((sum, o) => sum + Number(o.high), 0);
  await until(() => tailCrash !== undefined || tailed >= written);
  await tail.stop();
  expect(tailCrash, 'the tailing consumer crashed').toBeUndefined();

  const counts = new Uint8Array(SENDS * RECORDS_PER_SEND);
  const idsByPartition = (await readTopic(rt, TOPIC)).map((records) => {
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    return records.map((record) => {
      const id = idOf(record.value!);
      counts[id]++;
      return id;
    });
  });
  return { outcomes, restarts, kills, counts, idsByPartition, tailedByPartition, appends };
}

/** Ids of the records of acknowledged sends that were read back `n` times, for n in `which`. */
function ackedIdsWhere(run: CrashRun, which: (count: number) => boolean): number[] {
  const ids: number[] = [];
  run.outcomes.forEach((outcome, send) => {
    if (!outcome.ok) return;
    for (let id = send * RECORDS_PER_SEND; id < (send + 1) * RECORDS_PER_SEND; id++) if (which(run.counts[id])) ids.push(id);
  });
  return ids;
}

function failureCodes(run: CrashRun): string[] {
  return run.outcomes.flatMap((outcome) => {
    if (outcome.ok) return [];
    expect(outcome.error, 'a failed send fails with a TributaryError').toBeInstanceOf(TributaryError);
    return [(outcome.error as TributaryError).code];
  });
}

function checkRestarts(rt: Tributary, run: CrashRun, killed: number): void {
  expect(run.kills.length).toBe(killed);
  // Each kill happened while sends were still outstanding.
  for (const kill of run.kills) expect(kill.unsettled).toBeGreaterThan(0);
  // The crash caught appends in flight, so the retry path was exercised (not just requests made after the restart).
  expect(run.appends.unavailable).toBeGreaterThan(0);
  expect(run.restarts.length).toBe(killed);
  expect(rt.runtime.restarts).toBe(killed);
  for (const event of run.restarts) {
    expect(event.failed).toEqual([]);
    expect(event.reason).toBeInstanceOf(Error);
  }
  expect(new Set(run.restarts.map((event) => event.slot)).size).toBe(killed);
  // The consumer that read during the crash saw exactly what the log holds, in order, nothing skipped or repeated.
  expect(run.tailedByPartition.map((ids) => ids.length)).toEqual(run.idsByPartition.map((ids) => ids.length));
  for (const [partition, ids] of run.tailedByPartition.entries()) {
    if (!ids.every((id, i) => id === run.idsByPartition[partition][i])) expect.fail(`partition ${partition}: the tailing consumer's records differ from the log's`);
  }
}

/** Under idempotence nothing is written twice, and each partition holds the producer's records in the order it sent them. */
function checkExactlyOnce(run: CrashRun): void {
  const duplicated: number[] = [];
  run.counts.forEach((count, id) => {
    if (count > 1) duplicated.push(id);
  });
  expect(duplicated, 'records written more than once').toEqual([]);
  expect(ackedIdsWhere(run, (count) => count !== 1), 'records of acknowledged sends not present exactly once').toEqual([]);
  for (const [partition, ids] of run.idsByPartition.entries()) {
    for (let i = 1; i < ids.length; i++) {
      if (ids[i] <= ids[i - 1]) expect.fail(`partition ${partition}: id ${ids[i]} at offset ${i} follows id ${ids[i - 1]}`);
    }
  }
}

/**
 * Batches of 16 KiB rather than the default 64 KiB: ~700 appends instead of ~180, so the crash
 * catches a full pipeline (5 appends in flight per partition of the dead thread) rather than a few.
 */
const BATCH_BYTES = 16_384;

function summary(name: string, run: CrashRun): string {
  const duplicates = run.counts.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
  const { sent, unavailable, answeredAsDuplicate } = run.appends;
  return (
    `${name}: kills at ${run.kills.map((k) => `${k.acked} acked/${k.unsettled} unsettled sends`).join(', ')}; ` +
    `${sent} append attempts, ${unavailable} failed PARTITION_UNAVAILABLE, ${answeredAsDuplicate} retries answered as duplicates; ` +
    `${duplicates} duplicate record(s) in the topic`
  );
}

describe('a worker thread dies during heavy producing', () => {
  it('idempotent producer (the default): every acknowledged record exactly once after one thread is killed', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    const run = await crashDuringProduce(rt, { batchBytes: BATCH_BYTES }, 1);
    console.log(summary('idempotent, one kill', run));
    checkRestarts(rt, run, 1);
    // PARTITION_UNAVAILABLE is retriable and the producer retries it, so no send should fail.
    expect(failureCodes(run)).toEqual([]);
    checkExactlyOnce(run);
    expect(run.counts.every((count) => count === 1)).toBe(true);
  });

  it('idempotent producer: every acknowledged record exactly once after both threads are killed in turn', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    const run = await crashDuringProduce(rt, { batchBytes: BATCH_BYTES }, 2);
    console.log(summary('idempotent, both threads killed in turn', run));
    checkRestarts(rt, run, 2);
    expect(failureCodes(run)).toEqual([]);
    checkExactlyOnce(run);
    expect(run.counts.every((count) => count === 1)).toBe(true);
  });

  it('without idempotence (acks 1): still no acknowledged record lost; retried batches may be duplicated', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    const run = await crashDuringProduce(rt, { idempotent: false, acks: 1, batchBytes: BATCH_BYTES }, 1);
    // Duplicates appear only if the thread died between writing a batch and answering it: likely (3 runs in 5 when this was written), not certain.
    console.log(summary('not idempotent, acks 1, one kill', run));
    checkRestarts(rt, run, 1);
    expect(failureCodes(run)).toEqual([]);
    expect(ackedIdsWhere(run, (count) => count === 0), 'acknowledged records missing').toEqual([]);
  });
});

describe('a replacement thread dies while starting', () => {
  /**
   * When a thread dies, piscina starts a replacement to keep `minThreads`, and the slot asks piscina
   * (`pool.run`) for a new host task, which is queued for the replacement, not ready yet. If the
   * replacement dies before it is ready, piscina 5.3.2's `_onError` sets its sticky
   * `workerFailsDuringBootstrap` flag and starts no other thread, and it neither runs nor rejects the
   * queued task. The slot must not take the silence for "partitions failed to open" and go up on a
   * host that never answered (that was a bug: the event came with `failed: [{ ..., error:
   * REQUEST_TIMED_OUT }]` and every later request to the slot timed out for as long as the runtime
   * stayed open). A new host that answers none of its first calls within `requestTimeoutMs` counts
   * as dead: the slot takes its task back through the AbortSignal given to `pool.run` and restarts
   * it with its backoff; that next `pool.run` makes piscina start a thread, since it has fewer than
   * `maxThreads`. A thread dying during bootstrap is rare in production (a crash while loading the
   * worker module, resource limits), but without this its partitions were lost until the process restarted.
   */
  it('a replacement thread that dies while starting is replaced in turn, and its partitions come back', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2, requestTimeoutMs: 1_000 });
    await rt.admin.createTopic('boot', { partitions: 2 });
    const original = [...threadsOf(rt)];
    const restarted = new Promise<WorkerRestartedEvent>((resolve) => rt.on('workerRestarted', resolve));
    // piscina's 'exit' listener (registered when the thread was made) has already created the replacement when this one runs:
    // killing it here kills it before it has loaded anything.
    original[0].once('exit', () => {
      for (const thread of threadsOf(rt)) if (!original.includes(thread)) void thread.terminate();
    });
    void original[0].terminate();
    const event = await restarted;
    expect(event.failed).toEqual([]);
    expect(event.restarts).toBe(1);
    expect(rt.runtime.restarts).toBe(1);
    const partition = [0, 1].find((p) => rt.runtime.slotOf('boot', p) === event.slot)!;
    const producer = rt.producer({ timeout: 500, retry: { retries: 0 } });
    const outcome = await producer.send({ topic: 'boot', messages: [{ value: 'after', partition }] }).then(
      () => 'ok',
      (error: TributaryError) => error.code,
    );
    expect(outcome).toBe('ok');
  });
});
