/**
 * One consumer's membership of a group: it runs the member machine (`member-machine.ts`) and
 * carries out what the machine asks, over a `PartitionClient` — JoinGroup, SyncGroup, Heartbeat
 * and LeaveGroup requests to the group's coordinator, the leader's assignment (assignors and
 * Kafka's consumer protocol bytes), and handing partitions to and from the consumer
 * (`MembershipListener`), per the rebalance protocol:
 *
 * - eager: before every JoinGroup the member revokes everything it owns (committing first), and
 *   takes the whole new assignment after SyncGroup;
 * - cooperative (KIP-429, when every configured assignor is cooperative): the member keeps its
 *   partitions through the rebalance; after SyncGroup it revokes only those no longer assigned,
 *   and if there were any, rejoins at once so that a second rebalance can give them to their new
 *   owner (the assignor withholds a moving partition until its owner has let it go).
 *
 * Partitions are handed over one step at a time, in the order the machine asked (an assignment,
 * then the revocation of a rebalance that followed it...), on one promise chain; requests go out
 * as soon as they are asked for. Answers return to the machine as events; it decides.
 *
 * Offsets are committed through `commit`, with the member's id and generation, so that a commit
 * from a member that lost its partitions is refused by the coordinator (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID); such a refusal is passed to the machine, which rejoins.
 */
import { createActor, type ActorOptions, type AnyActorLogic } from 'xstate';
import { TributaryError, type ErrorCode } from '../errors.js';
import type { CommittedOffset, GroupRef, OffsetCommitEntry, PartitionRef, WorkerRequests } from '../runtime/messages.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import { assignorByName, type Assignor, type AssignorMember, type RebalanceProtocol, type TopicPartition } from './assignors/index.js';
import { tpKey } from './assignors/common.js';
import { CONSUMER_PROTOCOL_TYPE, decodeConsumerAssignment, decodeConsumerSubscription, encodeConsumerAssignment, encodeConsumerSubscription } from './consumer-protocol.js';
import { createMemberMachine, NO_GENERATION, type MemberCommand, type MemberEvent, type MemberState } from './member-machine.js';

export interface GroupMemberSettings {
  readonly groupId: string;
  /** Static membership (KIP-345); null for a dynamic member. */
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly sessionTimeout: number;
  readonly rebalanceTimeout: number;
  readonly heartbeatInterval: number;
  /** Wait before joining again after a retriable JoinGroup/SyncGroup failure. */
  readonly retryBackoffMs: number;
  /** In order of preference; the group picks one every member supports. */
  readonly assignors: readonly Assignor[];
}

/** The member id and generation a commit is made under. */
export interface Generation {
  readonly memberId: string;
  readonly generationId: number;
}

export interface GroupJoined extends Generation {
  readonly leaderId: string;
  readonly isLeader: boolean;
  readonly protocolName: string;
  /** The whole assignment of this generation. */
  readonly assigned: readonly TopicPartition[];
  /** From the first JoinGroup of the rebalance to the assignment being taken, ms. */
  readonly durationMs: number;
}

/** What the consumer does when partitions come and go. */
export interface MembershipListener {
  /** The topics to subscribe to in the next JoinGroup. */
  topics(): readonly string[];
  /**
   * Stop delivering these partitions; resolve once nothing is being delivered from them any more
   * and, unless `lost`, their positions are committed under `generation`.
   */
  revoke(partitions: readonly TopicPartition[], lost: boolean, generation: Generation): Promise<void>;
  /** Start consuming `added` (found from committed offsets); `assigned` is the whole assignment, `added` included. */
  assign(added: readonly TopicPartition[], assigned: readonly TopicPartition[], generation: Generation): Promise<void>;
  /** A rebalance completed and its assignment is taken. */
  joined(info: GroupJoined): void;
  /** The member learnt that the group rebalances. */
  rebalancing(generation: Generation): void;
  heartbeat(generation: Generation): void;
  /** The member was forced out of the group (fenced, or an error no retry fixes), or taking or giving up partitions failed. */
  failed(error: Error): void;
}

/** Error codes that are about the member's place in the group, which the machine reacts to. */
const GROUP_CODES: ReadonlySet<ErrorCode> = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

type Actor = ReturnType<typeof createActor<ReturnType<typeof createMemberMachine>>>;

const machine = createMemberMachine();

