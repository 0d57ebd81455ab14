/**
 * The primitive types of Kafka's message schemas (the JSON files under `common/message/` that
 * define requests, responses, `__consumer_offsets` records and the consumer protocol), read and
 * written byte for byte as Kafka's generated code does.
 *
 * A schema version is either classic or flexible (KIP-482). Classic versions use int16-length
 * strings, int32-length bytes and int32-count arrays, with -1 for null. Flexible versions use
 * "compact" forms whose length is an unsigned varint of length + 1 (0 for null), and end every
 * struct with a tagged-field section. Both ends switch with `flexible` once they know the version.
 *
 * Reading never trusts a length: every read is bounds-checked, so malformed bytes raise a
 * TributaryError (with the code the caller chose, naming the structure, field and byte position)
 * and never a RangeError. Trailing bytes after the last field are left unread, as in Kafka, which
 * is how readers accept newer versions that only append fields.
 */
import { TributaryError, type ErrorCode } from '../errors.js';
import { readInt64, writeInt64 } from './int64.js';

/** Kafka's generated code refuses to read or write a string longer than this many UTF-8 bytes. */
const MAX_STRING_BYTES = 0x7fff;

const MAX_UNSIGNED_VARINT_BYTES = 5;

export class SchemaReader {
  /** Whether the version being read is flexible (compact lengths, tagged fields). */
  flexible = false;
  private pos = 0;
  private readonly buf: Buffer;

