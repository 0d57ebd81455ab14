/**
 * The one message contract between the runtime (main thread) and its partition worker threads.
 *
 * Every request carries an `id`; the worker answers each with exactly one response of the same id,
 * in the order it finished handling them. Per partition, requests are handled in the order sent:
 * a worker handles its port's messages one at a time, and a partition lives on exactly one worker.
 *
 * Batches cross as bytes, never as records: an `append` carries one RecordBatch v2 (encoded,
 * compressed and checksummed by the producer on its own thread), a `fetch` answer carries whole
 * batches that the consumer decodes on its own thread. Byte payloads are `Uint8Array`s whose
 * ArrayBuffer is transferred when the sender owns it outright (see `transferListFor`).
 *
 * Errors cross as `SerializedTributaryError` and are revived with `TributaryError.fromJSON`.
 */
import type { SerializedTributaryError } from '../errors.js';
import type { MessagePort } from 'node:worker_threads';
import type { LogConfig } from '../log/index.js';
import type { CompressionName } from '../record/index.js';

/** Kafka's acks: 0 = no answer awaited, 1 = appended by the partition, -1 = durable per the topic's fsync policy. */
export type Acks = 0 | 1 | -1;

export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** Which offset `listOffsets` finds: Kafka's ListOffsets earliest (-2), latest (-1), or the first offset at or after a timestamp. */
export type OffsetSpec = 'earliest' | 'latest' | { readonly timestamp: number };

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly logStartOffset: number;
  /** Next offset to be assigned; with no replication, also the high watermark. */
  readonly logEndOffset: number;
  readonly sizeBytes: number;
  readonly segments: number;
}

export interface AppendResponse {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly logStartOffset: number;
  /** Set when the topic stamps LogAppendTime. */
  readonly logAppendTime?: number;
  /** True when the batch was a retry of one already appended: the offsets are the original ones. */
  readonly duplicate: boolean;
}

export interface FetchResponse {
  /** Whole, CRC-verified batches; the first may start before the requested offset (as in Kafka). */
  readonly bytes: Uint8Array;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Offset after the last returned batch; the requested offset when nothing was returned. */
  readonly nextOffset: number;
}

export interface ListOffsetsResponse {
  /** -1 when no record has a timestamp at or after the one asked for (Kafka's answer). */
  readonly offset: number;
  readonly timestamp: number;
}

/**
 * Where a group's coordinator lives: the partition of the internal `__consumer_offsets` topic that
 * the group id hashes to (Kafka's `partitionFor`, see `PartitionClient.groupCoordinator`). Group
 * requests are routed like any partition request, to the thread owning that partition; the
 * coordinator keeps the group's commits and membership as records in it.
 */
export interface GroupRef extends PartitionRef {
  readonly groupId: string;
}

/** One assignor a member supports, with its opaque subscription metadata (Kafka JoinGroup `protocols`). */
export interface GroupProtocol {
  readonly name: string;
  readonly metadata: Uint8Array;
}

/** A member as the leader sees it in the JoinGroup answer: its metadata for the chosen protocol. */
export interface JoinGroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Uint8Array;
}

export interface JoinGroupResult {
  /** The member's id: assigned by the coordinator when the request carried ''. */
  readonly memberId: string;
  readonly generationId: number;
  readonly protocolName: string;
  readonly leaderId: string;
  /** Every member with its metadata: for the leader only; empty for followers. */
  readonly members: readonly JoinGroupMember[];
  /** KIP-814: a static leader rejoining a Stable group must not compute a new assignment. */
  readonly skipAssignment: boolean;
}

/** One partition's offset in an OffsetCommit. `offset` is the next offset to consume, as in Kafka. */
export interface OffsetCommitEntry extends PartitionRef {
  readonly offset: number;
  /** Free text kept with the offset (Kafka `committed_metadata`); null is stored as ''. */
  readonly metadata?: string | null;
}

export interface CommittedOffset extends PartitionRef {
  readonly offset: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
}

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  /** The member's metadata for the group's protocol (for consumers: ConsumerProtocolSubscription bytes). */
  readonly memberMetadata: Uint8Array;
  /** The member's current assignment (for consumers: ConsumerProtocolAssignment bytes); empty while rebalancing. */
  readonly memberAssignment: Uint8Array;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: GroupStateName;
  /** 'consumer' for consumer groups; '' for a group that only has committed offsets. */
  readonly protocolType: string;
  /** The chosen assignor; '' outside Stable / CompletingRebalance. */
  readonly protocol: string;
  readonly generationId: number;
  readonly leaderId: string | null;
  readonly members: readonly GroupMemberDescription[];
}

