/**
 * The internal topic `__consumer_offsets`, where group coordinators keep committed offsets and
 * group metadata, and how a group id picks its partition, as Kafka does: the coordinator of a
 * group is whoever owns partition `abs(groupId.hashCode()) % partitions`, with Java's
 * `String.hashCode`, so a group lands on the same partition number as on a Kafka cluster with
 * the same partition count.
 */
import type { TopicConfigInput } from './topic-config.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/**
 * The topic's settings when the runtime creates it: compacted (only the latest commit per key
 * matters), and fsynced on every append, since an acknowledged commit must survive a power cut
 * as a Kafka commit survives on its replicas.
 */
export function offsetsTopicConfig(partitions: number): TopicConfigInput {
  return { partitions, cleanupPolicy: 'compact', flush: 'always', segmentBytes: 100 * 1024 * 1024 };
}

/** Java's `String.hashCode`: 31·h + UTF-16 code unit, in 32-bit two's complement. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/** Kafka's `GroupCoordinator.partitionFor` (with `Utils.abs`, which maps Integer.MIN_VALUE to 0). */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  const hash = javaStringHash(groupId);
  return (hash === -0x8000_0000 ? 0 : Math.abs(hash)) % partitions;
}