/** The rebalance protocol of a set of assignors: cooperative only if every one supports it, as Kafka's consumer decides. */
export function rebalanceProtocol(assignors: readonly Assignor[]): RebalanceProtocol {
  return assignors.every((assignor) => assignor.protocol === 'cooperative') ? 'cooperative' : 'eager';
}

export class GroupMember {
  readonly protocol: RebalanceProtocol;
  private readonly actor: Actor;
  private coordinatorRef: Promise<GroupRef> | null = null;
  private lastCommands: readonly MemberCommand[] = [];
  /** Partitions the member owns, by tpKey. */
  private readonly owned = new Map<string, TopicPartition>();
  /** Handing partitions over, one step after another. */
  private handover: Promise<void> = Promise.resolve();
  private rebalanceStartedAt: number | null = null;
  private lastJoin: { readonly leaderId: string; readonly protocolName: string } | null = null;
  private started = false;
  private leaving: Promise<void> | null = null;
  private resolveLeft!: () => void;
  private readonly left = new Promise<void>((resolve) => (this.resolveLeft = resolve));

  constructor(
    private readonly client: PartitionClient,
    private readonly settings: GroupMemberSettings,
    private readonly listener: MembershipListener,
    clock?: ActorOptions<AnyActorLogic>['clock'],
  ) {
    this.protocol = rebalanceProtocol(settings.assignors);
    this.actor = createActor(machine, {
      input: {
        groupInstanceId: settings.groupInstanceId,
        heartbeatIntervalMs: settings.heartbeatInterval,
        // tributary's coordinator holds heartbeats (see messages.ts): one always waiting there is how a member learns of a rebalance at once.
        heartbeatWaitMs: settings.heartbeatInterval,
        retryBackoffMs: settings.retryBackoffMs,
      },
      ...(clock === undefined ? {} : { clock }),
    });
    this.actor.subscribe((snapshot) => {
      const { commands } = snapshot.context;
      if (commands === this.lastCommands) return;
      this.lastCommands = commands;
      for (const command of commands) this.execute(command);
    });
  }

  get state(): MemberState {
    return this.actor.getSnapshot().value as MemberState;
  }

  /** The member's id and generation now; generationId is NO_GENERATION (-1) while it has none. */
  get generation(): Generation {
    const { memberId, generationId } = this.actor.getSnapshot().context;
    return { memberId, generationId };
  }

  /** The partitions the member owns now. */
  get assignment(): TopicPartition[] {
    return [...this.owned.values()];
  }

  /** Joins the group. */
  start(): void {
    this.started = true;
    this.actor.start();
    this.actor.send({ type: 'START' });
  }

  /** Asks for a new assignment (the subscription or the topics changed). */
  rejoin(): void {
    this.actor.send({ type: 'REJOIN' });
  }

  /**
   * Leaves the group: partitions are revoked (committing their positions), then a dynamic member
   * sends LeaveGroup. Resolves when that is done, or at once if the member was forced out before.
   */
  leave(): Promise<void> {
    this.leaving ??= (async () => {
      // A member never started, or whose actor was stopped without leaving, has nothing to hand over.
      if (this.started && this.actor.getSnapshot().status === 'active') {
        this.actor.send({ type: 'LEAVE' });
        await this.left;
      }
      await this.handover;
      this.actor.stop();
    })();
    return this.leaving;
  }

  /**
   * Commits offsets under `generation` (the member's current one by default). Without a
   * generation (the member is joining) this fails REBALANCE_IN_PROGRESS, as Kafka's consumer does.
   * A refusal that concerns the member's place in the group is passed to the machine.
   */
  async commit(offsets: readonly OffsetCommitEntry[], generation: Generation = this.generation): Promise<void> {
    if (generation.generationId === NO_GENERATION) {
      throw new TributaryError('REBALANCE_IN_PROGRESS', `group ${JSON.stringify(this.settings.groupId)} is rebalancing and this member has no generation yet; commit once it has joined`, {
        groupId: this.settings.groupId,
      });
    }
    try {
      await this.client.request('commitOffsets', {
        ...(await this.coordinator()),
        memberId: generation.memberId,
        groupInstanceId: this.settings.groupInstanceId,
        generationId: generation.generationId,
        offsets,
      });
    } catch (error) {
      this.coordinatorFailed(error);
      if (TributaryError.is(error) && GROUP_CODES.has(error.code) && this.actor.getSnapshot().status === 'active') {
        this.actor.send({ type: 'COMMIT_FAILED', memberId: generation.memberId, generationId: generation.generationId, code: error.code, message: error.message });
      }
      throw error;
    }
  }

