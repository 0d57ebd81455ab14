/**
 * The runtime's metadata: which topics exist (in creation order), their partition counts and
 * settings, and the producer-id high-water mark. One JSON file, `<dir>/topics.json`, replaced
 * atomically on every change (written to a temporary file, fsynced, renamed over the old one, and
 * the directory fsynced), so a crash leaves either the old or the new metadata, never a mix.
 *
 * Changes are rare (admin calls, one write per block of producer ids), so the whole file is
 * rewritten each time; writes are serialized so they land in the order they were made.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { TributaryError, storageError } from '../errors.js';
import { parseTopicConfig, splitTopicConfig, type TopicConfig } from './topic-config.js';
import { validateTopicName } from './topic-name.js';

export const METADATA_FILE_NAME = 'topics.json';
const FORMAT_VERSION = 1;

/**
 * Producer ids handed out per metadata write. Ids left unused in a block when the runtime stops
 * are skipped, never reused: the int64 id space is not going to run out.
 */
export const PRODUCER_ID_BLOCK = 1000;

export interface StoredTopic {
  readonly name: string;
  readonly partitions: number;
  readonly config: TopicConfig;
}

interface Snapshot {
  /** Creation order. */
  readonly topics: readonly StoredTopic[];
  /** Every producer id below this may have been handed out. */
  readonly producerIdBlockEnd: number;
}

export class TopicStore {
  private snapshot: Snapshot;
  private byName: ReadonlyMap<string, StoredTopic>;
  private nextProducerId: number;
  /** The write in progress, so that writes never overlap and land in order. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    snapshot: Snapshot,
  ) {
    this.snapshot = snapshot;
    this.byName = indexByName(snapshot);
    // Ids of the last block may have been handed out before the previous run stopped.
    this.nextProducerId = snapshot.producerIdBlockEnd;
  }

  /** Reads `<dir>/topics.json`, or starts empty if there is none. */
  static async load(dir: string): Promise<TopicStore> {
    const file = path.join(dir, METADATA_FILE_NAME);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return new TopicStore(file, { topics: [], producerIdBlockEnd: 0 });
      throw storageError('read topic metadata', file, cause);
    }
    return new TopicStore(file, parseSnapshot(file, text));
  }

  /** Topics in creation order. */
  get topics(): readonly StoredTopic[] {
    return this.snapshot.topics;
  }

  get(name: string): StoredTopic | undefined {
    return this.byName.get(name);
  }

  /** Adds topics at the end of the creation order and persists. */
  add(topics: readonly StoredTopic[]): Promise<void> {
    return this.update((current) => ({ ...current, topics: [...current.topics, ...topics] }));
  }

  remove(names: readonly string[]): Promise<void> {
    return this.update((current) => ({ ...current, topics: current.topics.filter((topic) => !names.includes(topic.name)) }));
  }

  /** Sets new partition counts (by topic name) and persists. */
  setPartitions(counts: ReadonlyMap<string, number>): Promise<void> {
    return this.update((current) => ({
      ...current,
      topics: current.topics.map((topic) => (counts.has(topic.name) ? { ...topic, partitions: counts.get(topic.name)! } : topic)),
    }));
  }

  /** Replaces a topic's settings and persists. */
  setConfig(name: string, config: TopicConfig): Promise<void> {
    return this.update((current) => ({ ...current, topics: current.topics.map((topic) => (topic.name === name ? { ...topic, config } : topic)) }));
  }

  /** A producer id never handed out before, by this runtime or any earlier one on the same directory. */
  async allocateProducerId(): Promise<number> {
    while (this.nextProducerId >= this.snapshot.producerIdBlockEnd) {
      const end = this.snapshot.producerIdBlockEnd;
      // Concurrent callers may all find the block exhausted; only the first one to get here extends it.
      await this.update((current) =>
        current.producerIdBlockEnd === end ? { ...current, producerIdBlockEnd: end + PRODUCER_ID_BLOCK } : current,
      );
    }
    return this.nextProducerId++;
  }

  /** Waits for writes in progress; nothing is written after the caller stops making changes. */
  async settled(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  /**
   * Applies `change` to the current snapshot and persists the result; the in-memory state moves
   * only once the file is durable, so a failed write leaves both as they were.
   */
  private update(change: (current: Snapshot) => Snapshot): Promise<void> {
    const done = this.writing
      .catch(() => undefined)
      .then(async () => {
        const next = change(this.snapshot);
        if (next === this.snapshot) return;
        await writeAtomically(this.file, serialize(next));
        this.snapshot = next;
        this.byName = indexByName(next);
      });
    this.writing = done;
    return done;
  }
}

function indexByName(snapshot: Snapshot): ReadonlyMap<string, StoredTopic> {
  return new Map(snapshot.topics.map((topic) => [topic.name, topic]));
}

function serialize(snapshot: Snapshot): string {
  return `${JSON.stringify({ version: FORMAT_VERSION, ...snapshot }, null, 2)}\n`;
}

/** Validates the file's contents as strictly as user input: a hand-edited file must not open partitions with nonsense settings. */
function parseSnapshot(file: string, text: string): Snapshot {
  const corrupt = (reason: string, cause?: unknown): TributaryError =>
    new TributaryError('STORAGE_ERROR', `Topic metadata ${file} is unreadable: ${reason}`, { path: file }, { cause });
  let raw: { version?: unknown; topics?: unknown; producerIdBlockEnd?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (cause) {
    throw corrupt('not valid JSON', cause);
  }
  if (typeof raw !== 'object' || raw === null) throw corrupt('not a JSON object');
  if (raw.version !== FORMAT_VERSION) throw corrupt(`format version ${String(raw.version)} is not ${FORMAT_VERSION}`);
  if (!Number.isSafeInteger(raw.producerIdBlockEnd) || (raw.producerIdBlockEnd as number) < 0) throw corrupt('bad producerIdBlockEnd');
  if (!Array.isArray(raw.topics)) throw corrupt('topics is not an array');
  const topics: StoredTopic[] = [];
  for (const entry of raw.topics as unknown[]) {
    const { name, partitions, config } = (entry ?? {}) as { name?: unknown; partitions?: unknown; config?: unknown };
    try {
      validateTopicName(name);
      const parsed = splitTopicConfig(parseTopicConfig({ ...(config as object), partitions: partitions as number }));
      topics.push({ name: name as string, partitions: parsed.partitions, config: parsed.config });
    } catch (cause) {
      throw corrupt(`topic ${JSON.stringify(name)}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
    }
  }
  return { topics, producerIdBlockEnd: raw.producerIdBlockEnd as number };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  try {
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
    const dir = await fs.open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (cause) {
    throw storageError('write topic metadata', file, cause);
  }
}
