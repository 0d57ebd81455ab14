/**
 * End-of-input markers of a repartition topic (see repartition.ts), how a bounded run learns that
 * an internal topic will get nothing more.
 *
 * Every task of a run writes into every partition of a repartition topic, so no single end offset
 * bounds a partition while the writers are still running. When a task's input to the repartition
 * completes (its bounded sources reached their end), the task writes one marker into each
 * partition after its last record there: a record with no key and no value whose header
 * `tributary.end-of-input` is `<run id>/<task index>`. A reader has reached the end of a partition
 * once it has read a marker of the current run from every task: nothing can follow in that
 * partition, since each writer's records stay in order. This is Flink's end-of-partition event
 * carried in the log, where Kafka Streams, whose inputs never end, has nothing to learn.
 *
 * Markers read are part of the reader's progress: a task commits the markers it has read with its
 * offsets (in the commit metadata, as a bitmask of tasks per partition) and restores them when it
 * starts again, since the offsets it resumes from lie past them. The run id makes markers of an
 * earlier run of the same name, still in the topic, count for nothing.
 */
import type { ProducerMessage } from '../client/producer-message.js';
import type { RecordHeader } from '../record/types.js';

export const END_MARKER_HEADER = 'tributary.end-of-input';

/** What a repartition's reader needs to recognise the end of its partitions. */
export interface EndMarkerSpec {
  /** The id of this run (a new one for every `rt.run`; kept when a task restarts). */
  readonly run: string;
  /** How many tasks write into the topic: each one's marker is needed. */
  readonly writers: number;
}

/** Markers read so far per partition, as a commit carries them: a hexadecimal bitmask of the tasks whose marker was read. */
export type EndMarkerState = Readonly<Record<string, string>>;

/** The markers task `writer` writes into each of `partitions` partitions once its input ended. */
export function endMarkerMessages(run: string, writer: number, partitions: number): ProducerMessage<Buffer | null, Buffer | null>[] {
  const headers = [{ key: END_MARKER_HEADER, value: Buffer.from(`${run}/${writer}`, 'latin1') }];
  return Array.from({ length: partitions }, (_, partition) => ({ key: null, value: null, headers, partition }));
}

/** The markers one reader has read, partition by partition. */
export class EndMarkers {
  private readonly seen = new Map<number, bigint>();
  private readonly complete: bigint;
  private readonly prefix: string;

  constructor(
    spec: EndMarkerSpec,
    /** What its last commit recorded, if that commit belonged to this run. */
    restored: EndMarkerState | undefined,
  ) {
    this.complete = (1n << BigInt(spec.writers)) - 1n;
    this.prefix = `${spec.run}/`;
    for (const [partition, mask] of Object.entries(restored ?? {})) this.seen.set(Number(partition), BigInt(`0x${mask}`));
  }

  /** True if `headers` make the record a marker, which is then counted and must not be emitted. Markers of other runs are markers too. */
  take(partition: number, headers: readonly RecordHeader[]): boolean {
    if (headers.length === 0) return false;
    const marker = headers.find((header) => header.key === END_MARKER_HEADER);
    if (marker === undefined) return false;
    const text = marker.value?.toString('latin1') ?? '';
    if (text.startsWith(this.prefix)) {
      const writer = Number(text.slice(this.prefix.length));
      if (Number.isSafeInteger(writer) && writer >= 0) this.seen.set(partition, (this.seen.get(partition) ?? 0n) | (1n << BigInt(writer)));
    }
    return true;
  }

  /** Whether every writer's marker was read in `partition`. */
  finished(partition: number): boolean {
    const seen = this.seen.get(partition);
    return seen !== undefined && (seen & this.complete) === this.complete;
  }

  /** What a commit records. */
  state(): EndMarkerState {
    return Object.fromEntries([...this.seen].map(([partition, mask]) => [String(partition), mask.toString(16)]));
  }
}