  /** The group's committed offsets of these partitions (those without one are left out). */
  async committed(partitions: readonly PartitionRef[]): Promise<readonly CommittedOffset[]> {
    try {
      return await this.client.request('fetchOffsets', { ...(await this.coordinator()), partitions });
    } catch (error) {
      this.coordinatorFailed(error);
      throw error;
    }
  }

  // ---- commands ----

  private execute(command: MemberCommand): void {
    switch (command.kind) {
      case 'join':
        this.rebalanceStartedAt ??= Date.now();
        void this.request(command.seq, 'joinGroup', () => this.joinArgs(command.memberId), (result) => ({ type: 'JOINED', seq: command.seq, result }));
        return;
      case 'sync':
        this.lastJoin = { leaderId: command.join.leaderId, protocolName: command.join.protocolName };
        void this.request(
          command.seq,
          'syncGroup',
          () => ({
            memberId: command.memberId,
            groupInstanceId: this.settings.groupInstanceId,
            generationId: command.generationId,
            assignments: command.join.leaderId === command.memberId && !command.join.skipAssignment ? this.leaderAssignments(command.join.members, command.join.protocolName) : null,
          }),
          (result) => ({ type: 'SYNCED', seq: command.seq, assignment: result.assignment }),
        );
        return;
      case 'heartbeat': {
        const generation = { memberId: command.memberId, generationId: command.generationId };
        void this.request(
          command.seq,
          'heartbeat',
          () => ({ ...generation, groupInstanceId: this.settings.groupInstanceId, waitMs: this.settings.heartbeatInterval }),
          () => {
            this.listener.heartbeat(generation);
            return { type: 'HEARTBEAT_OK', seq: command.seq };
          },
        );
        return;
      }
      case 'assign':
        this.handOver(() => this.takeAssignment(command));
        return;
      case 'prepare':
        this.listener.rebalancing({ memberId: command.memberId, generationId: command.generationId });
        this.handOver(async () => {
          // Eager gives everything up before rejoining; cooperative keeps it unless it is lost.
          if (command.lost || this.protocol === 'eager') await this.giveUp(this.assignment, command.lost, command);
          this.send({ type: 'PREPARED', seq: command.seq });
        });
        return;
      case 'leave':
        this.handOver(async () => {
          await this.giveUp(this.assignment, command.lost, command);
          if (command.sendLeaveGroup) {
            // Best effort: a member that cannot reach its coordinator is expired by its session.
            await this.client
              .request('leaveGroup', { ...(await this.coordinator()), memberId: command.memberId, groupInstanceId: this.settings.groupInstanceId })
              .catch(() => undefined);
          }
          if (command.error !== null) this.listener.failed(new TributaryError(command.error.code, command.error.message, { groupId: this.settings.groupId }));
          this.resolveLeft();
        });
        return;
    }
  }

  /**
   * Sends one request of the machine's and answers the machine with the outcome. `args` is
   * evaluated now (it may read the assignment); a throw there fails the command like a refusal.
   */
  private async request<T extends 'joinGroup' | 'syncGroup' | 'heartbeat'>(
    seq: number,
    type: T,
    args: () => Omit<WorkerRequests[T]['args'], keyof GroupRef>,
    answer: (result: WorkerRequests[T]['result']) => MemberEvent,
  ): Promise<void> {
    let event: MemberEvent;
    try {
      const ref = await this.coordinator();
      const result = await this.client.request(type, { ...ref, ...args() } as WorkerRequests[T]['args']);
      event = answer(result);
    } catch (error) {
      this.coordinatorFailed(error);
      const failure = TributaryError.is(error)
        ? error
        : new TributaryError('INVALID_REQUEST', `group ${type} failed: ${error instanceof Error ? error.message : String(error)}`, { groupId: this.settings.groupId }, { cause: error });
      event = { type: 'FAILED', seq, code: failure.code, retriable: failure.retriable, message: failure.message };
    }
    this.send(event);
  }