export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: GroupStateName;
}

/**
 * Request kinds: the arguments each takes and the result each answers with.
 * `openPartition` is idempotent; a partition answers PARTITION_UNAVAILABLE until opened.
 */
export interface WorkerRequests {
  openPartition: {
    args: PartitionRef & { readonly dir: string; readonly config: Partial<LogConfig> };
    result: PartitionState;
  };
  closePartition: {
    args: PartitionRef & { readonly deleteFiles: boolean };
    result: null;
  };
  append: {
    args: PartitionRef & { readonly batch: Uint8Array; readonly acks: Acks; readonly logAppendTime: boolean };
    result: AppendResponse;
  };
  fetch: {
    args: PartitionRef & {
      readonly offset: number;
      readonly maxBytes: number;
      /** Long-poll: wait up to this long for data when the offset is at the log end. */
      readonly maxWaitMs: number;
      /** Answer as soon as this many bytes are available (Kafka `fetch.min.bytes`). */
      readonly minBytes: number;
    };
    result: FetchResponse;
  };
  listOffsets: {
    args: PartitionRef & { readonly spec: OffsetSpec };
    result: ListOffsetsResponse;
  };
  deleteRecords: {
    args: PartitionRef & { readonly beforeOffset: number };
    result: { readonly logStartOffset: number };
  };
  describePartition: {
    args: PartitionRef;
    result: PartitionState;
  };
  /**
   * Kafka JoinGroup: answered when the rebalance this join takes part in completes (a long poll,
   * bounded by the group's rebalance timeout). A new member sends memberId ''.
   */
  joinGroup: {
    args: GroupRef & {
      readonly memberId: string;
      readonly groupInstanceId: string | null;
      readonly clientId: string;
      readonly protocolType: string;
      readonly protocols: readonly GroupProtocol[];
      readonly sessionTimeoutMs: number;
      readonly rebalanceTimeoutMs: number;
    };
    result: JoinGroupResult;
  };
  /** Kafka SyncGroup: the leader sends every member's assignment; each member gets its own (a follower waits for the leader's). */
  syncGroup: {
    args: GroupRef & {
      readonly memberId: string;
      readonly groupInstanceId: string | null;
      readonly generationId: number;
      /** memberId → assignment bytes; only the leader's are used. */
      readonly assignments: Readonly<Record<string, Uint8Array>> | null;
    };
    result: { readonly assignment: Uint8Array };
  };
  /**
   * Kafka Heartbeat: fails REBALANCE_IN_PROGRESS when the member must rejoin. With `waitMs`
   * (tributary's extension; Kafka answers at once) a successful heartbeat is answered after up to
   * `waitMs`, or as soon as the group's state or generation changes, with what a heartbeat would
   * get then: a member keeping one heartbeat waiting learns of a rebalance immediately.
   */
  heartbeat: {
    args: GroupRef & { readonly memberId: string; readonly groupInstanceId: string | null; readonly generationId: number; readonly waitMs?: number };
    result: null;
  };
  leaveGroup: {
    args: GroupRef & { readonly memberId: string; readonly groupInstanceId: string | null };
    result: null;
  };
  /**
   * Kafka OffsetCommit. A member commits with its memberId and generation (checked as Kafka
   * does: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS). generationId -1 with
   * memberId '' is a commit from outside the group (admin, `assign()` consumers), accepted only
   * while the group has no members. Answered once the commit records are in the log.
   */
  commitOffsets: {
    args: GroupRef & {
      readonly memberId: string;
      readonly groupInstanceId: string | null;
      readonly generationId: number;
      readonly offsets: readonly OffsetCommitEntry[];
    };
    result: null;
  };
  /** Kafka OffsetFetch: the committed offsets of the named partitions (those without one are left out), or of all when `partitions` is null. */
  fetchOffsets: {
    args: GroupRef & { readonly partitions: readonly PartitionRef[] | null };
    result: readonly CommittedOffset[];
  };
  /** Kafka DescribeGroups for one group; an unknown group is described as Dead with no members, as Kafka does. */
  describeGroup: {
    args: GroupRef;
    result: GroupDescription;
  };
  /** Kafka ListGroups, for the groups coordinated by one `__consumer_offsets` partition. */
  listGroups: {
    args: PartitionRef;
    result: readonly GroupListing[];
  };
  /** Kafka DeleteGroups: removes the group and its committed offsets; NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND if unknown. */
  deleteGroup: {
    args: GroupRef;
    result: null;
  };
  /**
   * Starts a task on the worker thread: the function `exportName` of the module at `moduleUrl`,
   * called with a ThreadTaskContext carrying `input`. Answered once the task has started; its end
   * is reported by a `taskEnded` uplink call.
   */
  startTask: {
    /**
     * `metadataVersion`: the runtime's metadata version when the task was (re)started. The task
     * runs once the thread's client has metadata at least that new: snapshots travel on the
     * uplink, this request on the thread's port, and a topic created just before the task starts
     * must be known to it.
     */
    args: { readonly taskId: string; readonly moduleUrl: string; readonly exportName: string; readonly input: unknown; readonly metadataVersion: number };
    result: null;
  };
  /** Aborts a task's signal and answers once the task has ended (at once for a task not running here). */
  stopTask: {
    args: { readonly taskId: string };
    result: null;
  };
  /** Applies time and size retention to every partition of the worker. */
  applyRetention: {
    args: { readonly now: number };
    result: { readonly deletedSegments: number };
  };
  /** Writes and fsyncs every partition of the worker. */
  flush: {
    args: Record<string, never>;
    result: null;
  };
}

