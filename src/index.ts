/**
 * `tributary`: the embedded runtime's public entry point.
 */
export { open, Tributary, type TributaryOptions } from './tributary.js';
export { TributaryError, type ErrorCode, type SerializedTributaryError } from './errors.js';
export type { Admin, TopicDescription, PartitionDescription, TopicConfigChanges } from './runtime/admin.js';
export {
  GroupAdmin,
  type ConsumerGroupDescription,
  type GroupMemberState,
  type GroupPartitionLag,
  type PlannedOffset,
  type ResetOffsetsRequest,
  type ResetTarget,
} from './group/group-admin.js';
export type { TopicConfigInput } from './runtime/topic-config.js';
export type { RuntimeEvents, WorkerRestartedEvent } from './runtime/runtime.js';
export { Producer, type ProducerOptions, type RecordMetadata, type ProducerMessage } from './client/producer.js';
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  type KafkaMessage,
  type EachMessagePayload,
  type EachBatchPayload,
  type ConsumerEvent,
  type ConsumerEventType,
  type RebalanceListener,
} from './client/consumer.js';
export {
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type Assignor,
  type AssignorInput,
  type AssignorMember,
  type Assignment,
  type TopicPartition,
} from './group/assignors/index.js';
export {
  CONSUMER_PROTOCOL_TYPE,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
} from './group/consumer-protocol.js';
export {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from './group/offsets-records.js';
export { createDefaultPartitioner, murmur2, type Partitioner } from './client/partitioner.js';
export { resolveSerde, type Serde, type SerdeName } from './client/serde.js';
