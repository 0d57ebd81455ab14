/**
 * Validation of options objects, shared by the runtime and the clients, so that every public
 * option has a default and every bad one gets the same kind of error: INVALID_CONFIG naming the
 * options object, the field, the value and what was expected, with a suggestion for a misspelt
 * field. Durations and sizes are plain numbers whose unit is in the name (`lingerMs`, `batchBytes`).
 *
 * ```ts
 * const parseProducerOptions = defineOptions('producer', {
 *   lingerMs: { type: 'integer', min: 0, default: 5 },
 *   compression: { type: 'enum', values: ['none', 'gzip', 'lz4'], default: 'none' },
 *   transactionalId: { type: 'string', default: undefined },
 * });
 * const options = parseProducerOptions(userOptions); // { lingerMs: number; compression: 'none' | 'gzip' | 'lz4'; transactionalId: string | undefined }
 * ```
 */
import { TributaryError } from '../errors.js';

interface RangeField {
  /** Inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
}

export interface IntegerField extends RangeField {
  readonly type: 'integer';
  readonly default: number | undefined;
}

export interface NumberField extends RangeField {
  readonly type: 'number';
  readonly default: number | undefined;
}

export interface BooleanField {
  readonly type: 'boolean';
  readonly default: boolean | undefined;
}

export interface StringField {
  readonly type: 'string';
  readonly default: string | undefined;
}

export interface EnumField<V extends string | number = string | number> {
  readonly type: 'enum';
  readonly values: readonly V[];
  readonly default: V | undefined;
}

/** For values no primitive type describes, such as a custom partitioner object. */
export interface CustomField<T = unknown> {
  readonly type: 'custom';
  /** Completes "expected ..." in the error message, e.g. "a Partitioner (an object with a partition method)". */
  readonly expected: string;
  readonly is: (value: unknown) => value is T;
  readonly default: T | undefined;
}

export type FieldSpec = IntegerField | NumberField | BooleanField | StringField | EnumField | CustomField;

export type OptionsSchema = Readonly<Record<string, FieldSpec>>;

/** The type a field accepts from the caller. */
export type FieldInput<F extends FieldSpec> = F extends IntegerField | NumberField
  ? number
  : F extends BooleanField
    ? boolean
    : F extends StringField
      ? string
      : F extends EnumField<infer V>
        ? V
        : F extends CustomField<infer T>
          ? T
          : never;

/** The type a field has after parsing: a field whose default is `undefined` stays optional. */
export type FieldValue<F extends FieldSpec> = FieldInput<F> | (undefined extends F['default'] ? undefined : never);

/** What callers pass: every field optional; `undefined` means "use the default". */
export type OptionsInput<S extends OptionsSchema> = { readonly [K in keyof S]?: FieldInput<S[K]> | undefined };

/** What parsing returns: every field present. */
export type Options<S extends OptionsSchema> = { readonly [K in keyof S]: FieldValue<S[K]> };

export interface OptionsParser<S extends OptionsSchema> {
  (input?: OptionsInput<S>): Options<S>;
  readonly schema: S;
  readonly defaults: Options<S>;
}

/**
 * Builds the parser for one kind of options object. `name` appears in every error message
 * ("producer option lingerMs..."). Each default is checked against its own field here, so a bad
 * default fails when the defining module loads rather than when a caller first relies on it.
 */
export function defineOptions<const S extends OptionsSchema>(name: string, schema: S): OptionsParser<S> {
  const fields = Object.keys(schema);
  const defaults: Record<string, unknown> = {};
  for (const field of fields) {
    const spec = schema[field];
    if (spec.default !== undefined) checkField(name, field, spec, spec.default);
    defaults[field] = spec.default;
  }
  Object.freeze(defaults);

  const parse = (input?: OptionsInput<S>): Options<S> => {
    if (input === undefined) return defaults as Options<S>;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new TributaryError('INVALID_CONFIG', `${name} options must be an object, got ${describeValue(input)}`, {
        options: name,
        field: null,
        value: cloneable(input),
      });
    }
    const given = input as Record<string, unknown>;
    for (const key of Object.keys(given)) {
      if (!Object.hasOwn(schema, key)) throw unknownField(name, key, given[key], fields);
    }
    const result: Record<string, unknown> = {};
    for (const field of fields) {
      const value = given[field];
      if (value === undefined) {
        result[field] = defaults[field];
      } else {
        checkField(name, field, schema[field], value);
        result[field] = value;
      }
    }
    return Object.freeze(result) as Options<S>;
  };
  return Object.assign(parse, { schema, defaults: defaults as Options<S> });
}

function checkField(options: string, field: string, spec: FieldSpec, value: unknown): void {
  const expected = violation(spec, value);
  if (expected === null) return;
  // Only string values are suggested: "did you mean '1'?" for a numeric enum would read as the wrong fix.
  const hint =
    spec.type === 'enum' && typeof value === 'string'
      ? closest(value, spec.values.filter((v): v is string => typeof v === 'string'))
      : undefined;
  throw new TributaryError(
    'INVALID_CONFIG',
    `Invalid ${options} option ${field}: expected ${expected}, got ${describeValue(value)}` +
      (hint === undefined ? '' : ` (did you mean '${hint}'?)`),
    { options, field, value: cloneable(value) },
  );
}

/** What `value` should have been, or null if it satisfies `spec`. */
function violation(spec: FieldSpec, value: unknown): string | null {
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const isInteger = spec.type === 'integer';
      const expected = (isInteger ? 'an integer' : 'a finite number') + rangeText(spec);
      if (typeof value !== 'number' || !(isInteger ? Number.isSafeInteger(value) : Number.isFinite(value))) return expected;
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) return expected;
      return null;
    }
    case 'boolean':
      return typeof value === 'boolean' ? null : 'a boolean';
    case 'string':
      return typeof value === 'string' ? null : 'a string';
    case 'enum':
      return (spec.values as readonly unknown[]).includes(value)
        ? null
        : `one of ${spec.values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')}`;
    case 'custom':
      return spec.is(value) ? null : spec.expected;
  }
}

function rangeText({ min, max }: RangeField): string {
  if (min !== undefined && max !== undefined) return ` in [${min}, ${max}]`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

function unknownField(options: string, key: string, value: unknown, known: readonly string[]): TributaryError {
  const suggestion = closest(key, known);
  const help = suggestion === undefined ? `; known options: ${known.join(', ')}` : ` (did you mean '${suggestion}'?)`;
  return new TributaryError('INVALID_CONFIG', `Unknown ${options} option '${key}'${help}`, {
    options,
    field: key,
    value: cloneable(value),
    ...(suggestion === undefined ? {} : { suggestion }),
  });
}

/**
 * The candidate an obvious typo meant: edit distance at most 2, ignoring case, and shorter than
 * the word itself so that very short words do not "match" everything. Ties go to the earlier candidate.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.min(2, lower.length - 1);
  for (const candidate of candidates) {
    const distance = levenshtein(lower, candidate.toLowerCase(), bestDistance);
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edit distance, or any value above `limit` once it is certain to exceed it. */
function levenshtein(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      rowMin = Math.min(rowMin, current[j]);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length];
}

/** A short, human description of any value for an error message: `number -5`, `string "x"`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value)}`;
    case 'bigint':
      return `bigint ${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'object':
      return 'an object';
    default:
      return `${typeof value} ${String(value)}`;
  }
}

/**
 * Error details cross threads by structured clone, which throws on functions and symbols and
 * would copy a whole object graph, so only primitives go in as they are.
 */
function cloneable(value: unknown): unknown {
  return value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')
    ? value
    : describeValue(value);
}
