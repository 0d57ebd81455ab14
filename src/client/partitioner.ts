/**
 * Which partition a produced record goes to.
 *
 * The default partitioner is Kafka's: keyed records hash with Kafka's murmur2, so a key lands on
 * the same partition here as from the Java client, librdkafka's `murmur2_random` or KafkaJS's
 * DefaultPartitioner, and a pipeline moved to a real cluster keeps its per-key ordering and
 * co-partitioning. Records without a key use sticky partitioning (KIP-480).
 */
import { TributaryError } from '../errors.js';

export interface PartitionArgs {
  readonly topic: string;
  /** Number of partitions the topic has now; at least 1. */
  readonly partitionCount: number;
  readonly key: Buffer | null;
}

/**
 * Chooses a partition for each record. Custom partitioners are plain objects implementing this.
 * `partition` runs once per record on the producer's thread, so it must be cheap and synchronous.
 */
export interface Partitioner {
  partition(args: PartitionArgs): number;
  /**
   * The producer calls this when the batch it was filling for `prevPartition` of `topic` is
   * complete (full or lingered out) and a new batch is about to start, before asking `partition`
   * again. Partitioners that do not care about batch boundaries leave it out.
   */
  onNewBatch?(topic: string, prevPartition: number, partitionCount: number): void;
}

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`): a signed 32-bit result, exactly
 * as Java computes it. `Math.imul` is Java's wrapping int multiply; JavaScript's bitwise operators
 * already work on int32 and `>>>` matches Java's, so no other step needs masking.
 */
export function murmur2(key: Uint8Array): number {
  const length = key.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) h = mixWord(h, key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24));
  // Java's tail is a switch falling through from case 3 to case 1, which alone multiplies; this
  // project's tsconfig forbids fall-through (noFallthroughCasesInSwitch), hence cumulative ifs.
  const tail = length & 3;
  if (tail !== 0) {
    if (tail === 3) h ^= key[whole + 2] << 16;
    if (tail >= 2) h ^= key[whole + 1] << 8;
    h ^= key[whole];
    h = Math.imul(h, M);
  }
  return finish(h);
}

/**
 * `murmur2` of a string's UTF-8 bytes; `byteLength` is `Buffer.byteLength(key)`. A string whose
 * byte length equals its length is ASCII (any other code unit takes 2 to 4 bytes), so its char
 * codes are its bytes and it is hashed without being encoded: string keys are the common case,
 * and encoding each one into a Buffer just to hash it cost more than the hash.
 */
export function murmur2Utf8(key: string, byteLength: number): number {
  if (byteLength !== key.length) return murmur2(Buffer.from(key, 'utf8'));
  let h = SEED ^ byteLength;
  const whole = byteLength & ~3;
  for (let i = 0; i < whole; i += 4) h = mixWord(h, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24));
  const tail = byteLength & 3;
  if (tail !== 0) {
    if (tail === 3) h ^= key.charCodeAt(whole + 2) << 16;
    if (tail >= 2) h ^= key.charCodeAt(whole + 1) << 8;
    h ^= key.charCodeAt(whole);
    h = Math.imul(h, M);
  }
  return finish(h);
}

/** Folds one little-endian 4-byte word into the hash. */
function mixWord(h: number, k: number): number {
  k = Math.imul(k, M);
  k ^= k >>> R;
  k = Math.imul(k, M);
  return Math.imul(h, M) ^ k;
}

function finish(h: number): number {
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

/**
 * Kafka's `Utils.toPositive`: clears the sign bit rather than taking the absolute value, which
 * would leave -2^31 negative and would move keys to different partitions than Java does.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

export interface DefaultPartitionerOptions {
  /** Uniform in [0, 1), as `Math.random`; injectable so tests can seed the sticky choice. */
  readonly random?: () => number;
}

/**
 * Kafka's default partitioner: `toPositive(murmur2(key)) % partitionCount` for keyed records;
 * for null keys, one partition per topic is used until the producer reports (`onNewBatch`) that
 * its batch completed, then a different one is picked at random. Sticking fills batches faster
 * than round-robin, so unkeyed records go out in fewer, larger batches (KIP-480).
 */
export function createDefaultPartitioner(options: DefaultPartitionerOptions = {}): Partitioner {
  const random = options.random ?? Math.random;
  const sticky = new Map<string, number>();

  const pickOther = (partitionCount: number, avoid: number): number => {
    if (partitionCount === 1) return 0;
    // Draw from the partitionCount - 1 others and skip over `avoid`: one draw, never a retry loop.
    if (avoid >= 0 && avoid < partitionCount) {
      const drawn = Math.floor(random() * (partitionCount - 1));
      return drawn >= avoid ? drawn + 1 : drawn;
    }
    return Math.floor(random() * partitionCount);
  };

  return {
    partition({ topic, partitionCount, key }) {
      checkPartitionCount(topic, partitionCount);
      if (key !== null) return toPositive(murmur2(key)) % partitionCount;
      const current = sticky.get(topic);
      // A count that shrank below the sticky choice (a topic deleted and recreated smaller) needs a fresh one.
      if (current !== undefined && current < partitionCount) return current;
      const chosen = pickOther(partitionCount, -1);
      sticky.set(topic, chosen);
      return chosen;
    },

    onNewBatch(topic, prevPartition, partitionCount) {
      checkPartitionCount(topic, partitionCount);
      // Only the sticky partition's own batch moves the topic on; a keyed record's batch completing elsewhere does not.
      if (sticky.get(topic) !== prevPartition) return;
      sticky.set(topic, pickOther(partitionCount, prevPartition));
    },
  };
}

function checkPartitionCount(topic: string, partitionCount: number): void {
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) {
    throw new TributaryError(
      'INVALID_PARTITIONS',
      `Cannot choose a partition of topic '${topic}': partition count must be an integer >= 1, got ${String(partitionCount)}`,
      { topic, partitionCount },
    );
  }
}
