/**
 * Names that become part of topic names: a run's (its changelog and repartition topics' prefix),
 * a store's (`<run>-<store>-changelog`) and a repartition's (`<run>-<name>-repartition`). 1 to 100
 * characters of Kafka's topic alphabet keep every such topic within Kafka's 249.
 */
import { TributaryError } from '../errors.js';
import { describeValue } from '../runtime/options.js';

export const NAME_RULE = '1 to 100 of a-z A-Z 0-9 . _ -';

export function isStreamName(value: unknown): value is string {
  return typeof value === 'string' && /^[a-zA-Z0-9._-]{1,100}$/.test(value);
}

/** `name`, or INVALID_CONFIG saying it must follow NAME_RULE because it names `what`. */
export function checkStreamName(name: unknown, kind: string, what: string): string {
  if (!isStreamName(name)) {
    throw new TributaryError('INVALID_CONFIG', `a ${kind} name must be ${NAME_RULE} (it names ${what}), got ${describeValue(name)}`, {
      field: 'name',
      value: describeValue(name),
    });
  }
  return name;
}

/** The internal topic of a run's `index`-th repartition, named `name` or by its index. */
export function repartitionTopic(run: string, name: string | undefined, index: number): string {
  return `${run}-${name ?? `repartition-${index}`}-repartition`;
}
