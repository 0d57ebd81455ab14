/**
 * Deterministic record contents derived from the offset, so any reader, in this process or
 * another, can check any record without a copy of what was written; and walks over the batch
 * headers of segment files. No vitest imports: the crash test's child process uses this too.
 */
import fs from 'node:fs';
import { baseOffsetAt, batchSizeAt, lastOffsetAt, maxTimestampAt } from '../../src/record/batch-header.js';
import { decodeRecordBatches } from '../../src/record/batch-decoder.js';
import { encodeRecordBatch } from '../../src/record/batch-encoder.js';
import type { RecordInput } from '../../src/record/types.js';

/** The key of the record at `offset`. */
export function keyFor(offset: number): string {
  return `k${offset}`;
}

/** The value of the record at `offset`: its length varies with the offset so batches differ in size. */
export function valueFor(offset: number): string {
  return `v${offset}:${'abcdefghij'.repeat(offset % 13)}`;
}

/** The timestamp of the record at `offset`: increasing overall, but falling for three offsets in every four (disorder inside batches). */
export function timestampFor(offset: number): number {
  return 1_700_000_000_000 + offset * 10 - (offset % 4) * 13;
}

/** The records that belong at offsets [baseOffset, baseOffset + count). */
export function recordsAt(baseOffset: number, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({ key: keyFor(baseOffset + i), value: valueFor(baseOffset + i), timestamp: timestampFor(baseOffset + i) }));
}

/** A batch of `count` records meant for offset `baseOffset` (the log assigns the offset; the contents follow it). */
export function batchAt(baseOffset: number, count: number): Buffer {
  return encodeRecordBatch(recordsAt(baseOffset, count));
}

/** Checks that every record in `bytes` has the key, value and timestamp its offset implies and that batches are contiguous; returns what it saw. */
export function checkRecords(bytes: Buffer): { first: number; next: number; problems: string[] } {
  const problems: string[] = [];
  let first = -1;
  let next = -1;
  for (const batch of decodeRecordBatches(bytes)) {
    if (first < 0) first = batch.baseOffset;
    if (next >= 0 && batch.baseOffset !== next) problems.push(`batch at ${batch.baseOffset} follows ${next}`);
    for (const record of batch.records) {
      const o = record.offset;
      if (record.key?.toString() !== keyFor(o) || record.value?.toString() !== valueFor(o) || record.timestamp !== timestampFor(o)) {
        problems.push(`record ${o} has unexpected contents`);
      }
    }
    next = batch.lastOffset + 1;
  }
  return { first, next, problems };
}

export interface BatchSpan {
  readonly position: number;
  readonly size: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

/** The batches of a sound segment file, by walking their headers. */
export function batchSpans(file: string): BatchSpan[] {
  const bytes = fs.readFileSync(file);
  const spans: BatchSpan[] = [];
  for (let position = 0; position < bytes.length; ) {
    const size = batchSizeAt(bytes, position);
    spans.push({ position, size, baseOffset: baseOffsetAt(bytes, position), lastOffset: lastOffsetAt(bytes, position), maxTimestamp: maxTimestampAt(bytes, position) });
    position += size;
  }
  return spans;
}

/** Expected `.index` and `.timeindex` contents for a segment, by Kafka's rule as LogSegment.recover applies it, plus the entry written at roll. */
export function expectedIndexes(spans: readonly BatchSpan[], baseOffset: number, indexIntervalBytes: number): { index: Buffer; timeIndex: Buffer } {
  const index: number[][] = [];
  const time: number[][] = [];
  let maxTs = -1;
  let offsetOfMax = baseOffset;
  let lastEntryPosition = 0;
  const offerTime = (): void => {
    if (maxTs > (time.length === 0 ? -1 : time[time.length - 1][0])) time.push([maxTs, offsetOfMax - baseOffset]);
  };
  for (const span of spans) {
    if (span.maxTimestamp > maxTs) {
      maxTs = span.maxTimestamp;
      offsetOfMax = span.lastOffset;
    }
    if (span.position - lastEntryPosition > indexIntervalBytes) {
      index.push([span.lastOffset - baseOffset, span.position]);
      offerTime();
      lastEntryPosition = span.position;
    }
  }
  offerTime();
  const indexBytes = Buffer.alloc(index.length * 8);
  index.forEach(([relative, position], i) => {
    indexBytes.writeInt32BE(relative, i * 8);
    indexBytes.writeInt32BE(position, i * 8 + 4);
  });
  const timeBytes = Buffer.alloc(time.length * 12);
  time.forEach(([timestamp, relative], i) => {
    timeBytes.writeBigInt64BE(BigInt(timestamp), i * 12);
    timeBytes.writeInt32BE(relative, i * 12 + 8);
  });
  return { index: indexBytes, timeIndex: timeBytes };
}
