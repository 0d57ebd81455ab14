/**
 * Everything one worker thread hosts: its partitions (`topic/partition` → PartitionActor), the
 * dispatch of the runtime's requests to them, and the outbox that implements group commit (see
 * partition-actor.ts for what an answered append guarantees).
 *
 * It holds no thread code: answers leave through the `post` function it is given, so it runs the
 * same in a worker thread and in a test.
 *
 * Answers are posted in the order their requests finished. While any partition has appends not
 * yet committed, every answer waits in the outbox; one `setImmediate` per turn of the event loop
 * commits those partitions and then posts the outbox. With nothing uncommitted, an answer is
 * posted at once.
 */
import { TributaryError } from '../errors.js';
import {
  type AppendResponse,
  type FetchResponse,
  type PartitionRef,
  type PartitionState,
  type RequestType,
  type WorkerRequest,
  type WorkerRequests,
  type WorkerResponse,
} from '../runtime/messages.js';
import { PartitionActor, type FetchOutcome, type PartitionActorOptions } from './partition-actor.js';

export type PostResponse = (response: WorkerResponse, transfer: ArrayBuffer[]) => void;

/** One partition as an extension sees it: read its batches, append batches of its own. */
export interface HostedPartition extends PartitionRef {
  /** Whole batches from `offset` (see PartitionActor.read). */
  read(offset: number, maxBytes: number): FetchResponse;
  /** Appends one batch; like a client's append, answers that depend on it leave after this turn's commit. */
  append(batch: Uint8Array): AppendResponse;
  readonly state: PartitionState;
}

export type ExtensionOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * A service living on a host's thread and answering requests of its own types: the group
 * coordinator beside its `__consumer_offsets` partitions, stream tasks beside their input
 * partitions. The host only routes: a request of one of `requestTypes` goes to the extension,
 * with the partition its args name if they name one (which must be open here), else null.
 */
export interface HostExtension {
  readonly requestTypes: ReadonlySet<RequestType>;
  /** After a partition opens on this host (also when it is reopened on a replacement thread), before any request for it. */
  partitionOpened(partition: HostedPartition): void;
  /** Before a partition closes. */
  partitionClosed(partition: PartitionRef): void;
  /** Serves one request; `reply` may be called later (a long poll), exactly once. */
  handle(type: RequestType, args: unknown, partition: HostedPartition | null, reply: (outcome: ExtensionOutcome) => void): void;
  close(): void;
}

export interface PartitionHostOptions extends PartitionActorOptions {
  readonly extensions?: readonly HostExtension[];
}

/** A request whose `type` selects its `args`, so a switch on `type` narrows them. */
type AnyWorkerRequest = { [T in RequestType]: WorkerRequest<T> }[RequestType];

interface Outgoing {
  readonly response: WorkerResponse;
  readonly transfer: ArrayBuffer[];
  /** The partition whose commit this answer waits for, if it concerns one. */
  readonly actor: PartitionActor | null;
}

export class PartitionHost {
  private readonly actors = new Map<string, PartitionActor>();
  /**
   * Partitions appended to since their last commit, each once. An array, not a Set emptied every
   * turn: see id-table.ts for what V8 keeps of a Set's replaced tables. A turn appends to a few of
   * the thread's partitions, so the search for one already listed is short.
   */
  private uncommitted: PartitionActor[] = [];
  private readonly outbox: Outgoing[] = [];
  private drain: NodeJS.Immediate | null = null;
  private closed = false;
  private readonly extensionFor = new Map<RequestType, HostExtension>();

  constructor(
    private readonly post: PostResponse,
    private readonly options: PartitionHostOptions = {},
  ) {
    for (const extension of options.extensions ?? []) for (const type of extension.requestTypes) this.extensionFor.set(type, extension);
  }

  /** Partitions open here. */
  get size(): number {
    return this.actors.size;
  }

  /** Handles one request; its answer (a failure too) is posted now or after this turn's commit, not thrown. */
  handle(message: WorkerRequest): void {
    const request = message as AnyWorkerRequest;
    try {
      if (this.closed) throw new TributaryError('CLOSED', `the partition host is closed; request ${request.type} not handled`, { type: request.type });
      this.dispatch(request);
    } catch (error) {
      this.fail(request.id, error, null);
    }
  }

