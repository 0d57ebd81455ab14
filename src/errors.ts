/**
 * The one error family of tributary.
 *
 * Every failure that a caller can act on is a `TributaryError` with a stable `code`. Codes never
 * change meaning once released; callers switch on `code`, never on `message`. Each code carries
 * whether a retry can succeed and the Kafka protocol error it maps to, so the wire-protocol edge
 * and the clients agree on semantics without a second table.
 *
 * Errors cross worker threads as plain objects (structured clone drops prototypes), so they go
 * through `toJSON()` / `TributaryError.fromJSON()` at every thread boundary.
 */

interface CodeInfo {
  /** A retry of the same request may succeed (Kafka's RetriableException). */
  readonly retriable: boolean;
  /** The Kafka protocol error code this maps to (see Kafka's `Errors` enum). */
  readonly kafkaCode: number;
}

const CODES = {
  /** A record batch failed its length, magic or CRC32C check. */
  CORRUPT_BATCH: { retriable: true, kafkaCode: 2 },
  /** A log segment holds corrupt bytes that are not a torn tail, so it cannot be recovered by truncation. */
  CORRUPT_LOG: { retriable: false, kafkaCode: 56 },
  /** A fetch or seek named an offset outside [logStartOffset, logEndOffset]. */
  OFFSET_OUT_OF_RANGE: { retriable: false, kafkaCode: 1 },
  /** A configuration value is missing, of the wrong type, out of range, or unknown. */
  INVALID_CONFIG: { retriable: false, kafkaCode: 40 },
  /** A topic name breaks Kafka's naming rules. */
  INVALID_TOPIC: { retriable: false, kafkaCode: 17 },
  /** A record or batch is malformed in a way no retry fixes (bad varint, bad attributes...). */
  INVALID_RECORD: { retriable: false, kafkaCode: 87 },
  /** The batch names a compression codec that does not exist. */
  UNSUPPORTED_COMPRESSION: { retriable: false, kafkaCode: 76 },
  /** A batch is larger than the log accepts in one append. */
  RECORD_TOO_LARGE: { retriable: false, kafkaCode: 10 },
  /** The log, or the object owning it, was closed while the call was in flight. */
  LOG_CLOSED: { retriable: true, kafkaCode: 56 },
  /** A file-system operation failed (disk full, permissions...). */
  STORAGE_ERROR: { retriable: true, kafkaCode: 56 },
  /** A partition count is below 1 (Kafka INVALID_PARTITIONS). */
  INVALID_PARTITIONS: { retriable: false, kafkaCode: 37 },
  /**
   * The data directory is held by another runtime, in this process or another. Kafka has no
   * equivalent (its broker fails to start), so it maps to KAFKA_STORAGE_ERROR.
   */
  DIR_LOCKED: { retriable: false, kafkaCode: 56 },
  /** An argument of a call is malformed (a negative size, a fractional offset...); the same call never succeeds (Kafka INVALID_REQUEST). */
  INVALID_REQUEST: { retriable: false, kafkaCode: 42 },
  /** The topic or partition does not exist (Kafka UNKNOWN_TOPIC_OR_PARTITION). Retriable as in Kafka: it may be being created. */
  UNKNOWN_TOPIC_OR_PARTITION: { retriable: true, kafkaCode: 3 },
  /** createTopic named a topic that exists, or one whose name collides with it ('.' vs '_'). */
  TOPIC_ALREADY_EXISTS: { retriable: false, kafkaCode: 36 },
  /**
   * The partition's owning thread is gone or restarting (a worker crashed); the request did not
   * complete and can be retried once the partition is reopened (Kafka NOT_LEADER_OR_FOLLOWER).
   */
  PARTITION_UNAVAILABLE: { retriable: true, kafkaCode: 6 },
  /** A request got no answer within its timeout (Kafka REQUEST_TIMED_OUT). */
  REQUEST_TIMED_OUT: { retriable: true, kafkaCode: 7 },
  /** An idempotent producer's batch skipped sequence numbers (Kafka OUT_OF_ORDER_SEQUENCE_NUMBER). */
  OUT_OF_ORDER_SEQUENCE: { retriable: false, kafkaCode: 45 },
  /** A producer with an older epoch was fenced by a newer one with the same id (Kafka INVALID_PRODUCER_EPOCH). */
  INVALID_PRODUCER_EPOCH: { retriable: false, kafkaCode: 47 },
  /** The partition holds no state for this producer id, e.g. after its records were deleted (Kafka UNKNOWN_PRODUCER_ID). */
  UNKNOWN_PRODUCER_ID: { retriable: false, kafkaCode: 59 },
  /** The member id is not (or no longer) a member of the group, e.g. after its session expired (Kafka UNKNOWN_MEMBER_ID). The member rejoins with an empty id. */
  UNKNOWN_MEMBER_ID: { retriable: false, kafkaCode: 25 },
  /** The request named a group generation other than the current one (Kafka ILLEGAL_GENERATION); the member rejoins. */
  ILLEGAL_GENERATION: { retriable: false, kafkaCode: 22 },
  /** The group is rebalancing; the member must rejoin (Kafka REBALANCE_IN_PROGRESS). */
  REBALANCE_IN_PROGRESS: { retriable: false, kafkaCode: 27 },
  /** Another member with the same static group.instance.id replaced this one (Kafka FENCED_INSTANCE_ID, KIP-345). */
  FENCED_INSTANCE_ID: { retriable: false, kafkaCode: 82 },
  /** The group is dead (deleted or unloaded); find the coordinator again and retry (Kafka COORDINATOR_NOT_AVAILABLE). */
  COORDINATOR_NOT_AVAILABLE: { retriable: true, kafkaCode: 15 },
  /** The member's protocol type or assignors share nothing with the group's (Kafka INCONSISTENT_GROUP_PROTOCOL). */
  INCONSISTENT_GROUP_PROTOCOL: { retriable: false, kafkaCode: 23 },
  /** A group with members cannot be deleted (Kafka NON_EMPTY_GROUP). */
  NON_EMPTY_GROUP: { retriable: false, kafkaCode: 68 },
  /** The group id is empty or otherwise unusable (Kafka INVALID_GROUP_ID). */
  INVALID_GROUP_ID: { retriable: false, kafkaCode: 24 },
  /** The group does not exist (Kafka GROUP_ID_NOT_FOUND), e.g. describing or deleting a group nobody created. */
  GROUP_ID_NOT_FOUND: { retriable: false, kafkaCode: 69 },
  /** A commit's metadata string is longer than the coordinator accepts (Kafka OFFSET_METADATA_TOO_LARGE). */
  OFFSET_METADATA_TOO_LARGE: { retriable: false, kafkaCode: 12 },
  /** A task running on a worker thread (a pipeline, a thread task) threw or rejected; `details`/`cause` say why. Kafka has no equivalent. */
  TASK_FAILED: { retriable: false, kafkaCode: -1 },
  /** The runtime, client or thread was closed; the call can never succeed on this instance. */
  CLOSED: { retriable: false, kafkaCode: -1 },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof CODES;

/** The plain-object form an error takes when it crosses a thread or process boundary. */
export interface SerializedTributaryError {
  readonly name: 'TributaryError';
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly stack?: string;
}

export class TributaryError extends Error {
  override readonly name = 'TributaryError';
  readonly code: ErrorCode;
  /** Structured facts about the failure (segment path, file position, offending field...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(`${message} [${code}]`, options);
    this.code = code;
    this.details = details;
  }

  get retriable(): boolean {
    return CODES[this.code].retriable;
  }

  get kafkaCode(): number {
    return CODES[this.code].kafkaCode;
  }

  toJSON(): SerializedTributaryError {
    return { name: 'TributaryError', code: this.code, message: this.message, details: this.details, stack: this.stack };
  }

  static fromJSON(json: SerializedTributaryError): TributaryError {
    const error = new TributaryError(json.code, json.message.replace(/ \[[A-Z_]+\]$/, ''), { ...json.details });
    if (json.stack !== undefined) error.stack = json.stack;
    return error;
  }

  /** True for a TributaryError, optionally of the given code. */
  static is(value: unknown, code?: ErrorCode): value is TributaryError {
    return value instanceof TributaryError && (code === undefined || value.code === code);
  }
}

/** Wraps a Node.js file-system failure so callers see one error family; keeps the original as `cause`. */
export function storageError(operation: string, path: string, cause: unknown): TributaryError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new TributaryError('STORAGE_ERROR', `${operation} failed for ${path}: ${reason}`, { operation, path }, { cause });
}
