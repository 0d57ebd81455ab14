/**
 * Partition assignors: pure functions from a group's members and the partition counts of the
 * topics they subscribe to, to which member consumes which partition.
 *
 * They run on the group leader, as in Kafka's client-side assignment (KIP-429's
 * `ConsumerPartitionAssignor`): the coordinator (issue 4) collects each member's subscription
 * (topics, owned partitions, generation), calls `assign`, and hands each member its list.
 *
 * `Assignment` is a `Map` keyed by memberId. Every member of the input has an entry, possibly an
 * empty array (a member subscribed to nothing assignable still gets an empty assignment, as in
 * Kafka). Each member's list is sorted by topic, then partition, so results compare with `toEqual`.
 */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface AssignorMember {
  readonly memberId: string;
  /** Static membership id (KIP-345, `group.instance.id`); range and round-robin sort by it first. */
  readonly groupInstanceId?: string | null;
  /** The topics this member subscribes to. */
  readonly topics: readonly string[];
  /** Partitions the member owns now (cooperative protocol); only the sticky assignor reads them. */
  readonly ownedPartitions?: readonly TopicPartition[];
  /** The generation in which `ownedPartitions` were assigned; absent = unknown (Kafka's -1). */
  readonly generation?: number;
  /** What the member's assignor put in its subscription (`Assignor.subscriptionUserData`); absent or null = nothing. */
  readonly userData?: Uint8Array | null;
}

export interface AssignorInput {
  readonly members: readonly AssignorMember[];
  /** Partition count of each topic that exists. Subscribed topics missing here are skipped, as in Kafka. */
  readonly partitionsPerTopic: Readonly<Record<string, number>>;
}

/** memberId -> partitions assigned to it in this rebalance. */
export type Assignment = Map<string, TopicPartition[]>;

export type RebalanceProtocol = 'eager' | 'cooperative';

/** A partition assignor; custom ones implement this and register by `name`. */
export interface Assignor {
  /** The protocol name members advertise (Kafka's `partition.assignment.strategy` name). */
  readonly name: string;
  /**
   * `eager`: members revoke everything before rejoining. `cooperative` (KIP-429): members keep
   * their partitions; the assignment never hands a partition to a member while another still owns
   * it, so a move takes two rebalances (revoke, then assign).
   */
  readonly protocol: RebalanceProtocol;
  assign(input: AssignorInput): Assignment;
  /**
   * The bytes a member sends in its subscription for this assignor, which the leader's `assign`
   * sees as the member's `userData` (Kafka's `ConsumerPartitionAssignor.subscriptionUserData`):
   * what the assignor must know of each member, such as where it runs. Default none.
   */
  subscriptionUserData?(topics: readonly string[]): Uint8Array | null;
}
