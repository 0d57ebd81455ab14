/**
 * Control batches: the transaction markers (commit / abort) a transaction coordinator writes into
 * every partition a transaction touched, byte for byte as Kafka's
 * MemoryRecords.withEndTransactionMarker builds them.
 *
 * A marker batch is uncompressed, transactional and control, with CreateTime, no sequence, and a
 * single record whose key is ControlRecordType's v0 key (int16 version 0, int16 type: abort 0,
 * commit 1) and whose value is EndTransactionMarker's v0 value (int16 version 0, int32
 * coordinatorEpoch). Both are big-endian, unlike the varints around them.
 */
import { TributaryError } from '../errors.js';
import { encodeRecordBatch } from './batch-encoder.js';

export type TransactionMarkerType = 'commit' | 'abort';

export interface ControlBatchInput {
  readonly type: TransactionMarkerType;
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Epoch of the coordinator that wrote the marker; brokers use it to fence zombie coordinators. */
  readonly coordinatorEpoch: number;
  /** Epoch milliseconds of the marker record (and the batch). */
  readonly timestamp: number;
  /** Default 0; the log assigns the real offset on append. */
  readonly baseOffset?: number;
  /** Default -1. */
  readonly partitionLeaderEpoch?: number;
}

export interface TransactionMarker {
  readonly type: TransactionMarkerType;
  /** Version of the marker value's schema; versions above 0 are read as 0, as Kafka does. */
  readonly version: number;
  readonly coordinatorEpoch: number;
}

const KEY_SIZE = 4;
const VALUE_SIZE = 6;
const CURRENT_VERSION = 0;
const ABORT = 0;
const COMMIT = 1;

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TributaryError('INVALID_RECORD', `control batch ${name} must be an integer in [${min}, ${max}], got ${String(value)}`, { field: name, value });
  }
}

/** Encodes one transaction-marker control batch. */
export function encodeControlBatch(input: ControlBatchInput): Buffer {
  if (input.type !== 'commit' && input.type !== 'abort') {
    throw new TributaryError('INVALID_RECORD', `control batch type must be 'commit' or 'abort', got ${String(input.type)}`, { field: 'type', value: input.type });
  }
  // A marker closes a transaction of one producer, so the "no producer" sentinels are not allowed.
  checkInteger('producerId', input.producerId, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('producerEpoch', input.producerEpoch, 0, 0x7fff);
  checkInteger('coordinatorEpoch', input.coordinatorEpoch, -0x8000_0000, 0x7fff_ffff);

  const key = Buffer.allocUnsafe(KEY_SIZE);
  key.writeInt16BE(CURRENT_VERSION, 0);
  key.writeInt16BE(input.type === 'commit' ? COMMIT : ABORT, 2);
  const value = Buffer.allocUnsafe(VALUE_SIZE);
  value.writeInt16BE(CURRENT_VERSION, 0);
  value.writeInt32BE(input.coordinatorEpoch, 2);

  return encodeRecordBatch([{ key, value, timestamp: input.timestamp }], {
    baseOffset: input.baseOffset,
    partitionLeaderEpoch: input.partitionLeaderEpoch,
    timestamp: input.timestamp,
    producerId: input.producerId,
    producerEpoch: input.producerEpoch,
    isTransactional: true,
    isControl: true,
  });
}

/**
 * Reads the transaction marker carried by a control batch's record. Throws INVALID_RECORD for a
 * record that is not a well-formed commit or abort marker, including control records of other
 * types (KRaft's leader-change and snapshot records), which consumers skip rather than read.
 */
export function decodeControlRecord(record: { readonly key: Buffer | null; readonly value: Buffer | null }): TransactionMarker {
  const { key, value } = record;
  if (key === null || key.length < KEY_SIZE) {
    throw new TributaryError('INVALID_RECORD', `control record key must be at least ${KEY_SIZE} bytes, got ${key === null ? 'null' : key.length}`, { keyLength: key?.length ?? null });
  }
  // Kafka reads unknown key and value versions with the v0 schema (later versions may only add
  // fields) and rejects only negative ones, which can only come from corruption.
  const keyVersion = key.readInt16BE(0);
  if (keyVersion < 0) {
    throw new TributaryError('INVALID_RECORD', `control record key version ${keyVersion} is negative`, { keyVersion });
  }
  const typeId = key.readInt16BE(2);
  if (typeId !== ABORT && typeId !== COMMIT) {
    throw new TributaryError('INVALID_RECORD', `control record type ${typeId} is not a transaction marker (abort ${ABORT}, commit ${COMMIT})`, { controlType: typeId });
  }
  if (value === null || value.length < VALUE_SIZE) {
    throw new TributaryError('INVALID_RECORD', `transaction marker value must be at least ${VALUE_SIZE} bytes, got ${value === null ? 'null' : value.length}`, { valueLength: value?.length ?? null });
  }
  const version = value.readInt16BE(0);
  if (version < 0) {
    throw new TributaryError('INVALID_RECORD', `transaction marker version ${version} is negative`, { version });
  }
  return { type: typeId === COMMIT ? 'commit' : 'abort', version, coordinatorEpoch: value.readInt32BE(2) };
}