  /**
   * Closes every partition (answering their parked fetches and writing and fdatasyncing their
   * logs), then posts every queued answer. Every partition is closed even if one fails; the first
   * failure is thrown afterwards. Later requests are answered CLOSED.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.drain !== null) clearImmediate(this.drain);
    this.drain = null;
    for (const extension of this.options.extensions ?? []) extension.close();
    // Closing a log writes and fdatasyncs it, which commits whatever the queued answers wait for.
    let failure: unknown = null;
    for (const actor of this.actors.values()) {
      try {
        actor.close(false);
      } catch (error) {
        failure ??= error;
        this.rewriteQueued(actor, toTributaryError(error));
      }
    }
    this.actors.clear();
    this.uncommitted = [];
    for (const { response, transfer } of this.outbox.splice(0)) this.post(response, transfer);
    if (failure !== null) throw failure;
  }

  private dispatch(request: AnyWorkerRequest): void {
    const { id } = request;
    const extension = this.extensionFor.get(request.type);
    if (extension !== undefined) {
      const named = typeof (request.args as Partial<PartitionRef>).topic === 'string';
      const actor = named ? this.actorFor(request.args as PartitionRef) : null;
      extension.handle(request.type, request.args, actor === null ? null : this.hosted(actor), (outcome) => {
        if (outcome.ok) this.respond({ id, ok: true, result: outcome.result as never }, [], actor);
        else this.fail(id, outcome.error, actor);
      });
      return;
    }
    switch (request.type) {
      case 'openPartition': {
        const { args } = request;
        const key = keyOf(args);
        let actor = this.actors.get(key);
        if (actor === undefined) {
          actor = PartitionActor.open(args, args.dir, args.config, this.options);
          this.actors.set(key, actor);
          try {
            for (const extension of this.options.extensions ?? []) extension.partitionOpened(this.hosted(actor));
          } catch (error) {
            this.actors.delete(key);
            actor.close(false);
            throw error;
          }
        } else if (actor.dir !== args.dir) {
          throw new TributaryError('INVALID_REQUEST', `partition ${key} is already open from ${actor.dir}, not ${args.dir}`, { dir: args.dir, openDir: actor.dir });
        }
        this.succeed(id, actor.state, actor);
        return;
      }
      case 'closePartition': {
        const { args } = request;
        const actor = this.actorFor(args);
        for (const extension of this.options.extensions ?? []) extension.partitionClosed(args);
        this.actors.delete(keyOf(args));
        this.uncommitted = this.uncommitted.filter((uncommitted) => uncommitted !== actor);
        try {
          actor.close(args.deleteFiles);
        } catch (error) {
          this.rewriteQueued(actor, toTributaryError(error));
          throw error;
        }
        this.succeed(id, null, actor);
        return;
      }
      case 'append': {
        const { args } = request;
        const actor = this.actorFor(args);
        this.succeed(id, this.appendTo(actor, args.batch, args.logAppendTime), actor);
        return;
      }
      case 'fetch': {
        const { args } = request;
        const actor = this.actorFor(args);
        actor.fetch(args, (outcome: FetchOutcome) => {
          if (!outcome.ok) {
            this.fail(id, outcome.error, actor);
            return;
          }
          // A log read is the only view of its ArrayBuffer (see Log.read): the whole ArrayBuffer is
          // transferred, and the view's offset and length travel with it, instead of a copy.
          this.respond({ id, ok: true, result: outcome.result }, [outcome.result.bytes.buffer as ArrayBuffer], actor);
        });
        return;
      }
      case 'listOffsets': {
        const actor = this.actorFor(request.args);
        this.succeed(id, actor.listOffsets(request.args.spec), actor);
        return;
      }
      case 'deleteRecords': {
        const actor = this.actorFor(request.args);
        this.succeed(id, { logStartOffset: actor.deleteRecords(request.args.beforeOffset) }, actor);
        return;
      }
      case 'describePartition': {
        const actor = this.actorFor(request.args);
        this.succeed(id, actor.state, actor);
        return;
      }
      case 'applyRetention': {
        const { now } = request.args;
        let deletedSegments = 0;
        this.forEachActor((actor) => {
          deletedSegments += actor.applyRetention(now);
        });
        this.succeed(id, { deletedSegments }, null);
        return;
      }
      case 'flush': {
        this.forEachActor((actor) => actor.flush());
        this.succeed(id, null, null);
        return;
      }
      default: {
        // An unknown type, or one served by an extension this host was not given (groups on a bare host).
        const { type } = request as { type: unknown };
        throw new TributaryError('INVALID_REQUEST', `no handler on this worker for request type ${JSON.stringify(type)}`, { type });
      }
    }
  }

  private appendTo(actor: PartitionActor, batch: Uint8Array, logAppendTime: boolean): AppendResponse {
    const result = actor.append(batch, logAppendTime);
    if (!this.uncommitted.includes(actor)) this.uncommitted.push(actor);
    this.scheduleDrain();
    return result;
  }

  private hosted(actor: PartitionActor): HostedPartition {
    return {
      topic: actor.topic,
      partition: actor.partition,
      read: (offset, maxBytes) => actor.read(offset, maxBytes),
      append: (batch) => this.appendTo(actor, batch, false),
      get state() {
        return actor.state;
      },
    };
  }

  /** Runs `step` on every partition, so one failed log does not stop the others; throws the first failure afterwards. */
  private forEachActor(step: (actor: PartitionActor) => void): void {
    let failure: unknown = null;
    for (const actor of this.actors.values()) {
      try {
        step(actor);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
  }

  private actorFor(ref: PartitionRef): PartitionActor {
    const actor = this.actors.get(keyOf(ref));
    if (actor === undefined) {
      throw new TributaryError('PARTITION_UNAVAILABLE', `partition ${ref.topic}/${ref.partition} is not open on this worker`, { topic: ref.topic, partition: ref.partition });
    }
    return actor;
  }

  private succeed(id: number, result: WorkerRequests[RequestType]['result'], actor: PartitionActor | null): void {
    this.respond({ id, ok: true, result }, [], actor);
  }

  private fail(id: number, error: unknown, actor: PartitionActor | null): void {
    this.respond({ id, ok: false, error: toTributaryError(error).toJSON() }, [], actor);
  }

  private respond(response: WorkerResponse, transfer: ArrayBuffer[], actor: PartitionActor | null): void {
    if (this.outbox.length === 0 && this.uncommitted.length === 0) {
      this.post(response, transfer);
      return;
    }
    this.outbox.push({ response, transfer, actor });
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.closed) return;
    this.drain ??= setImmediate(() => this.commitAndPost());
  }

  private commitAndPost(): void {
    this.drain = null;
    const actors = this.uncommitted;
    this.uncommitted = [];
    for (const actor of actors) {
      try {
        actor.commit();
      } catch (error) {
        this.rewriteQueued(actor, toTributaryError(error));
      }
    }
    for (const { response, transfer } of this.outbox.splice(0)) this.post(response, transfer);
  }

  /** The partition's queued successes did not reach the file: answer them with the error instead. */
  private rewriteQueued(actor: PartitionActor, error: TributaryError): void {
    const json = error.toJSON();
    for (let i = 0; i < this.outbox.length; i++) {
      const { response } = this.outbox[i];
      if (this.outbox[i].actor === actor && response.ok) this.outbox[i] = { response: { id: response.id, ok: false, error: json }, transfer: [], actor };
    }
  }
}

function keyOf(ref: PartitionRef): string {
  return `${ref.topic}/${ref.partition}`;
}

/** Errors cross the thread as TributaryErrors; anything else escaping the log is a storage failure. */
function toTributaryError(error: unknown): TributaryError {
  if (TributaryError.is(error)) return error;
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  return new TributaryError('STORAGE_ERROR', `partition worker failed: ${name}: ${message}`, { cause: name }, { cause: error });
}
