/** Option specs shared by `source()`, `sink()` and `repartition()` (see runtime/options.ts). */
import type { Serde, SerdeName } from '../client/serde.js';

export const serdeOption = {
  type: 'custom',
  expected: "'json', 'string', 'bytes' or a Serde",
  is: (value: unknown): value is SerdeName | Serde<unknown> => typeof value === 'string' || (typeof value === 'object' && value !== null),
  default: undefined,
} as const;

/** Producer options are checked by the producer's own parser, where they are used. */
export const producerOption = {
  type: 'custom',
  expected: 'an object of producer options',
  is: (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value),
  default: undefined,
} as const;
