/**
 * Consumer micro-benchmark (not a test): records/s handed to the application, one partition, one
 * core, click-event workload.
 *
 *   node --import tsx test/client/consumer-fakes/consume-bench.ts [--records 2000000] [--batch-kib 16] [--repeats 5]
 *
 * Two sources of fetch answers:
 *   - memory: fetches are answered from encoded batches held in memory (a view, no copy), so the
 *     figure is the consumer's own cost, which is what the consumer's thread pays when the
 *     partition's reads run on its own worker thread;
 *   - log: the Log-backed fake, which reads and CRC-checks on the same thread as the consumer.
 * Prints the best of `--repeats` runs per mode.
 */
import { parseArgs } from 'node:util';
import { Consumer } from '../../../src/client/consumer.js';
import { encodeRecordBatch } from '../../../src/record/index.js';
import type { RequestType, WorkerRequests } from '../../../src/runtime/messages.js';
import type { PartitionClient, TopicMetadata } from '../../../src/runtime/partition-client.js';
import { ClickStream } from '../../../src/workload/click-events.js';
import { FakePartitionClient } from './fake-partition-client.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    'batch-kib': { type: 'string', default: '16' },
    repeats: { type: 'string', default: '5' },
  },
});
const RECORDS = Number(args.records);
const BATCH_BYTES = Number(args['batch-kib']) * 1024;
const REPEATS = Number(args.repeats);

const clicks = new ClickStream({ seed: 42 }).records(RECORDS);
/** The records of each batch, cut as a producer with this batch size would. */
const slices: (typeof clicks)[] = [];
{
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < clicks.length; i++) {
    bytes += clicks[i].value.length + clicks[i].key.length + 12;
    if (bytes >= BATCH_BYTES || i === clicks.length - 1) {
      slices.push(clicks.slice(start, i + 1));
      start = i + 1;
      bytes = 0;
    }
  }
}
let baseOffset = 0;
const batches = slices.map((records) => {
  const batch = encodeRecordBatch(records, { baseOffset });
  baseOffset += records.length;
  return batch;
});

/** Answers fetches from the encoded batches in memory. */
class MemoryClient implements PartitionClient {
  private readonly all = Buffer.concat(batches);
  private readonly baseOffsets: number[] = [];
  private readonly positions: number[] = [];

  constructor() {
    let position = 0;
    let offset = 0;
    for (const batch of batches) {
      this.baseOffsets.push(offset);
      this.positions.push(position);
      offset += batch.readInt32BE(57);
      position += batch.length;
    }
    this.baseOffsets.push(offset);
    this.positions.push(position);
  }

  topic(name: string): TopicMetadata {
    return { name, partitions: 1, compression: 'producer', timestampType: 'create' };
  }

  async groupCoordinator(): Promise<never> {
    throw new Error('groups are not used with this fake');
  }

  async initProducerId(): Promise<never> {
    throw new Error('not used');
  }

  async request<T extends Exclude<RequestType, 'applyRetention' | 'flush'>>(type: T, args: WorkerRequests[T]['args']): Promise<WorkerRequests[T]['result']> {
    const end = RECORDS;
    if (type === 'listOffsets') return { offset: 0, timestamp: -1 } as WorkerRequests[T]['result'];
    const { offset, maxBytes, maxWaitMs } = args as WorkerRequests['fetch']['args'];
    if (offset >= end) {
      await new Promise((resolve) => setTimeout(resolve, maxWaitMs));
      return { bytes: new Uint8Array(0), highWatermark: end, logStartOffset: 0, nextOffset: offset } as WorkerRequests[T]['result'];
    }
    let i = this.baseOffsets.findLastIndex((base) => base <= offset);
    const from = this.positions[i];
    let to = this.positions[++i];
    while (i + 1 < this.positions.length && this.positions[i + 1] - from <= maxBytes) to = this.positions[++i];
    const bytes = new Uint8Array(this.all.buffer, this.all.byteOffset + from, to - from);
    return { bytes, highWatermark: end, logStartOffset: 0, nextOffset: this.baseOffsets[i] } as WorkerRequests[T]['result'];
  }
}

type Mode = 'iterator' | 'batches()' | 'eachBatch' | 'eachMessage' | 'iterator, json serde, value unread' | 'iterator, json serde, value parsed';
const MODES: Mode[] = ['iterator', 'batches()', 'eachBatch', 'eachMessage', 'iterator, json serde, value unread', 'iterator, json serde, value parsed'];

async function consume(client: PartitionClient, mode: Mode): Promise<number> {
  const serde = mode.includes('json') ? { value: 'json' as const } : undefined;
  const consumer = new Consumer<Buffer | null, unknown>(client, { autoOffsetReset: 'earliest', maxWaitTimeInMs: 10, serde });
  consumer.assign([{ topic: 'clicks', partition: 0, offset: 0 }]);
  let bytes = 0;
  let count = 0;
  const start = performance.now();
  if (mode === 'iterator' || mode.startsWith('iterator,')) {
    const parse = mode.endsWith('parsed');
    for await (const record of consumer) {
      bytes += record.key!.length;
      if (parse) bytes += (record.value as { dur: number }).dur;
      else if (serde === undefined) bytes += (record.value as Buffer).length;
      if (++count === RECORDS) break;
    }
  } else if (mode === 'batches()') {
    for await (const batch of consumer.batches()) {
      for (const record of batch.messages) bytes += record.key!.length + (record.value as Buffer).length;
      count += batch.messages.length;
      if (count === RECORDS) break;
    }
  } else {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        if (count === RECORDS) resolve();
      };
      void consumer.run(
        mode === 'eachBatch'
          ? {
              eachBatch: async ({ batch }) => {
                for (const message of batch.messages) bytes += message.key!.length + (message.value as Buffer).length;
                count += batch.messages.length;
                done();
              },
            }
          : {
              eachMessage: async ({ message }) => {
                bytes += message.key!.length + (message.value as Buffer).length;
                count++;
                done();
              },
            },
      );
    });
  }
  const seconds = (performance.now() - start) / 1000;
  await consumer.disconnect();
  if (count !== RECORDS || bytes === 0) throw new Error(`consumed ${count} of ${RECORDS}`);
  return RECORDS / seconds;
}

const fake = new FakePartitionClient();
fake.createTopic('clicks', 1);
for (const records of slices) fake.produce('clicks', 0, records);
const memory = new MemoryClient();

console.log(`${RECORDS} click records, ${batches.length} batches of ~${BATCH_BYTES / 1024} KiB, best of ${REPEATS}, Node ${process.version}`);
console.log(`${'mode'.padEnd(40)} ${'memory source'.padStart(16)} ${'log source'.padStart(16)}`);
for (const mode of MODES) {
  let bestMemory = 0;
  let bestLog = 0;
  for (let r = 0; r < REPEATS; r++) {
    bestMemory = Math.max(bestMemory, await consume(memory, mode));
    bestLog = Math.max(bestLog, await consume(fake, mode));
  }
  const rate = (perSecond: number): string => `${(perSecond / 1e6).toFixed(2)} M rec/s`;
  console.log(`${mode.padEnd(40)} ${rate(bestMemory).padStart(16)} ${rate(bestLog).padStart(16)}`);
}
fake.close();
