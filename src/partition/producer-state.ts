/**
 * Kafka's idempotent-producer bookkeeping for one partition (ProducerStateManager,
 * ProducerStateEntry and ProducerAppendInfo in Kafka's storage module), so that a producer's
 * retried batch is appended once.
 *
 * Per producer id the partition keeps the current epoch and the last five batches appended in it
 * (Kafka's NUM_BATCHES_TO_RETAIN, matching the idempotent producer's max.in.flight of 5: a retry
 * can only be of a batch still in flight, so five are enough to recognise every retry). A batch
 * whose producerId is -1 (or any negative id) is not idempotent and is never looked at.
 *
 * Rules, in Kafka's order, for a batch of producer P, epoch E, sequences firstSeq..lastSeq:
 *
 * 1. E is P's current epoch and (firstSeq, lastSeq) equals one of the five retained batches: a
 *    duplicate; it is answered with that batch's offsets and not appended.
 * 2. E is older than P's epoch: INVALID_PRODUCER_EPOCH (a newer producer instance fenced it).
 * 3. E is newer than P's epoch: the producer was bumped, its sequence restarts, firstSeq must be 0.
 * 4. Same epoch: firstSeq must follow the newest batch's lastSeq, wrapping from 2147483647 to 0.
 * 5. P is unknown: firstSeq must be 0. Otherwise the state was either never there (the producer
 *    skipped sequences: OUT_OF_ORDER_SEQUENCE) or may have been forgotten, because the records
 *    that carried it are gone or were not rescanned (UNKNOWN_PRODUCER_ID, which tells the
 *    producer to reset its sequence rather than treat its own state as broken). Kafka ≥ 2.5 keeps
 *    producer state in snapshots and then accepts any sequence from an unknown producer; without
 *    snapshots, rejecting is what keeps a retry from being appended twice.
 *
 * Rebuilding (`rebuild`) replays batch headers from the log's tail. Its bound: the active segment
 * and the one before it (or from the log start offset, if later). A retry can only duplicate one
 * of the producer's in-flight batches, which were appended just before the crash and so sit at
 * the tail; the previous segment is included because a roll may have happened between the
 * original append and the crash, leaving the active segment nearly empty. So a retry is
 * recognised unless more than a full segment of other appends (segmentBytes, default 1 GiB)
 * landed between its original and the crash. The cost is one CRC-verified read of those
 * segments at open (several GB/s; up to 2 × segmentBytes). Producers whose batches all lie below
 * the bound are forgotten, and rule 5 answers them UNKNOWN_PRODUCER_ID.
 */
import { TributaryError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  CONTROL_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  baseOffsetAt,
  batchSizeAt,
  maxTimestampAt,
} from '../record/batch-header.js';
import { readInt64 } from '../record/int64.js';
import type { Log } from '../log/index.js';

/** Batches retained per producer for duplicate detection (Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN). */
export const RETAINED_BATCHES = 5;

const INT32_MAX = 0x7fff_ffff;
const REBUILD_READ_BYTES = 1024 * 1024;

/** The header fields of a batch that identify it to its producer. */
export interface ProducerBatch {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  /** Records in the batch minus one, so lastSeq = baseSequence + lastOffsetDelta (wrapping). */
  readonly lastOffsetDelta: number;
}

/** A batch the partition appended for a producer. */
export interface AppendedBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The batch's max timestamp as stored (the LogAppendTime, when the log stamped one): a duplicate is answered with it, as Kafka does. */
  readonly timestamp: number;
}

export interface ProducerEntry {
  readonly epoch: number;
  /** Oldest first; at most RETAINED_BATCHES, all of `epoch`. */
  readonly batches: readonly AppendedBatch[];
}

interface MutableEntry {
  epoch: number;
  batches: AppendedBatch[];
}

/** Kafka's DefaultRecordBatch.incrementSequence: sequences are int32s that wrap to 0. */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

function nextSequence(lastSeq: number): number {
  return lastSeq === INT32_MAX ? 0 : lastSeq + 1;
}

