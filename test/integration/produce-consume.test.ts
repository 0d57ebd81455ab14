/**
 * Producers and a consumer through the public facade, on real worker threads.
 *
 * Three producers send keyed click events concurrently to one 8-partition topic; each record's
 * value names its producer and that producer's sequence number. Read back from the beginning:
 * every record is there exactly once; within a partition, each producer's records are in the
 * order it sent them; and every key landed on one partition, the one Kafka's murmur2 partitioner
 * picks, checked both against the formula and against KafkaJS's own DefaultPartitioner.
 */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { toPositive } from '../../src/client/partitioner.js';
import { murmur2, type RecordMetadata } from '../../src/index.js';
import { ClickStream } from '../../src/workload/click-events.js';
import { integrationFixture, readTopic } from './helpers.js';

const { newDir, openRuntime } = integrationFixture();

const TOPIC = 'clicks';
const PARTITIONS = 8;
const PRODUCERS = 3;
const SENDS_PER_PRODUCER = 12;
const RECORDS_PER_SEND = 400;

/** `p<producer>:<sequence> <click event JSON>`: the prefix identifies the record, the event is the payload. */
function valueOf(producer: number, sequence: number, event: Buffer): string {
  return `p${producer}:${sequence} ${event.toString()}`;
}

function parseValue(value: string): { producer: number; sequence: number } {
  const match = /^p(\d+):(\d+) /.exec(value);
  if (match === null) throw new Error(`unexpected value ${value.slice(0, 40)}`);
  return { producer: Number(match[1]), sequence: Number(match[2]) };
}

describe('produce and consume through real threads', () => {
  it('keeps each producer\'s per-partition order under concurrent producers, and partitions keys as Kafka and KafkaJS do', async () => {
    const rt = await openRuntime({ dir: newDir(), threads: 2 });
    await rt.admin.createTopic(TOPIC, { partitions: PARTITIONS });

    // Producers batch differently (linger, batch size) so their batches interleave in varied ways.
    const producerOptions = [{}, { lingerMs: 0 }, { lingerMs: 2, batchBytes: 8_192 }];
    const sentKeys = new Map<string, number>(); // key -> how many records carry it
    const results = await Promise.all(
      producerOptions.map(async (options, producerId) => {
        const producer = rt.producer(options);
        await producer.connect();
        // Seeds overlap in users (the distribution is skewed), so producers share keys.
        const stream = new ClickStream({ seed: 100 + producerId, users: 2_000 });
        let sequence = 0;
        const sends: Promise<RecordMetadata[]>[] = [];
        for (let s = 0; s < SENDS_PER_PRODUCER; s++) {
          const messages = stream.records(RECORDS_PER_SEND).map((record) => {
            const key = record.key.toString();
            sentKeys.set(key, (sentKeys.get(key) ?? 0) + 1);
            return { key, value: valueOf(producerId, sequence++, record.value), timestamp: record.timestamp };
          });
          // Not awaited one by one: each producer has many sends in flight while the others send too.
          sends.push(producer.send({ topic: TOPIC, messages }));
        }
        const metadata = await Promise.all(sends);
        await producer.disconnect();
        return metadata;
      }),
    );
    for (const metadata of results.flat()) {
      for (const entry of metadata) {
        expect(entry.topicName).toBe(TOPIC);
        expect(entry.errorCode).toBe(0);
      }
    }

    const partitions = await readTopic(rt, TOPIC);
    const total = PRODUCERS * SENDS_PER_PRODUCER * RECORDS_PER_SEND;
    expect(partitions.reduce((sum, records) => sum + records.length, 0)).toBe(total);

    // Every record exactly once.
    const seen = new Set<string>();
    for (const records of partitions) {
      for (const record of records) {
        const { producer, sequence } = parseValue(record.value!.toString());
        const id = `${producer}:${sequence}`;
        expect(seen.has(id), `record ${id} read twice`).toBe(false);
        seen.add(id);
      }
    }
    expect(seen.size).toBe(total);

    // Within each partition: offsets dense from 0, and each producer's sequence strictly increasing.
    for (const [partition, records] of partitions.entries()) {
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
      const last = new Array<number>(PRODUCERS).fill(-1);
      for (const record of records) {
        const { producer, sequence } = parseValue(record.value!.toString());
        expect(sequence, `partition ${partition}, producer ${producer}`).toBeGreaterThan(last[producer]);
        last[producer] = sequence;
      }
    }

    // Every key on exactly one partition: Kafka's formula, and KafkaJS's DefaultPartitioner's choice.
    const kafkajsPartition = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    const partitionOfKey = new Map<string, number>();
    const recordsOfKey = new Map<string, number>();
    for (const [partition, records] of partitions.entries()) {
      for (const record of records) {
        const key = record.key!.toString();
        const earlier = partitionOfKey.get(key);
        expect(earlier === undefined || earlier === partition, `key ${key} on partitions ${earlier} and ${partition}`).toBe(true);
        partitionOfKey.set(key, partition);
        recordsOfKey.set(key, (recordsOfKey.get(key) ?? 0) + 1);
      }
    }
    expect(recordsOfKey).toEqual(sentKeys);
    // The skewed users make many keys shared by the three producers: the check covers keys sent from all of them.
    expect(partitionOfKey.size).toBeGreaterThan(500);
    for (const [key, partition] of partitionOfKey) {
      expect(toPositive(murmur2(Buffer.from(key))) % PARTITIONS, `key ${key}`).toBe(partition);
      expect(kafkajsPartition({ topic: TOPIC, partitionMetadata, message: { key, value: null } }), `key ${key} (KafkaJS)`).toBe(partition);
    }
    // The keys spread over every partition.
    expect(partitions.every((records) => records.length > 0)).toBe(true);
  });
});
