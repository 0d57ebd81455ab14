/**
 * The shapes records and batches take at the record-format layer's public edge.
 */
import type { CompressionName } from './codecs/codec.js';

export type { CompressionName };

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

/** A record to encode. Strings are encoded as UTF-8. */
export interface RecordInput {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: ReadonlyArray<{ readonly key: string; readonly value: Buffer | string | null }>;
  /** Epoch milliseconds; defaults to the batch's `timestamp` option, else Date.now(). */
  readonly timestamp?: number;
}

/** `create`: the producer's timestamp (CreateTime); `log-append`: the log's clock (LogAppendTime). */
export type TimestampType = 'create' | 'log-append';

export interface EncodeOptions {
  /** Offset of the first record; the log overwrites it on append. Default 0. */
  readonly baseOffset?: number;
  /** Default 'none'. */
  readonly compression?: CompressionName;
  /** Default 'create'. */
  readonly timestampType?: TimestampType;
  /** Timestamp for records that carry none. Default Date.now() at encode time. */
  readonly timestamp?: number;
  /** Default -1 (no idempotent producer). */
  readonly producerId?: number;
  /** Default -1. */
  readonly producerEpoch?: number;
  /** Sequence number of the first record; default -1. */
  readonly baseSequence?: number;
  /** Default false. */
  readonly isTransactional?: boolean;
  /** Control batches carry commit/abort markers; default false. Prefer `encodeControlBatch`. */
  readonly isControl?: boolean;
  /** Default -1. */
  readonly partitionLeaderEpoch?: number;
}

export interface DecodedRecord {
  readonly offset: number;
  readonly timestamp: number;
  /** Views into the decoded batch's bytes (zero-copy); copy them to keep them past the batch. */
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

export interface DecodedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly partitionLeaderEpoch: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly timestampType: TimestampType;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly isTransactional: boolean;
  readonly isControl: boolean;
  readonly compression: CompressionName;
  /** Bytes the batch occupies on disk and on the wire. */
  readonly sizeInBytes: number;
  readonly records: DecodedRecord[];
}