/** The producer fields of the batch at `pos`, read without decoding it; null for a control batch, which carries no sequence. */
export function producerBatchAt(buf: Buffer, pos = 0): ProducerBatch | null {
  if ((buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0) return null;
  return {
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
  };
}

export class ProducerState {
  private readonly producers = new Map<number, MutableEntry>();

  /**
   * @param partition names the partition in error messages (`topic-partition`).
   * @param forgottenBefore producers whose batches all lie below this offset may be unknown here
   *   although they exist (their records were deleted or not rescanned); 0 when every batch of
   *   the log was seen.
   */
  constructor(
    readonly partition: string,
    readonly forgottenBefore = 0,
  ) {}

  /** Replays the batch headers of the log's tail; see the module comment for the bound and why. */
  static rebuild(log: Log, partition: string): ProducerState {
    const segments = log.segments;
    const tail = segments[Math.max(0, segments.length - 2)].baseOffset;
    const from = Math.max(log.logStartOffset, tail);
    const state = new ProducerState(partition, from);
    for (let offset = from; offset < log.logEndOffset; ) {
      const { bytes, nextOffset } = log.read(offset, REBUILD_READ_BYTES);
      for (let pos = 0; pos < bytes.length; pos += batchSizeAt(bytes, pos)) {
        const batch = producerBatchAt(bytes, pos);
        if (batch === null || batch.producerId < 0 || batch.baseSequence < 0) continue;
        const baseOffset = baseOffsetAt(bytes, pos);
        state.record(batch, baseOffset, baseOffset + batch.lastOffsetDelta, maxTimestampAt(bytes, pos));
      }
      offset = nextOffset;
    }
    return state;
  }

  /** Producers known. */
  get size(): number {
    return this.producers.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /**
   * Decides what appending `batch` means, changing nothing: null to append it, the original
   * batch when it is a duplicate. Throws INVALID_RECORD (idempotent batch without a sequence or
   * epoch), INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE or UNKNOWN_PRODUCER_ID.
   */
  check(batch: ProducerBatch): AppendedBatch | null {
    const { producerId, producerEpoch, baseSequence } = batch;
    if (producerId < 0) return null;
    if (baseSequence < 0 || producerEpoch < 0) {
      throw new TributaryError('INVALID_RECORD', `batch of producer ${producerId} for ${this.partition} has epoch ${producerEpoch} and sequence ${baseSequence}; an idempotent batch needs both >= 0`, {
        producerId,
        producerEpoch,
        baseSequence,
      });
    }
    const entry = this.producers.get(producerId);
    const lastSeq = lastSequence(baseSequence, batch.lastOffsetDelta);
    if (entry === undefined) {
      if (baseSequence !== 0) throw this.unknownProducer(batch);
      return null;
    }
    if (producerEpoch === entry.epoch) {
      const duplicate = entry.batches.find((appended) => appended.firstSeq === baseSequence && appended.lastSeq === lastSeq);
      if (duplicate !== undefined) return duplicate;
    }
    if (producerEpoch < entry.epoch) {
      throw new TributaryError('INVALID_PRODUCER_EPOCH', `producer ${producerId} sent epoch ${producerEpoch} to ${this.partition}, older than its current epoch ${entry.epoch}: a newer instance fenced it`, {
        producerId,
        producerEpoch,
        currentEpoch: entry.epoch,
      });
    }
    const expected = producerEpoch > entry.epoch ? 0 : nextSequence(entry.batches[entry.batches.length - 1].lastSeq);
    if (baseSequence !== expected) {
      const why = producerEpoch > entry.epoch ? `the first batch of its new epoch ${producerEpoch} must start at sequence 0` : `expected sequence ${expected}`;
      throw new TributaryError('OUT_OF_ORDER_SEQUENCE', `producer ${producerId} sent sequence ${baseSequence} to ${this.partition}: ${why}`, {
        producerId,
        producerEpoch,
        expectedSequence: expected,
        receivedSequence: baseSequence,
      });
    }
    return null;
  }

  /** Records an appended batch; a new epoch replaces the producer's retained batches. Ignores non-idempotent batches. */
  record(batch: ProducerBatch, baseOffset: number, lastOffset: number, timestamp: number): void {
    if (batch.producerId < 0) return;
    const appended: AppendedBatch = {
      firstSeq: batch.baseSequence,
      lastSeq: lastSequence(batch.baseSequence, batch.lastOffsetDelta),
      baseOffset,
      lastOffset,
      timestamp,
    };
    const entry = this.producers.get(batch.producerId);
    if (entry === undefined) {
      this.producers.set(batch.producerId, { epoch: batch.producerEpoch, batches: [appended] });
      return;
    }
    if (entry.epoch !== batch.producerEpoch) {
      entry.epoch = batch.producerEpoch;
      entry.batches = [];
    }
    entry.batches.push(appended);
    if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
  }

  private unknownProducer(batch: ProducerBatch): TributaryError {
    const { producerId, producerEpoch, baseSequence } = batch;
    const details = { producerId, producerEpoch, expectedSequence: 0, receivedSequence: baseSequence };
    if (this.forgottenBefore > 0) {
      return new TributaryError(
        'UNKNOWN_PRODUCER_ID',
        `producer ${producerId} sent sequence ${baseSequence} to ${this.partition}, which holds no state for it: its batches may lie below offset ${this.forgottenBefore}, deleted or not rescanned`,
        { ...details, forgottenBefore: this.forgottenBefore },
      );
    }
    return new TributaryError('OUT_OF_ORDER_SEQUENCE', `producer ${producerId} sent sequence ${baseSequence} to ${this.partition}, which has never seen it: its first batch must start at sequence 0`, details);
  }
}
