/**
 * Log benchmark: how fast one thread appends click events to a partition log and reads them back.
 *
 *   npm run bench:log [-- --records 500000 --repeats 3]
 *
 * For each batch size (16/64/256 KiB) and codec (none/lz4/gzip/zstd) it measures, as medians of
 * `--repeats` runs on a fresh log (fsync `never`, then one flush):
 *   - encode+append: encoding the records into RecordBatch v2 (what a producer does) plus appending
 *     the batches to the log, in records/s;
 *   - append: appending already-encoded batches, in records/s and MB/s of log bytes, and its ratio
 *     to a raw baseline that writes the same bytes with plain sequential `fs.writeSync` calls of
 *     1 MiB plus one fdatasync;
 *   - read+decode: sequential reads of 1 MiB from offset 0 to the end, every batch decoded into
 *     records (keys and values as buffers), in records/s.
 * Writes bench/results/log.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Log } from '../src/log/index.js';
import { decodeRecordBatches, encodeRecordBatch, type CompressionName, type RecordInput } from '../src/record/index.js';
import { ClickStream } from '../src/workload/click-events.js';
import { Progress, formatRate, median, printTable, seconds, writeResults, type Row } from './lib/report.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '500000' },
    repeats: { type: 'string', default: '3' },
  },
});
const RECORD_COUNT = Number(args.records);
const REPEATS = Number(args.repeats);
const BATCH_SIZES_KIB = [16, 64, 256];
const CODECS: CompressionName[] = ['none', 'lz4', 'gzip', 'zstd'];
const READ_BYTES = 1024 * 1024;
const RAW_CHUNK_BYTES = 1024 * 1024;

const records = new ClickStream({ seed: 42 }).records(RECORD_COUNT);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-log-'));

/** Splits the records into groups whose uncompressed batch is close to `batchBytes`. */
function groupRecords(batchBytes: number): RecordInput[][] {
  const groups: RecordInput[][] = [];
  let current: RecordInput[] = [];
  let size = 61;
  for (const record of records) {
    const recordSize = record.key.length + record.value.length + 12;
    if (size + recordSize > batchBytes && current.length > 0) {
      groups.push(current);
      current = [];
      size = 61;
    }
    current.push(record);
    size += recordSize;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function freshDir(label: string): string {
  const dir = path.join(tmpRoot, `${label}-${Math.random().toString(36).slice(2)}`);
  return dir;
}

function openLog(dir: string): Log {
  return Log.open(dir, { fsync: 'never', segmentBytes: 256 * 1024 * 1024, retentionMs: -1 });
}

function encodeAll(groups: RecordInput[][], compression: CompressionName): Buffer[] {
  return groups.map((group) => encodeRecordBatch(group, { compression }));
}

function measureEncodeAppend(groups: RecordInput[][], compression: CompressionName): number {
  const dir = freshDir('encode-append');
  const log = openLog(dir);
  const start = process.hrtime.bigint();
  for (const group of groups) log.append(encodeRecordBatch(group, { compression }));
  log.flush();
  const elapsed = seconds(start);
  log.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return elapsed;
}

function measureAppend(batches: Buffer[]): number {
  const dir = freshDir('append');
  const log = openLog(dir);
  const start = process.hrtime.bigint();
  for (const batch of batches) log.append(batch);
  log.flush();
  const elapsed = seconds(start);
  log.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return elapsed;
}

function measureRawWrite(bytes: Buffer): number {
  const file = path.join(tmpRoot, `raw-${Math.random().toString(36).slice(2)}.log`);
  const fd = fs.openSync(file, 'w');
  const start = process.hrtime.bigint();
  for (let pos = 0; pos < bytes.length; pos += RAW_CHUNK_BYTES) {
    fs.writeSync(fd, bytes, pos, Math.min(RAW_CHUNK_BYTES, bytes.length - pos));
  }
  fs.fdatasyncSync(fd);
  const elapsed = seconds(start);
  fs.closeSync(fd);
  fs.rmSync(file, { force: true });
  return elapsed;
}

/** Appends the batches once, then times reading and decoding the whole log sequentially. */
function measureReadDecode(batches: Buffer[]): { seconds: number; records: number } {
  const dir = freshDir('read');
  const writer = openLog(dir);
  for (const batch of batches) writer.append(batch);
  writer.close();
  const samples: number[] = [];
  let decoded = 0;
  for (let i = 0; i < REPEATS; i++) {
    const log = openLog(dir);
    const start = process.hrtime.bigint();
    let offset = 0;
    let count = 0;
    let valueBytes = 0;
    while (offset < log.logEndOffset) {
      const result = log.read(offset, READ_BYTES);
      // The log verified every batch's CRC on the way out, so the decoder need not repeat it.
      for (const batch of decodeRecordBatches(result.bytes, { verifyCrc: false })) {
        for (const record of batch.records) {
          if (record.offset >= offset) {
            count++;
            valueBytes += record.value === null ? 0 : record.value.length;
          }
        }
      }
      offset = result.nextOffset;
    }
    samples.push(seconds(start));
    log.close();
    decoded = count;
    if (valueBytes === 0) throw new Error('read back no value bytes');
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { seconds: median(samples), records: decoded };
}

const configurations = BATCH_SIZES_KIB.flatMap((kib) => CODECS.map((codec) => ({ kib, codec })));
const progress = new Progress(configurations.length);
const rows: Row[] = [];
const results: unknown[] = [];

try {
  for (const { kib, codec } of configurations) {
    const groups = groupRecords(kib * 1024);
    const batches = encodeAll(groups, codec);
    const logBytes = batches.reduce((sum, batch) => sum + batch.length, 0);
    const concatenated = Buffer.concat(batches);

    const encodeAppendSeconds = median(Array.from({ length: REPEATS }, () => measureEncodeAppend(groups, codec)));
    const appendSeconds = median(Array.from({ length: REPEATS }, () => measureAppend(batches)));
    const rawSeconds = median(Array.from({ length: REPEATS }, () => measureRawWrite(concatenated)));
    const read = measureReadDecode(batches);
    if (read.records !== RECORD_COUNT) throw new Error(`read back ${read.records} records, wrote ${RECORD_COUNT}`);

    const result = {
      batchKiB: kib,
      compression: codec,
      recordsPerBatch: Math.round(RECORD_COUNT / batches.length),
      logMB: logBytes / 1e6,
      encodeAppendRecordsPerSec: RECORD_COUNT / encodeAppendSeconds,
      appendRecordsPerSec: RECORD_COUNT / appendSeconds,
      appendMBPerSec: logBytes / 1e6 / appendSeconds,
      rawWriteMBPerSec: logBytes / 1e6 / rawSeconds,
      appendToRawRatio: rawSeconds / appendSeconds,
      readDecodeRecordsPerSec: read.records / read.seconds,
    };
    results.push(result);
    rows.push({
      batch: `${kib} KiB`,
      codec,
      'rec/batch': result.recordsPerBatch,
      'encode+append rec/s': formatRate(result.encodeAppendRecordsPerSec),
      'append rec/s': formatRate(result.appendRecordsPerSec),
      'append MB/s': result.appendMBPerSec.toFixed(0),
      'raw MB/s': result.rawWriteMBPerSec.toFixed(0),
      'append/raw': `${(result.appendToRawRatio * 100).toFixed(0)}%`,
      'read+decode rec/s': formatRate(result.readDecodeRecordsPerSec),
    });
    progress.step(`${kib} KiB ${codec}: encode+append ${formatRate(result.encodeAppendRecordsPerSec)} rec/s`);
  }
} finally {
  progress.finish();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
}

console.log(`\nlog benchmark: ${RECORD_COUNT} click events (~${Math.round(records.reduce((s, r) => s + r.value.length, 0) / RECORD_COUNT)} B values), one thread, fsync never, medians of ${REPEATS}\n`);
printTable(rows);
console.log(`\nwrote ${writeResults('log', { records: RECORD_COUNT, repeats: REPEATS, results })}`);
