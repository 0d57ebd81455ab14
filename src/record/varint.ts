/**
 * Zigzag varints, as Kafka's record format uses them for lengths, deltas and counts
 * (protobuf's encoding: zigzag maps signed to unsigned, then 7 bits per byte, low bits first).
 *
 * Values are JavaScript numbers. The 32-bit fast path covers every length and offset delta;
 * the slow path handles varlongs (timestamp deltas) up to 2^53.
 */
import { TributaryError } from '../errors.js';

const MAX_VARLONG_BYTES = 10;

function zigzag(value: number): number {
  if (value >= -0x4000_0000 && value < 0x4000_0000) return ((value << 1) ^ (value >> 31)) >>> 0;
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Bytes the zigzag varint encoding of `value` takes. */
export function varintSize(value: number): number {
  let zz = zigzag(value);
  if (zz < 0x80) return 1;
  if (zz < 0x4000) return 2;
  if (zz < 0x20_0000) return 3;
  if (zz < 0x1000_0000) return 4;
  let size = 4;
  zz = Math.floor(zz / 0x1000_0000);
  while (zz > 0) {
    size++;
    zz = Math.floor(zz / 0x80);
  }
  return size;
}

/** Writes the zigzag varint of `value` at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, value: number, pos: number): number {
  let zz = zigzag(value);
  if (zz <= 0xffff_ffff) {
    while (zz >= 0x80) {
      buf[pos++] = (zz & 0x7f) | 0x80;
      zz >>>= 7;
    }
    buf[pos++] = zz;
    return pos;
  }
  while (zz >= 0x80) {
    buf[pos++] = (zz % 0x80) | 0x80;
    zz = Math.floor(zz / 0x80);
  }
  buf[pos++] = zz;
  return pos;
}

/**
 * A read cursor over a buffer. Reading varints advances `pos`; a cursor avoids allocating a
 * (value, position) pair for every field of every record.
 */
export class ByteReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  readVarint(): number {
    // Lengths, counts and deltas of the record format nearly always take one or two bytes: those
    // are read without the loop, in a function small enough to be inlined into the record loop.
    const buf = this.buf;
    const pos = this.pos;
    if (pos + 1 < this.end) {
      const first = buf[pos];
      if (first < 0x80) {
        this.pos = pos + 1;
        return (first >>> 1) ^ -(first & 1);
      }
      const second = buf[pos + 1];
      if (second < 0x80) {
        const raw = (first & 0x7f) | (second << 7);
        this.pos = pos + 2;
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    return this.readLongVarint();
  }

  private readLongVarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    let byte: number;
    // Up to 28 bits with 32-bit arithmetic; anything longer is a varlong.
    do {
      if (pos >= this.end) throw this.truncated();
      byte = buf[pos++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80 && shift < 28);
    if (byte & 0x80) return this.readVarlongTail(result >>> 0, pos);
    this.pos = pos;
    return (result >>> 1) ^ -(result & 1);
  }

  private readVarlongTail(low28: number, pos: number): number {
    let result = low28;
    let multiplier = 0x1000_0000;
    let byte: number;
    let count = 4;
    do {
      if (pos >= this.end) throw this.truncated();
      if (++count > MAX_VARLONG_BYTES) {
        throw new TributaryError('INVALID_RECORD', `varint longer than ${MAX_VARLONG_BYTES} bytes at byte ${this.pos}`, { position: this.pos });
      }
      byte = this.buf[pos++];
      result += (byte & 0x7f) * multiplier;
      multiplier *= 0x80;
    } while (byte & 0x80);
    if (result > Number.MAX_SAFE_INTEGER) {
      throw new TributaryError('INVALID_RECORD', `varint at byte ${this.pos} exceeds 2^53`, { position: this.pos });
    }
    this.pos = pos;
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  /** Returns a zero-copy view of the next `length` bytes. */
  readBytes(length: number): Buffer {
    const start = this.pos;
    if (length < 0 || start + length > this.end) throw this.truncated();
    this.pos = start + length;
    return this.buf.subarray(start, start + length);
  }

  truncated(): TributaryError {
    return new TributaryError('INVALID_RECORD', `record data truncated at byte ${this.pos}`, { position: this.pos });
  }
}
