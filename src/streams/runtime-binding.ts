/**
 * The binding of sources and sinks to a runtime opened in this thread (`open()`), outside any
 * stream task: a source reads every partition of its topic with a consumer of its own, from the
 * position its `from` option names, and commits nothing; consumers and producers are made by the
 * runtime's facade, which disconnects any still open when it closes.
 */
import type { Consumer, ConsumerOptions } from '../client/consumer.js';
import type { Producer, ProducerOptions } from '../client/producer.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import type { RunningSink, RunningSource, SourceRequest, SourceSession, StreamBinding } from './context.js';
import { FlowControl } from './flow-control.js';

export interface ClientFactories {
  consumer<K, V>(options: ConsumerOptions<K, V>): Consumer<K, V>;
  producer(options: ProducerOptions<unknown, unknown> | undefined): Producer<unknown, unknown>;
}

export class RuntimeBinding implements StreamBinding {
  readonly flow = new FlowControl();

  constructor(
    readonly name: string,
    readonly client: PartitionClient,
    private readonly factories: ClientFactories,
  ) {}

  declareSource(): number {
    return 0;
  }

  /** Outside a task nothing commits input positions, so a store has nothing to be restored to: it stays in memory only. */
  registerStore(): void {}

  async openSource<K, V>(request: SourceRequest<K, V>): Promise<SourceSession<K, V>> {
    const { topic, from } = request;
    const partitionCount = this.client.topic(topic).partitions;
    const partitions = Array.from({ length: partitionCount }, (_, partition) => partition);
    // A position that left the log (retention) restarts at the log start, as Kafka Streams resets.
    const consumer = this.factories.consumer<K, V>({ serde: request.serde, autoOffsetReset: 'earliest' });
    try {
      const starts = await startOffsets(consumer, topic, partitions, from);
      consumer.assign(partitions.map((partition, i) => ({ topic, partition, offset: starts[i] })));
    } catch (error) {
      await consumer.disconnect();
      throw error;
    }
    let running: RunningSource | undefined;
    return {
      consumer,
      partitions,
      grouped: false,
      attach: (source) => {
        running = source;
      },
      close: async () => {
        await running?.release();
        await consumer.disconnect();
      },
    };
  }

  producer(options: ProducerOptions<unknown, unknown> | undefined): Producer<unknown, unknown> {
    return this.factories.producer(options);
  }

  closeProducer(producer: Producer<unknown, unknown>): Promise<void> {
    return producer.disconnect();
  }

  attachSink(_sink: RunningSink): () => void {
    return () => undefined;
  }
}

/** Each partition's first offset to read, as `assign()` takes it (-2 earliest, -1 latest). */
async function startOffsets<K, V>(consumer: Consumer<K, V>, topic: string, partitions: readonly number[], from: SourceRequest<K, V>['from']): Promise<number[]> {
  if (from === 'earliest') return partitions.map(() => -2);
  if (from === 'latest') return partitions.map(() => -1);
  if ('offset' in from) return partitions.map(() => from.offset);
  const found = await consumer.offsetsForTimes(partitions.map((partition) => ({ topic, partition, timestamp: from.timestamp })));
  return found.map((entry) => entry.offset ?? -1);
}
