import { describe, expect, expectTypeOf, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { defineOptions, describeValue, type Options } from '../../src/runtime/options.js';

interface Greeter {
  greet(): string;
}
const isGreeter = (value: unknown): value is Greeter =>
  typeof value === 'object' && value !== null && typeof (value as Greeter).greet === 'function';

const parseProducerOptions = defineOptions('producer', {
  lingerMs: { type: 'integer', min: 0, max: 2_147_483_647, default: 5 },
  batchBytes: { type: 'integer', min: 1, default: 16_384 },
  retryBackoffFactor: { type: 'number', min: 1, default: 2 },
  idempotent: { type: 'boolean', default: true },
  clientId: { type: 'string', default: 'tributary' },
  transactionalId: { type: 'string', default: undefined },
  compression: { type: 'enum', values: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], default: 'none' },
  acks: { type: 'enum', values: [-1, 0, 1], default: -1 },
  greeter: { type: 'custom', expected: 'a Greeter (an object with a greet method)', is: isGreeter, default: undefined },
});

/** Calls the parser with input the type system would refuse, as a JavaScript caller might. */
const parseUntyped = (input: unknown) => parseProducerOptions(input as never);

function rejection(input: unknown): TributaryError {
  try {
    parseUntyped(input);
  } catch (error) {
    if (TributaryError.is(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

const DEFAULTS = {
  lingerMs: 5,
  batchBytes: 16_384,
  retryBackoffFactor: 2,
  idempotent: true,
  clientId: 'tributary',
  transactionalId: undefined,
  compression: 'none',
  acks: -1,
  greeter: undefined,
};

describe('defineOptions', () => {
  it('infers the result type from the schema', () => {
    type Parsed = Options<typeof parseProducerOptions.schema>;
    expectTypeOf<Parsed['lingerMs']>().toEqualTypeOf<number>();
    expectTypeOf<Parsed['idempotent']>().toEqualTypeOf<boolean>();
    expectTypeOf<Parsed['transactionalId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Parsed['compression']>().toEqualTypeOf<'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'>();
    expectTypeOf<Parsed['acks']>().toEqualTypeOf<-1 | 0 | 1>();
    expectTypeOf<Parsed['greeter']>().toEqualTypeOf<Greeter | undefined>();
    expectTypeOf(parseProducerOptions).parameter(0).toEqualTypeOf<
      | {
          readonly lingerMs?: number | undefined;
          readonly batchBytes?: number | undefined;
          readonly retryBackoffFactor?: number | undefined;
          readonly idempotent?: boolean | undefined;
          readonly clientId?: string | undefined;
          readonly transactionalId?: string | undefined;
          readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd' | undefined;
          readonly acks?: -1 | 0 | 1 | undefined;
          readonly greeter?: Greeter | undefined;
        }
      | undefined
    >();
  });

  it('fills every field from its default, for no input, an empty object and undefined values', () => {
    expect(parseProducerOptions()).toEqual(DEFAULTS);
    expect(parseProducerOptions({})).toEqual(DEFAULTS);
    expect(parseProducerOptions({ lingerMs: undefined, compression: undefined })).toEqual(DEFAULTS);
    expect(parseProducerOptions.defaults).toEqual(DEFAULTS);
    expect(Object.isFrozen(parseProducerOptions())).toBe(true);
  });

  it('keeps given values and defaults the rest', () => {
    const greeter = { greet: () => 'hi' };
    const options = parseProducerOptions({
      lingerMs: 0,
      batchBytes: 1,
      retryBackoffFactor: 1.5,
      idempotent: false,
      clientId: '',
      transactionalId: 'tx-1',
      compression: 'lz4',
      acks: 0,
      greeter,
    });
    expect(options).toEqual({
      lingerMs: 0,
      batchBytes: 1,
      retryBackoffFactor: 1.5,
      idempotent: false,
      clientId: '',
      transactionalId: 'tx-1',
      compression: 'lz4',
      acks: 0,
      greeter,
    });
    expect(options.greeter).toBe(greeter);
    expect(parseProducerOptions({ lingerMs: 2_147_483_647 }).lingerMs).toBe(2_147_483_647);
  });

  it.each([
    [{ lingerMs: -1 }, 'lingerMs', 'an integer in [0, 2147483647]', 'number -1'],
    [{ lingerMs: 1.5 }, 'lingerMs', 'an integer in [0, 2147483647]', 'number 1.5'],
    [{ lingerMs: 2_147_483_648 }, 'lingerMs', 'an integer in [0, 2147483647]', 'number 2147483648'],
    [{ lingerMs: '5' }, 'lingerMs', 'an integer in [0, 2147483647]', 'string "5"'],
    [{ lingerMs: null }, 'lingerMs', 'an integer in [0, 2147483647]', 'null'],
    [{ batchBytes: 0 }, 'batchBytes', 'an integer >= 1', 'number 0'],
    [{ batchBytes: Number.NaN }, 'batchBytes', 'an integer >= 1', 'number NaN'],
    [{ retryBackoffFactor: Number.POSITIVE_INFINITY }, 'retryBackoffFactor', 'a finite number >= 1', 'number Infinity'],
    [{ retryBackoffFactor: 0.5 }, 'retryBackoffFactor', 'a finite number >= 1', 'number 0.5'],
    [{ retryBackoffFactor: 2n }, 'retryBackoffFactor', 'a finite number >= 1', 'bigint 2n'],
    [{ idempotent: 'true' }, 'idempotent', 'a boolean', 'string "true"'],
    [{ idempotent: 1 }, 'idempotent', 'a boolean', 'number 1'],
    [{ clientId: 7 }, 'clientId', 'a string', 'number 7'],
    [{ compression: 'brotli' }, 'compression', "one of 'none', 'gzip', 'snappy', 'lz4', 'zstd'", 'string "brotli"'],
    [{ acks: 'all' }, 'acks', 'one of -1, 0, 1', 'string "all"'],
    [{ greeter: { hello: 1 } }, 'greeter', 'a Greeter (an object with a greet method)', 'an object'],
  ])('rejects %o, naming the field, the value and the expectation', (input, field, expected, got) => {
    const error = rejection(input);
    expect(error.message).toBe(`Invalid producer option ${field}: expected ${expected}, got ${got} [INVALID_CONFIG]`);
    expect(error.details.options).toBe('producer');
    expect(error.details.field).toBe(field);
    expect(error.retriable).toBe(false);
    expect(error.kafkaCode).toBe(40);
    // Details cross threads by structured clone, even when the bad value was an object or a bigint.
    expect(() => structuredClone(error.toJSON())).not.toThrow();
  });

  it('puts primitive bad values into details as they are and describes the rest', () => {
    expect(rejection({ lingerMs: -1 }).details.value).toBe(-1);
    expect(rejection({ clientId: 7 }).details.value).toBe(7);
    expect(rejection({ greeter: { hello: 1 } }).details.value).toBe('an object');
    expect(rejection({ lingerMs: () => 5 }).details.value).toBe('a function');
  });

  it('suggests the enum value an obvious typo meant', () => {
    expect(rejection({ compression: 'LZ4' }).message).toContain("got string \"LZ4\" (did you mean 'lz4'?)");
    expect(rejection({ compression: 'gzp' }).message).toContain("(did you mean 'gzip'?)");
    expect(rejection({ compression: 'brotli' }).message).not.toContain('did you mean');
    expect(rejection({ acks: '1' }).message).not.toContain('did you mean');
  });

  it.each([
    ['lingerMS', 'lingerMs'],
    ['linger_ms', 'lingerMs'],
    ['lingerm', 'lingerMs'],
    ['batchbyte', 'batchBytes'],
    ['idempotence', 'idempotent'],
    ['transactionId', 'transactionalId'],
  ])('rejects the unknown field %s and suggests %s', (typo, suggestion) => {
    const error = rejection({ [typo]: 1 });
    expect(error.message).toBe(`Unknown producer option '${typo}' (did you mean '${suggestion}'?) [INVALID_CONFIG]`);
    expect(error.details).toEqual({ options: 'producer', field: typo, value: 1, suggestion });
  });

  it('lists the known fields when an unknown one is not a near miss', () => {
    const error = rejection({ lingerMs: 1, flushEverything: true });
    expect(error.message).toBe(
      "Unknown producer option 'flushEverything'; known options: lingerMs, batchBytes, retryBackoffFactor, idempotent, " +
        'clientId, transactionalId, compression, acks, greeter [INVALID_CONFIG]',
    );
    expect(error.details).toEqual({ options: 'producer', field: 'flushEverything', value: true });
  });

  it('does not treat Object.prototype members or very short words as near misses', () => {
    expect(rejection({ toString: 1 }).details.field).toBe('toString');
    expect(rejection(JSON.parse('{"__proto__": {"lingerMs": -1}}')).details.field).toBe('__proto__');
    const parseTiny = defineOptions('tiny', { ab: { type: 'integer', default: 0 } });
    expect(() => parseTiny({ x: 1 } as never)).toThrow("Unknown tiny option 'x'; known options: ab");
    expect(() => parseTiny({ AB: 1 } as never)).toThrow("(did you mean 'ab'?)");
  });

  it.each([null, 5, 'lingerMs=5', [1, 2]])('rejects %j as the options object', (input) => {
    const error = rejection(input);
    expect(error.message).toBe(`producer options must be an object, got ${describeValue(input)} [INVALID_CONFIG]`);
    expect(error.details.field).toBeNull();
  });

  it('checks defaults when the schema is defined', () => {
    expect(() => defineOptions('broken', { lingerMs: { type: 'integer', min: 0, default: -1 } })).toThrow(
      'Invalid broken option lingerMs: expected an integer >= 0, got number -1',
    );
    expect(() => defineOptions('broken', { mode: { type: 'enum', values: ['a', 'b'], default: 'c' as 'a' } })).toThrow(
      "expected one of 'a', 'b'",
    );
  });
});
