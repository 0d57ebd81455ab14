/**
 * What clients (producer, consumer, admin helpers) need from a runtime: topic metadata, and
 * requests routed to the thread that owns a partition. The embedded runtime implements it; so
 * can a test double, and later the connector to an external Kafka cluster.
 */
import type { CompressionName } from '../record/index.js';
import type { ClientRequestType, GroupRef, WorkerRequests } from './messages.js';

export interface TopicMetadata {
  readonly name: string;
  readonly partitions: number;
  /** The topic's codec; `producer` keeps whatever each producer chose (Kafka's `compression.type=producer`). */
  readonly compression: CompressionName | 'producer';
  /** `log-append` stamps batches with the partition's clock on append (Kafka LogAppendTime). */
  readonly timestampType: 'create' | 'log-append';
}

export interface ProducerIdentity {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface PartitionClient {
  /** Metadata of a topic; throws UNKNOWN_TOPIC_OR_PARTITION if it does not exist. */
  topic(name: string): TopicMetadata;
  /**
   * Sends a request to the thread owning `args.topic`/`args.partition` and resolves with its
   * answer. Rejects with a TributaryError: PARTITION_UNAVAILABLE (retriable) if the owning thread
   * died before answering, UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist, CLOSED
   * once the runtime is closed. `transfer` lists ArrayBuffers to move rather than copy.
   */
  request<T extends ClientRequestType>(
    type: T,
    args: WorkerRequests[T]['args'],
    transfer?: readonly ArrayBuffer[],
  ): Promise<WorkerRequests[T]['result']>;
  /**
   * Where the coordinator of `groupId` lives (Kafka FindCoordinator): the `__consumer_offsets`
   * partition the id hashes to, created with the runtime's first group. Group requests
   * (`joinGroup`, `commitOffsets`, ...) carry this ref. INVALID_GROUP_ID for an empty id.
   */
  groupCoordinator(groupId: string): Promise<GroupRef>;
  /** A fresh producer id (epoch 0) for an idempotent producer; ids are never reused, even across restarts. */
  initProducerId(): Promise<ProducerIdentity>;
  /**
   * True when the partition lives on the calling thread, so that a request for it is served there
   * without a message (a thread task's client and its thread's partitions). Left out: false.
   */
  isLocal?(topic: string, partition: number): boolean;
}