export type RequestType = keyof WorkerRequests;

export interface WorkerRequest<T extends RequestType = RequestType> {
  readonly id: number;
  readonly type: T;
  readonly args: WorkerRequests[T]['args'];
}

export type WorkerResponse<T extends RequestType = RequestType> =
  | { readonly id: number; readonly ok: true; readonly result: WorkerRequests[T]['result'] }
  | { readonly id: number; readonly ok: false; readonly error: SerializedTributaryError };

/**
 * The first message a host posts on its port, before it answers anything: proof that its thread
 * runs and serves the port. The slot waits for it (up to its request timeout) before it opens
 * partitions, so a slow log recovery is never mistaken for a thread that never started.
 */
export interface HostReady {
  readonly ready: true;
}

/** What the runtime hands a worker thread when it starts hosting partitions on it. */
export interface WorkerHostTask {
  /** The thread's slot number, 0..threads-1: placement assigns partitions to slots. */
  readonly slot: number;
  /** The runtime's end of this port receives responses; requests arrive on this end. */
  readonly port: MessagePort;
  /**
   * The thread's own client calls to the runtime (`ThreadClient`): code running on the thread
   * (stream tasks, their producers and consumers) sends `UplinkCall`s here and gets
   * `UplinkAnswer`s; the runtime also pushes `MetadataSnapshot`s on it.
   */
  readonly uplink: MessagePort;
}

/** A topic as a worker thread's client sees it: its metadata and the slot hosting each partition. */
export interface ThreadTopic {
  readonly name: string;
  readonly partitions: number;
  readonly compression: CompressionName | 'producer';
  readonly timestampType: 'create' | 'log-append';
  /** `slots[p]`: the thread slot hosting partition p. */
  readonly slots: readonly number[];
}

/** Every topic, pushed to each thread when it starts and after every metadata change. */
export interface MetadataSnapshot {
  /** Counts the runtime's metadata changes: a later snapshot has a higher version. */
  readonly version: number;
  readonly metadata: readonly ThreadTopic[];
}

/** Client request types a thread may send up: everything a PartitionClient sends except the runtime's own housekeeping. */
export type ClientRequestType = Exclude<RequestType, 'applyRetention' | 'flush' | 'openPartition' | 'closePartition' | 'startTask' | 'stopTask'>;

/** A client call from a worker thread to the runtime, answered by an `UplinkAnswer` of the same id. */
export type UplinkCall =
  | { readonly id: number; readonly kind: 'request'; readonly type: ClientRequestType; readonly args: unknown }
  | { readonly id: number; readonly kind: 'initProducerId' }
  | { readonly id: number; readonly kind: 'groupCoordinator'; readonly groupId: string }
  /** A thread task has ended, by itself or stopped; `error` when it failed. */
  | { readonly id: number; readonly kind: 'taskEnded'; readonly taskId: string; readonly error: SerializedTributaryError | null };

export type UplinkAnswer =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedTributaryError };

/**
 * The ArrayBuffers of `bytes` that can be transferred instead of copied: only one that the view
 * covers entirely, since a Buffer from Node's shared pool (small allocations) shares its
 * ArrayBuffer with unrelated Buffers, which a transfer would detach.
 */
export function transferListFor(bytes: Uint8Array): ArrayBuffer[] {
  const buffer = bytes.buffer;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return [buffer];
  return [];
}
