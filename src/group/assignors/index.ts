/**
 * Partition assignors (range, roundrobin, cooperative-sticky, and tributary's locality assignor
 * for stream tasks) and the lookup by Kafka protocol name. Custom assignors implement `Assignor`
 * and are passed to `assignorByName` in `custom`.
 */
import { TributaryError } from '../../errors.js';
import { cooperativeStickyAssignor } from './cooperative-sticky.js';
import { LOCALITY_ASSIGNOR_NAME } from './locality.js';
import { rangeAssignor } from './range.js';
import { roundRobinAssignor } from './round-robin.js';
import type { Assignor } from './types.js';

export type { Assignment, Assignor, AssignorInput, AssignorMember, RebalanceProtocol, TopicPartition } from './types.js';
export { rangeAssign, rangeAssignor } from './range.js';
export { roundRobinAssign, roundRobinAssignor } from './round-robin.js';
export { cooperativeStickyAssign, cooperativeStickyAssignor, cooperativeStickyPlan } from './cooperative-sticky.js';
export type { CooperativePlan, PendingTransfer } from './cooperative-sticky.js';
// Not a built-in by name: it needs the runtime's placement, so a member makes it with localityAssignor({ slot, slotOf }).
export { LOCALITY_ASSIGNOR_NAME, decodeSlot, decodeTask, encodeSlot, localityAssign, localityAssignor } from './locality.js';
export type { LocalityAssignorOptions, PartitionSlots } from './locality.js';

/** The built-in assignors, by the protocol name Kafka clients advertise. */
export const BUILTIN_ASSIGNORS: ReadonlyMap<string, Assignor> = new Map(
  [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor].map((a) => [a.name, a]),
);

/**
 * The assignor with this protocol name: a custom one first, then the built-ins.
 * Throws INVALID_CONFIG naming the unknown assignor and the known names.
 */
export function assignorByName(name: string, custom: readonly Assignor[] = []): Assignor {
  const found = custom.find((a) => a.name === name) ?? BUILTIN_ASSIGNORS.get(name);
  if (found === undefined && name === LOCALITY_ASSIGNOR_NAME) {
    throw new TributaryError('INVALID_CONFIG', `the ${name} assignor needs to know where partitions live: pass localityAssignor({ slot, slotOf }) rather than its name`, {
      assignor: name,
    });
  }
  if (found === undefined) {
    const known = [...custom.map((a) => a.name), ...BUILTIN_ASSIGNORS.keys()];
    throw new TributaryError('INVALID_CONFIG', `unknown partition assignor ${JSON.stringify(name)}; known: ${known.join(', ')}`, {
      assignor: name,
      known,
    });
  }
  return found;
}
