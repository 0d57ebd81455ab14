/**
 * Commands shaped like Kafka's tools take their action as a switch (`topics --create`,
 * `consumer-groups --describe`): exactly one must be given, and some options belong to some
 * actions only. Both mistakes are usage errors that name the flags.
 */
import { UsageError } from './errors.js';

/** The one action whose switch is on. */
export function chooseAction<A extends string>(flags: Readonly<Record<A, boolean>>, actions: readonly A[]): A {
  const chosen = actions.filter((action) => flags[action]);
  if (chosen.length === 1) return chosen[0];
  const named = actions.map((action) => `--${action}`);
  throw new UsageError(
    chosen.length === 0
      ? `choose an action: ${named.slice(0, -1).join(', ')} or ${named[named.length - 1]}`
      : `choose one action, not ${chosen.map((action) => `--${action}`).join(' and ')}`,
  );
}

/** Refuses `flag`, when `given`, unless the action is one of `actions`. */
export function onlyWith<A extends string>(action: A, given: boolean, flag: string, actions: readonly A[]): void {
  if (given && !actions.includes(action)) throw new UsageError(`${flag} goes with ${actions.map((a) => `--${a}`).join(' or ')}, not --${action}`);
}
