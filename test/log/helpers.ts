/**
 * Shared pieces of the log tests: temporary directories removed after each test, and (from
 * records.ts) deterministic record contents and segment-file walks.
 */
import { tempDirs as sharedTempDirs } from '../temp-dirs.js';

export { SeededRandom } from '../../src/workload/random.js';
export * from './records.js';

/** Temporary directories removed after each test, named for this suite. */
export const tempDirs = (): (() => string) => sharedTempDirs('tributary-log-');
