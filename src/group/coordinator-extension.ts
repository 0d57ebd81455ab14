/**
 * Hosts group coordinators on the worker threads: one `GroupCoordinator` beside each
 * `__consumer_offsets` partition the thread owns, as a Kafka broker coordinates the groups of the
 * offsets partitions it leads. The partition host routes group requests here with the partition
 * their `GroupRef` names; this class rebuilds a coordinator from its partition's records when the
 * partition opens (also on a replacement thread after a crash) and appends its records to it.
 */
import { TributaryError } from '../errors.js';
import type { ExtensionOutcome, HostExtension, HostedPartition } from '../partition/partition-host.js';
import { decodeRecordBatches, encodeRecordBatch } from '../record/index.js';
import type { PartitionRef, RequestType } from '../runtime/messages.js';
import { OFFSETS_TOPIC } from '../runtime/offsets-topic.js';
import { GROUP_REQUEST_TYPES, GroupCoordinator, type GroupCoordinatorOptions, type GroupRequestType } from './group-coordinator.js';

/** How much of the partition one replay read takes. */
const REPLAY_READ_BYTES = 1024 * 1024;

export class GroupCoordinatorExtension implements HostExtension {
  readonly requestTypes = GROUP_REQUEST_TYPES as ReadonlySet<RequestType>;
  private readonly coordinators = new Map<number, GroupCoordinator>();

  constructor(private readonly options: GroupCoordinatorOptions = {}) {}

  partitionOpened(partition: HostedPartition): void {
    if (partition.topic !== OFFSETS_TOPIC) return;
    this.coordinators.get(partition.partition)?.close();
    const coordinator = new GroupCoordinator(
      {
        append: (records) => {
          partition.append(encodeRecordBatch(records.map((record) => ({ key: Buffer.from(record.key), value: record.value === null ? null : Buffer.from(record.value) }))));
        },
      },
      this.options,
    );
    replay(partition, coordinator);
    this.coordinators.set(partition.partition, coordinator);
  }

  partitionClosed(ref: PartitionRef): void {
    if (ref.topic !== OFFSETS_TOPIC) return;
    this.coordinators.get(ref.partition)?.close();
    this.coordinators.delete(ref.partition);
  }

  handle(type: RequestType, args: unknown, partition: HostedPartition | null, reply: (outcome: ExtensionOutcome) => void): void {
    const coordinator = partition?.topic === OFFSETS_TOPIC ? this.coordinators.get(partition.partition) : undefined;
    if (coordinator === undefined) {
      const where = partition === null ? 'no partition' : `${partition.topic}/${partition.partition}`;
      reply({
        ok: false,
        error: new TributaryError('INVALID_REQUEST', `${type} must be sent to a ${OFFSETS_TOPIC} partition, not ${where}`, { topic: partition?.topic, partition: partition?.partition }),
      });
      return;
    }
    coordinator.handle(type as GroupRequestType, args as never, reply);
  }

  close(): void {
    for (const coordinator of this.coordinators.values()) coordinator.close();
    this.coordinators.clear();
  }
}

/** Feeds every record of the partition, in offset order, to the coordinator. */
function replay(partition: HostedPartition, coordinator: GroupCoordinator): void {
  const { logStartOffset, logEndOffset } = partition.state;
  let offset = logStartOffset;
  while (offset < logEndOffset) {
    const { bytes, nextOffset } = partition.read(offset, REPLAY_READ_BYTES);
    for (const batch of decodeRecordBatches(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
      if (batch.isControl) continue;
      for (const record of batch.records) {
        // The first batch may start before `offset`; records without a key are not the coordinator's.
        if (record.offset < offset || record.key === null) continue;
        coordinator.replay(record.key, record.value);
      }
    }
    offset = nextOffset;
  }
}
