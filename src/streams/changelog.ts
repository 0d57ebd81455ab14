/**
 * A state store's changelog in a stream task: every change of the store goes to partition
 * `task index` of the compacted topic `<run>-<store>-changelog` (a record keyed by what names the
 * entry; a deletion is a tombstone), and a starting task rebuilds the store from it.
 *
 * Restoring to the last commit, not to the end. A task commits its input positions together with
 * each changelog's end offset at that moment (the commit's metadata; see task-binding.ts). Changes
 * after that offset were made by records after the committed positions, which the task reads
 * again; replaying them too would count those records twice. So the store is rebuilt from the
 * changes before the committed changelog offset only. The changes after it are then overwritten:
 * each key they touched is written again with its restored value (or a tombstone), so that the
 * topic read to its end, or compacted, says what the store holds, and the next commit's changelog
 * offset covers a consistent history.
 *
 * Limit: compaction only cleans closed segments (1 GiB by default, so rarely), but a change before
 * the committed offset that a later, uncommitted change superseded can be cleaned away before the
 * restart; the restored key then misses it. Exactly-once (transactions) will remove this.
 *
 * Keys and values are JSON, with Buffers and Uint8Arrays kept as `{ "$bytes": base64 }`, so record
 * keys (Buffers by default) survive the round trip; other non-JSON values (Maps, Dates...) do not.
 */
import { Consumer } from '../client/consumer.js';
import type { PartitionClient } from '../runtime/partition-client.js';
import type { AggregationStore } from './aggregation/aggregate-with.js';
import { FlowControl } from './flow-control.js';
import type { SinkWriter } from './sink-writer.js';
import { SourceReader } from './source-reader.js';
import type { KeyValueChange, KeyValueStore } from './state/key-value-store.js';
import type { SessionChange, SessionStore } from './state/session-store.js';
import type { WindowChange, WindowStore } from './state/window-store.js';

export function changelogTopic(run: string, store: string): string {
  return `${run}-${store}-changelog`;
}

type Change = KeyValueChange<unknown, unknown> | WindowChange<unknown, unknown> | SessionChange<unknown, unknown>;

/** How the changes of one kind of store become records and back, and where a change's entry stands now. */
interface ChangeCodec {
  entryKey(change: Change): unknown;
  fromEntryKey(entryKey: unknown, value: unknown): Change;
  current(store: AggregationStore, change: Change): unknown;
}

const CODECS: Readonly<Record<AggregationStore['kind'], ChangeCodec>> = {
  'key-value': {
    entryKey: (change) => change.key,
    fromEntryKey: (key, value) => ({ key, value }),
    current: (store, change) => (store as KeyValueStore<unknown, unknown>).get(change.key),
  },
  window: {
    entryKey: (change) => [change.key, (change as WindowChange<unknown, unknown>).start],
    fromEntryKey: (entryKey, value) => {
      const [key, start] = entryKey as [unknown, number];
      return { key, start, value };
    },
    current: (store, change) => (store as WindowStore<unknown, unknown>).get(change.key, (change as WindowChange<unknown, unknown>).start),
  },
  session: {
    entryKey: (change) => [change.key, (change as SessionChange<unknown, unknown>).start, (change as SessionChange<unknown, unknown>).end],
    fromEntryKey: (entryKey, value) => {
      const [key, start, end] = entryKey as [unknown, number, number];
      return { key, start, end, value };
    },
    current: (store, change) => {
      const { key, start, end } = change as SessionChange<unknown, unknown>;
      return (store as SessionStore<unknown, unknown>).fetchSession(key, start, end);
    },
  },
};

export class StoreChangelog {
  private readonly codec: ChangeCodec;
  /** The changelog's end once restored, for a commit made before this task changed anything. */
  private restoredEnd = 0;

  constructor(
    readonly store: AggregationStore,
    readonly topic: string,
    private readonly partition: number,
    private readonly writer: SinkWriter,
  ) {
    this.codec = CODECS[store.kind];
  }

  /**
   * Rebuilds the store from the changes before `committedEnd` (none when the task never
   * committed), overwrites the changes after it, then logs every change the store makes from now
   * on. Resolves once the overwrites are acknowledged.
   */
  async restore(client: PartitionClient, committedEnd: number): Promise<void> {
    const { offset: end } = await client.request('listOffsets', { topic: this.topic, partition: this.partition, spec: 'latest' });
    const replayed: Change[] = [];
    const overwritten = new Map<string, Change>();
    if (end > 0) {
      const consumer = new Consumer(client, { autoOffsetReset: 'earliest' });
      try {
        consumer.assign([{ topic: this.topic, partition: this.partition, offset: -2 }]);
        const collect = (record: { offset: number; key: Buffer | null; value: Buffer | null }): void => {
          const change = this.codec.fromEntryKey(decodeJson(record.key!), record.value === null ? null : decodeJson(record.value));
          if (record.offset < committedEnd) replayed.push(change);
          else overwritten.set(record.key!.toString('latin1'), change);
        };
        await new SourceReader(this.topic, consumer, collect, new FlowControl(), [this.partition], new Map([[this.partition, end]]), null, true).read();
      } finally {
        await consumer.disconnect();
      }
    }
    this.store.restore(replayed as never);
    for (const change of overwritten.values()) this.write(change, this.codec.current(this.store, change) ?? null);
    const sent = this.writer.lastSent();
    await this.writer.flush();
    this.restoredEnd = sent === null ? end : endOffset(await sent.result, sent.count);
    this.store.onChange((change) => this.write(change as Change, change.value));
  }

  /**
   * The end offset of the changelog once everything the store changed so far is acknowledged:
   * call it when a commit takes its snapshot, and await it after flushing.
   */
  position(): () => Promise<number> {
    const sent = this.writer.lastSent();
    const restoredEnd = this.restoredEnd;
    return async () => (sent === null ? restoredEnd : endOffset(await sent.result, sent.count));
  }

  private write(change: Change, value: unknown): void {
    const key = encodeJson(this.codec.entryKey(change))!;
    const bytes = value === null || value === undefined ? null : encodeJson(value);
    this.writer.write({ key, value: bytes, partition: this.partition }, key.length + (bytes?.length ?? 0));
  }
}

/** The offset after the last record of a send to one partition. */
function endOffset(metadata: readonly { readonly baseOffset: string }[], count: number): number {
  return Number(metadata[0].baseOffset) + count;
}

function encodeJson(value: unknown): Buffer {
  return Buffer.from(
    JSON.stringify(value, function (this: Record<string, unknown>, key, encoded: unknown) {
      // The replacer sees a Buffer after its toJSON; the holder still has the original.
      const original = this[key];
      return original instanceof Uint8Array ? { $bytes: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') } : encoded;
    }),
    'utf8',
  );
}

function decodeJson(bytes: Buffer): unknown {
  return JSON.parse(bytes.toString('utf8'), (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null) return value;
    const { $bytes } = value as { $bytes?: unknown };
    return typeof $bytes === 'string' && Object.keys(value).length === 1 ? Buffer.from($bytes, 'base64') : value;
  });
}
