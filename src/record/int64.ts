/**
 * 64-bit integers as JavaScript numbers.
 *
 * Offsets, timestamps and producer ids are int64 on the wire. tributary keeps them as numbers,
 * exact up to 2^53 (285 years at a million records per second), because BigInt arithmetic on the
 * hot path costs several times more. Values beyond that range are rejected, not rounded.
 */
import { TributaryError } from '../errors.js';

const TWO_POW_32 = 0x1_0000_0000;

/** The high word of every safe integer lies in [-2^21, 2^21 - 1]. */
const MAX_SAFE_HIGH = 0x1f_ffff;
const MIN_SAFE_HIGH = -0x20_0000;

export function readInt64(buf: Buffer, pos: number): number {
  const high = buf.readInt32BE(pos);
  const low = buf.readUInt32BE(pos + 4);
  const value = high * TWO_POW_32 + low;
  if ((high > MAX_SAFE_HIGH || high < MIN_SAFE_HIGH) && !Number.isSafeInteger(value)) {
    throw new TributaryError('INVALID_RECORD', `int64 at byte ${pos} is beyond 2^53 and cannot be represented exactly`, { position: pos });
  }
  return value;
}

export function writeInt64(buf: Buffer, value: number, pos: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new TributaryError('INVALID_RECORD', `int64 value ${value} is not a safe integer`, { value });
  }
  const high = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(high, pos);
  buf.writeUInt32BE(value - high * TWO_POW_32, pos + 4);
}
