/**
 * Bad input through the facade fails with a typed TributaryError whose code a caller can switch
 * on, and whose details name what was wrong; none of it harms the runtime, which keeps serving.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TributaryError, type ErrorCode } from '../../src/index.js';
import { integrationFixture } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

/** The TributaryError that `action` throws or rejects with; fails the test if it succeeds or fails otherwise. */
async function failure(action: () => unknown, code: ErrorCode): Promise<TributaryError> {
  let outcome: unknown;
  try {
    await action();
  } catch (error) {
    outcome = error;
  }
  expect(outcome, `expected ${code}`).toBeInstanceOf(TributaryError);
  const error = outcome as TributaryError;
  expect(error.code, error.message).toBe(code);
  return error;
}

describe('bad input through the facade', () => {
  it('rejects sends to a missing topic or partition, and out-of-range positions, without harming the runtime', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic('present', { partitions: 3 });
    const producer = rt.producer();

    const missing = await failure(() => producer.send({ topic: 'absent', messages: [{ value: 'x' }] }), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(missing.details).toMatchObject({ topic: 'absent' });
    expect(missing.retriable).toBe(true);

    const outOfRange = await failure(() => producer.send({ topic: 'present', messages: [{ value: 'x', partition: 3 }] }), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(outOfRange.details).toMatchObject({ topic: 'present', partition: 3, partitions: 3 });
    // A bad message rejects its whole send: nothing of it was written.
    await failure(() => producer.send({ topic: 'present', messages: [{ value: 'ok', partition: 0 }, { value: 'x', partition: -1 }] }), 'UNKNOWN_TOPIC_OR_PARTITION');

    // The producer still works, and wrote only what it acknowledged.
    const [meta] = await producer.send({ topic: 'present', messages: [{ value: 'fine', partition: 1 }] });
    expect(meta).toMatchObject({ partition: 1, baseOffset: '0' });
    expect((await rt.admin.fetchTopicOffsets('present')).map((o) => o.high)).toEqual(['0', '1', '0']);

    // A consumer assigned past the log end with autoOffsetReset 'none' fails with OFFSET_OUT_OF_RANGE.
    const strict = rt.consumer({ autoOffsetReset: 'none' });
    strict.assign([{ topic: 'present', partition: 1, offset: 5 }]);
    const beyond = await failure(async () => {
      for await (const record of strict) throw new Error(`unexpected record at offset ${record.offset}`);
    }, 'OFFSET_OUT_OF_RANGE');
    expect(beyond.details).toMatchObject({ topic: 'present', partition: 1, position: 5 });

    // The same through run(): the consumer crashes with the error, as a KafkaJS consumer does.
    const running = rt.consumer({ autoOffsetReset: 'none' });
    running.assign([{ topic: 'present', partition: 1, offset: 99 }]);
    const crashed = new Promise<unknown>((resolve) => running.on('consumer.crash', (event) => resolve(event.payload.error)));
    await running.run({ eachMessage: async () => undefined });
    const crash = await crashed;
    expect(crash).toBeInstanceOf(TributaryError);
    expect((crash as TributaryError).code).toBe('OFFSET_OUT_OF_RANGE');

    // With no position at all and 'none', it fails as well, before fetching anything.
    const unpositioned = rt.consumer({ autoOffsetReset: 'none' });
    unpositioned.assign([{ topic: 'present', partition: 0 }]);
    await failure(async () => {
      for await (const record of unpositioned) throw new Error(`unexpected record at offset ${record.offset}`);
    }, 'OFFSET_OUT_OF_RANGE');

    // A consumer reading from the start gets the one record.
    const reader = rt.consumer({ autoOffsetReset: 'earliest' });
    reader.assign([{ topic: 'present', partition: 1 }]);
    for await (const record of reader) {
      expect(record).toMatchObject({ partition: 1, offset: 0 });
      expect(record.value!.toString()).toBe('fine');
      break;
    }

    // Below the log start (records deleted) it is out of range as well; 'earliest' instead resets to the log start.
    await producer.send({ topic: 'present', messages: Array.from({ length: 9 }, (_, i) => ({ value: `more ${i}`, partition: 1 })) });
    await rt.admin.deleteRecords({ topic: 'present', partitions: [{ partition: 1, offset: '4' }] });
    const deleted = rt.consumer({ autoOffsetReset: 'none' });
    deleted.assign([{ topic: 'present', partition: 1, offset: 2 }]);
    const below = await failure(async () => {
      for await (const record of deleted) throw new Error(`unexpected record at offset ${record.offset}`);
    }, 'OFFSET_OUT_OF_RANGE');
    expect(below.details).toMatchObject({ topic: 'present', partition: 1, position: 2 });
    const resetting = rt.consumer({ autoOffsetReset: 'earliest' });
    resetting.assign([{ topic: 'present', partition: 1, offset: 2 }]);
    for await (const record of resetting) {
      expect(record.offset).toBe(4);
      expect(record.value!.toString()).toBe('more 3'); // offset 0 holds 'fine', 1..9 'more 0'..'more 8'
      break;
    }

    // Assigning a partition that does not exist fails at once.
    await failure(() => rt.consumer().assign([{ topic: 'present', partition: 7 }]), 'UNKNOWN_TOPIC_OR_PARTITION');
    await failure(() => rt.consumer().subscribe({ topics: ['absent'] }), 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('rejects bad topic names and bad configs, naming the field', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    for (const name of ['a/b', '..', '.', '', 'x'.repeat(250), 'sp ace']) {
      const error = await failure(() => rt.admin.createTopic(name), 'INVALID_TOPIC');
      expect(error.retriable).toBe(false);
    }
    await failure(() => rt.admin.createTopics({ topics: [{ topic: 'a/b' }] }), 'INVALID_TOPIC');

    const badValue = await failure(() => rt.admin.createTopic('t', { retentionMs: 'a week' as unknown as number }), 'INVALID_CONFIG');
    expect(badValue.details).toMatchObject({ field: 'retentionMs' });
    expect(badValue.message).toContain('retentionMs');
    const badEnum = await failure(() => rt.admin.createTopic('t', { cleanupPolicy: 'compacted' as 'compact' }), 'INVALID_CONFIG');
    expect(badEnum.details).toMatchObject({ field: 'cleanupPolicy' });
    expect(badEnum.message).toContain("did you mean 'compact'");
    const unknownSetting = await failure(() => rt.admin.createTopic('t', { retentionMS: 1000 } as never), 'INVALID_CONFIG');
    expect(unknownSetting.details).toMatchObject({ field: 'retentionMS', suggestion: 'retentionMs' });
    // KafkaJS's dialect names the Kafka config.
    const kafkaValue = await failure(
      () => rt.admin.createTopics({ topics: [{ topic: 't', configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }),
      'INVALID_CONFIG',
    );
    expect(kafkaValue.details).toMatchObject({ config: 'retention.ms' });
    await failure(() => rt.admin.createTopic('t', { partitions: 0 }), 'INVALID_PARTITIONS');
    // Nothing was created by any of these.
    expect(await rt.admin.listTopics()).toEqual([]);

    // Client options: unknown ones and bad values are INVALID_CONFIG naming the option.
    const typo = await failure(() => rt.producer({ lingerMS: 5 } as never), 'INVALID_CONFIG');
    expect(typo.details).toMatchObject({ options: 'producer', field: 'lingerMS', suggestion: 'lingerMs' });
    const badProducerValue = await failure(() => rt.producer({ batchBytes: -1 }), 'INVALID_CONFIG');
    expect(badProducerValue.details).toMatchObject({ options: 'producer', field: 'batchBytes' });
    const idempotentAcks = await failure(() => rt.producer({ acks: 1 }), 'INVALID_CONFIG');
    expect(idempotentAcks.details).toMatchObject({ field: 'acks' });
    const consumerTypo = await failure(() => rt.consumer({ maxWaitTime: 100 } as never), 'INVALID_CONFIG');
    expect(consumerTypo.details).toMatchObject({ options: 'consumer', field: 'maxWaitTime' });
    const badConsumerValue = await failure(() => rt.consumer({ autoOffsetReset: 'smallest' as 'earliest' }), 'INVALID_CONFIG');
    expect(badConsumerValue.details).toMatchObject({ options: 'consumer', field: 'autoOffsetReset' });
    const heartbeat = await failure(() => rt.consumer({ groupId: 'g', heartbeatInterval: -1 }), 'INVALID_CONFIG');
    expect(heartbeat.details).toMatchObject({ options: 'consumer', field: 'heartbeatInterval' });
    const runtimeTypo = await failure(() => openRuntime({ dir: newDir(), thread: 2 } as never), 'INVALID_CONFIG');
    expect(runtimeTypo.details).toMatchObject({ options: 'runtime', field: 'thread', suggestion: 'threads' });

    // The runtime still works after all that.
    await rt.admin.createTopic('t', { partitions: 2 });
    expect(await rt.admin.listTopics()).toEqual(['t']);
  });

  it('refuses a second open of a directory that is open, and allows it once closed', async () => {
    const dir = newDir();
    const first = await openRuntime({ dir, threads: 2 });
    await first.admin.createTopic('kept', { partitions: 2 });
    const locked = await failure(() => openRuntime({ dir, threads: 2 }), 'DIR_LOCKED');
    expect(locked.retriable).toBe(false);
    // The lock is on the directory, however it is named.
    const link = `${dir}-link`;
    fs.symlinkSync(dir, link);
    try {
      await failure(() => openRuntime({ dir: `${dir}/`, threads: 1 }), 'DIR_LOCKED');
      await failure(() => openRuntime({ dir: path.relative(process.cwd(), dir), threads: 1 }), 'DIR_LOCKED');
      await failure(() => openRuntime({ dir: link, threads: 1 }), 'DIR_LOCKED');
    } finally {
      fs.rmSync(link);
    }
    // The first runtime is unharmed.
    const [meta] = await first.producer().send({ topic: 'kept', messages: [{ value: 'still mine', partition: 0 }] });
    expect(meta.baseOffset).toBe('0');
    await first.close();
    const second = await openRuntime({ dir, threads: 2 });
    expect(await second.admin.listTopics()).toEqual(['kept']);
  });
});