  /**
   * @param what The structure being read, named in errors; refine it once the version is known
   *   (`OffsetCommitValue v3`).
   * @param code What malformed bytes raise: the caller knows whether they are a stored record or
   *   part of a request.
   */
  constructor(
    bytes: Uint8Array,
    public what: string,
    private readonly code: ErrorCode,
  ) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TributaryError(code, `${what}: expected bytes (a Buffer or Uint8Array), got ${describe(bytes)}`, { structure: what });
    }
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  int16(field: string): number {
    this.need(2, field);
    const value = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  int32(field: string): number {
    this.need(4, field);
    const value = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  int64(field: string): number {
    this.need(8, field);
    let value: number;
    try {
      value = readInt64(this.buf, this.pos);
    } catch {
      throw this.fail(field, 'is an int64 beyond 2^53, which tributary cannot represent exactly');
    }
    this.pos += 8;
    return value;
  }

  /** Kafka's unsigned varint: 7 bits per byte, low bits first, at most 5 bytes, a 32-bit value. */
  unsignedVarint(field: string): number {
    let value = 0;
    for (let i = 0; i < MAX_UNSIGNED_VARINT_BYTES; i++) {
      this.need(1, field);
      const byte = this.buf[this.pos++];
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (value > 0xffff_ffff) throw this.fail(field, 'is an unsigned varint beyond 32 bits');
        return value;
      }
    }
    throw this.fail(field, `is an unsigned varint longer than ${MAX_UNSIGNED_VARINT_BYTES} bytes`);
  }

  string(field: string): string {
    const value = this.nullableString(field);
    if (value === null) throw this.fail(field, 'is a non-nullable string serialized as null');
    return value;
  }

  nullableString(field: string): string | null {
    const length = this.flexible ? this.unsignedVarint(field) - 1 : this.int16(field);
    if (length === -1) return null;
    if (length < 0 || length > MAX_STRING_BYTES) throw this.fail(field, `has invalid string length ${length}`);
    this.need(length, field);
    const value = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  bytes(field: string): Buffer {
    const value = this.nullableBytes(field);
    if (value === null) throw this.fail(field, 'is non-nullable bytes serialized as null');
    return value;
  }

  /**
   * A copy, not a view: decoded values outlive the buffer they came from (a coordinator keeps
   * member metadata for the group's lifetime), and a view would pin a whole fetched batch.
   */
  nullableBytes(field: string): Buffer | null {
    const length = this.flexible ? this.unsignedVarint(field) - 1 : this.int32(field);
    if (length === -1) return null;
    if (length < 0) throw this.fail(field, `has invalid bytes length ${length}`);
    this.need(length, field);
    const value = Buffer.from(this.buf.subarray(this.pos, this.pos + length));
    this.pos += length;
    return value;
  }

  /** Reads a non-nullable array, one element per `readElement` call. */
  array<T>(field: string, readElement: () => T): T[] {
    const count = this.flexible ? this.unsignedVarint(field) - 1 : this.int32(field);
    if (count < 0) throw this.fail(field, count === -1 ? 'is a non-nullable array serialized as null' : `has invalid array length ${count}`);
    // As Kafka does: every element takes at least one byte, so a larger count is corrupt, and
    // checking first avoids a huge loop over garbage.
    if (count > this.remaining) throw this.fail(field, `has ${count} elements but only ${this.remaining} bytes remain`);
    const result: T[] = new Array(count);
    for (let i = 0; i < count; i++) result[i] = readElement();
    return result;
  }

  /**
   * Skips a struct's tagged-field section (flexible versions only). None of the schemas read
   * with this reader define tagged fields yet, so every tag is unknown and skipped, as Kafka's
   * generated code keeps unknown tags aside without interpreting them.
   */
  skipTaggedFields(): void {
    if (!this.flexible) return;
    const count = this.unsignedVarint('tagged fields');
    for (let i = 0; i < count; i++) {
      this.unsignedVarint('tagged field tag');
      const size = this.unsignedVarint('tagged field size');
      this.need(size, 'tagged field data');
      this.pos += size;
    }
  }

  private need(bytes: number, field: string): void {
    if (this.pos + bytes > this.buf.length) {
      throw this.fail(field, `is truncated: needs ${bytes} bytes, ${this.buf.length - this.pos} remain`);
    }
  }

  /** The error for malformed bytes at the current position; `details` adds facts such as the bad value. */
  fail(field: string, reason: string, details: Record<string, unknown> = {}): TributaryError {
    return new TributaryError(this.code, `${this.what}: ${field} ${reason} (at byte ${this.pos} of ${this.buf.length})`, {
      structure: this.what,
      field,
      position: this.pos,
      length: this.buf.length,
      ...details,
    });
  }
}

/**
 * Writes Kafka's primitive types into a growing buffer. Every value is checked against its type,
 * and a bad one raises INVALID_REQUEST naming the structure and field: the writer's input always
 * comes from a caller's arguments.
 */
export class SchemaWriter {
  /** Whether the version being written is flexible (compact lengths, tagged fields). */
  flexible = false;
  private buf = Buffer.allocUnsafe(128);
  private pos = 0;

  constructor(private readonly what: string) {}

  int16(value: number, field: string): this {
    this.checkInteger(value, field, -0x8000, 0x7fff);
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(value, this.pos);
    return this;
  }

  int32(value: number, field: string): this {
    this.checkInteger(value, field, -0x8000_0000, 0x7fff_ffff);
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(value, this.pos);
    return this;
  }

  int64(value: number, field: string): this {
    this.checkInteger(value, field, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    this.ensure(8);
    writeInt64(this.buf, value, this.pos);
    this.pos += 8;
    return this;
  }

  unsignedVarint(value: number): this {
    this.ensure(MAX_UNSIGNED_VARINT_BYTES);
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
    return this;
  }

  string(value: string, field: string): this {
    if (typeof value !== 'string') throw this.invalid(field, `must be a string, got ${describe(value)}`);
    return this.nullableString(value, field);
  }

  nullableString(value: string | null, field: string): this {
    if (value === null) return this.shortLength(-1);
    if (typeof value !== 'string') throw this.invalid(field, `must be a string or null, got ${describe(value)}`);
    const length = Buffer.byteLength(value);
    if (length > MAX_STRING_BYTES) throw this.invalid(field, `is ${length} UTF-8 bytes; Kafka strings hold at most ${MAX_STRING_BYTES}`);
    this.shortLength(length);
    this.ensure(length);
    this.pos += this.buf.write(value, this.pos, 'utf8');
    return this;
  }

  bytes(value: Uint8Array, field: string): this {
    if (!(value instanceof Uint8Array)) throw this.invalid(field, `must be a Buffer or Uint8Array, got ${describe(value)}`);
    return this.nullableBytes(value, field);
  }

  nullableBytes(value: Uint8Array | null, field: string): this {
    if (value === null) return this.length(-1);
    if (!(value instanceof Uint8Array)) throw this.invalid(field, `must be a Buffer, a Uint8Array or null, got ${describe(value)}`);
    this.length(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** Writes an array's element count, after checking it is an array; the caller writes the elements. */
  arrayLength(value: readonly unknown[], field: string): this {
    return this.length(this.checkArray(value, field).length);
  }

  /** Checks that a value to be written as an array is one, so a bad argument fails typed rather than with a TypeError. */
  checkArray<T extends readonly unknown[]>(value: T, field: string): T {
    if (!Array.isArray(value)) throw this.invalid(field, `must be an array, got ${describe(value)}`);
    return value;
  }

  /** Checks that a value to be written as a struct is an object, so a bad argument fails typed rather than with a TypeError. */
  checkStruct<T>(value: T, field: string): T {
    if (typeof value !== 'object' || value === null) throw this.invalid(field, `must be an object, got ${describe(value)}`);
    return value;
  }

  /** Ends a struct in a flexible version with an empty tagged-field section. */
  taggedFields(): this {
    return this.flexible ? this.unsignedVarint(0) : this;
  }

  /** The bytes written so far, copied into a buffer of exactly their size. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  invalid(field: string, reason: string): TributaryError {
    return new TributaryError('INVALID_REQUEST', `${this.what}: ${field} ${reason}`, { structure: this.what, field });
  }

  /** A bytes or array length: int32 in classic versions. */
  private length(length: number): this {
    if (this.flexible) return this.unsignedVarint(length + 1);
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(length, this.pos);
    return this;
  }

  /** A string length: int16 in classic versions. */
  private shortLength(length: number): this {
    if (this.flexible) return this.unsignedVarint(length + 1);
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(length, this.pos);
    return this;
  }

  private checkInteger(value: number, field: string, min: number, max: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.invalid(field, `must be an integer in [${min}, ${max}], got ${describe(value)}`);
    }
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `${typeof value} ${String(value)}`;
}