  private joinArgs(memberId: string): Omit<WorkerRequests['joinGroup']['args'], keyof GroupRef> {
    const topics = this.listener.topics();
    const subscription = { topics, ownedPartitions: this.assignment, generation: this.generation.generationId };
    return {
      memberId,
      groupInstanceId: this.settings.groupInstanceId,
      clientId: this.settings.clientId,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocols: this.settings.assignors.map((assignor) => ({
        name: assignor.name,
        metadata: encodeConsumerSubscription({ ...subscription, userData: assignor.subscriptionUserData?.(topics) ?? null }),
      })),
      sessionTimeoutMs: this.settings.sessionTimeout,
      rebalanceTimeoutMs: this.settings.rebalanceTimeout,
    };
  }

  /** The leader's SyncGroup assignments: the chosen assignor over every member's subscription and the topics' partition counts now. */
  private leaderAssignments(members: WorkerRequests['joinGroup']['result']['members'], protocolName: string): Record<string, Uint8Array> {
    const subscriptions: AssignorMember[] = members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      ...decodeConsumerSubscription(member.metadata),
    }));
    const partitionsPerTopic: Record<string, number> = {};
    for (const topic of new Set(subscriptions.flatMap((member) => member.topics))) {
      try {
        partitionsPerTopic[topic] = this.client.topic(topic).partitions;
      } catch (error) {
        // A subscribed topic that does not exist (yet) gets no partitions, as in Kafka.
        if (!TributaryError.is(error, 'UNKNOWN_TOPIC_OR_PARTITION')) throw error;
      }
    }
    const assignment = assignorByName(protocolName, this.settings.assignors).assign({ members: subscriptions, partitionsPerTopic });
    return Object.fromEntries(subscriptions.map((member) => [member.memberId, encodeConsumerAssignment({ assignedPartitions: assignment.get(member.memberId) ?? [] })]));
  }

  private async takeAssignment(command: Extract<MemberCommand, { kind: 'assign' }>): Promise<void> {
    const generation = { memberId: command.memberId, generationId: command.generationId };
    const assigned = decodeConsumerAssignment(command.assignment).assignedPartitions;
    const keys = new Set(assigned.map(tpKey));
    const revoked = this.assignment.filter((tp) => !keys.has(tpKey(tp)));
    const added = assigned.filter((tp) => !this.owned.has(tpKey(tp)));
    if (revoked.length > 0) await this.giveUp(revoked, false, generation);
    for (const tp of added) this.owned.set(tpKey(tp), tp);
    await this.listener.assign(added, assigned, generation);
    const join = this.lastJoin!;
    this.listener.joined({
      ...generation,
      leaderId: join.leaderId,
      isLeader: join.leaderId === generation.memberId,
      protocolName: join.protocolName,
      assigned,
      durationMs: this.rebalanceStartedAt === null ? 0 : Date.now() - this.rebalanceStartedAt,
    });
    this.rebalanceStartedAt = null;
    // KIP-429: partitions given up here go to their new owner in a second rebalance, which this member starts.
    if (this.protocol === 'cooperative' && revoked.length > 0) this.send({ type: 'REJOIN' });
  }

  private async giveUp(partitions: readonly TopicPartition[], lost: boolean, generation: Generation): Promise<void> {
    if (partitions.length === 0) return;
    for (const tp of partitions) this.owned.delete(tpKey(tp));
    await this.listener.revoke(partitions, lost, { memberId: generation.memberId, generationId: generation.generationId });
  }

  private handOver(step: () => Promise<void>): void {
    this.handover = this.handover.then(step).catch((error: unknown) => {
      // Taking or giving up partitions failed (their committed offsets could not be read): the consumer must stop, and so leave.
      this.listener.failed(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private send(event: MemberEvent): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }

  private coordinator(): Promise<GroupRef> {
    if (this.coordinatorRef === null) {
      const ref = this.client.groupCoordinator(this.settings.groupId);
      this.coordinatorRef = ref;
      ref.catch(() => {
        if (this.coordinatorRef === ref) this.coordinatorRef = null;
      });
    }
    return this.coordinatorRef;
  }

  /** Kafka's markCoordinatorUnknown: the next request looks the coordinator up again. */
  private coordinatorFailed(error: unknown): void {
    if (TributaryError.is(error, 'COORDINATOR_NOT_AVAILABLE')) this.coordinatorRef = null;
  }
}
