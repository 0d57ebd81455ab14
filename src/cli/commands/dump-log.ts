/**
 * `tributary dump-log`: kafka-dump-log for tributary's files, which are Kafka's. Text output
 * follows Kafka's tool line for line (so what reads its output reads ours); `--json` prints one
 * object per line, each with `file` and `kind` (batch, invalid-bytes, offset-index-entry,
 * time-index-entry, index-mismatch, summary).
 *
 * It only reads: files are opened read-only and the data directory's lock is not taken, so it
 * works on a directory an application has open, and on copies of segments anywhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defineCommand } from '../command.js';
import { parseInteger } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { Progress } from '../progress.js';
import {
  ReadOnlyFile,
  dumpLog,
  dumpOffsetIndex,
  dumpTimeIndex,
  type DumpedBatch,
  type IndexDump,
  type IndexMismatch,
  type InvalidBytes,
  type OffsetIndexEntry,
  type TimeIndexEntry,
} from '../segment-dump.js';

/** Segments at least this big get a progress bar (on a terminal). */
const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

interface DumpOptions {
  readonly deep: boolean;
  readonly printData: boolean;
  readonly sanityOnly: boolean;
  readonly signal: AbortSignal;
}

export default defineCommand({
  usage: ['FILE... [--deep-iteration] [--print-data-log] [--index-sanity-check]', '--topic TOPIC --partition P [--dir DIR] [--deep-iteration] [--print-data-log]'],
  positionals: 'FILE',
  about:
    'Prints every batch of .log segments (offsets, count, position, timestamp, size, magic, codec, producer id, epoch and sequences, ' +
    'transactional and control flags, the CRC and whether it holds), with --deep-iteration every record (offset, timestamp, sizes, ' +
    'sequence, header keys) and with --print-data-log also keys and values; and the entries of .index and .timeindex files, checked ' +
    'against the .log beside them. A FILE may be a partition directory (all its .log segments); --topic and --partition name one in --dir. ' +
    'A corrupt batch is reported with its position and skipped; bytes that are not a batch are reported and the dump resumes at the next ' +
    'sound batch. Files are only read, and the directory lock is not taken. Exits 3 when anything was invalid.',
  flags: {
    'deep-iteration': { type: 'boolean', help: 'print every record of every batch' },
    'print-data-log': { type: 'boolean', help: 'print keys and values too (implies --deep-iteration)' },
    'index-sanity-check': { type: 'boolean', help: 'for index files: only say whether the log layer would trust them' },
    topic: { type: 'string', value: 'TOPIC', help: "with --partition: dump that partition's segments in --dir" },
    partition: { type: 'string', value: 'P', help: 'with --topic: the partition' },
  },
  dataDir: true,
  examples: ['tributary dump-log .tributary/clicks-0/00000000000000000000.log --print-data-log', 'tributary dump-log --topic clicks --partition 0 --json'],
  async run({ flags, positionals, out, signal }) {
    if ((flags.topic === undefined) !== (flags.partition === undefined)) throw new UsageError('--topic and --partition go together');
    const files = positionals.flatMap((file) => expand(file));
    if (flags.topic !== undefined) {
      const partition = parseInteger('--partition', flags.partition!, 0);
      const dir = path.join(path.resolve(flags.dir), `${flags.topic}-${partition}`);
      if (!fs.existsSync(dir)) throw new CliError(`no partition directory ${dir} (is the topic or partition misspelt, or --dir wrong?)`);
      files.push(...expand(dir));
    }
    if (files.length === 0) throw new UsageError('name the files to dump, or --topic and --partition');
    const options: DumpOptions = {
      deep: flags['deep-iteration'] || flags['print-data-log'],
      printData: flags['print-data-log'],
      sanityOnly: flags['index-sanity-check'],
      signal,
    };
    let invalid = false;
    for (const file of files) {
      if (signal.aborted) break;
      if (!out.json) await out.line(`Dumping ${file}`);
      const suffix = path.extname(file);
      if (suffix === '.log') invalid = (await dumpLogFile(out, file, options)) || invalid;
      else if (suffix === '.index') invalid = (await dumpIndexFile(out, file, 'offset', options)) || invalid;
      else if (suffix === '.timeindex') invalid = (await dumpIndexFile(out, file, 'time', options)) || invalid;
      else out.note(`Ignoring unknown file ${file}`);
    }
    return invalid ? EXIT.INVALID_DATA : EXIT.OK;
  },
});

/** A directory stands for its .log segments, in offset order. */
function expand(file: string): string[] {
  if (!fs.existsSync(file)) throw new CliError(`no such file: ${file}`);
  if (!fs.statSync(file).isDirectory()) return [file];
  return fs
    .readdirSync(file)
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => path.join(file, name));
}

/** Dumps one .log; answers whether anything in it was invalid. */
async function dumpLogFile(out: Output, filePath: string, options: DumpOptions): Promise<boolean> {
  const file = new ReadOnlyFile(filePath);
  const progress = file.fileBytes >= PROGRESS_MIN_BYTES ? Progress.start(out, 'dump', file.fileBytes, { unit: 'bytes', itemUnit: 'batches' }) : null;
  const summary = { batches: 0, records: 0, invalidBatches: 0, invalidBytes: 0, nonConsecutive: [] as Array<[number, number]> };
  let lastOffset = -1;
  try {
    if (!out.json && file.nameOffset !== null) await out.line(`Log starting offset: ${file.nameOffset}`);
    for (const entry of dumpLog(file, options.deep)) {
      if (entry.kind === 'invalid-bytes') {
        summary.invalidBytes += entry.bytes.length;
        await (out.json ? out.jsonLine({ file: filePath, kind: 'invalid-bytes', ...entry.bytes }) : out.line(invalidBytesLine(filePath, entry.bytes)));
        continue;
      }
      const { batch } = entry;
      summary.batches++;
      if (!batch.isValid) summary.invalidBatches++;
      for (const record of batch.records ?? []) {
        if (lastOffset >= 0 && record.offset !== lastOffset + 1) summary.nonConsecutive.push([lastOffset, record.offset]);
        lastOffset = record.offset;
      }
      summary.records += batch.records?.length ?? 0;
      await (out.json ? out.jsonLine(batchJson(filePath, batch, options)) : out.write(batchText(batch, options)));
      progress?.update(batch.position + batch.size, summary.batches);
      if (options.signal.aborted) break;
    }
  } finally {
    progress?.stop();
    file.close();
  }
  // As Kafka's dump: gaps are reported, not counted as invalid (compaction leaves them on purpose).
  if (summary.nonConsecutive.length > 0 && !out.json) {
    out.note(`Non-consecutive offsets in ${filePath}`);
    for (const [first, second] of summary.nonConsecutive) out.note(`  ${first} is followed by ${second}`);
  }
  if (out.json) {
    const { nonConsecutive, ...counts } = summary;
    await out.jsonLine({ file: filePath, kind: 'summary', ...counts, nonConsecutiveOffsets: nonConsecutive });
  }
  return summary.invalidBatches > 0 || summary.invalidBytes > 0;
}

function batchText(batch: DumpedBatch, options: DumpOptions): string {
  const lines = [
    `baseOffset: ${batch.baseOffset} lastOffset: ${batch.lastOffset} count: ${batch.count} baseSequence: ${batch.baseSequence} ` +
      `lastSequence: ${batch.lastSequence} producerId: ${batch.producerId} producerEpoch: ${batch.producerEpoch} ` +
      `partitionLeaderEpoch: ${batch.partitionLeaderEpoch} isTransactional: ${batch.isTransactional} isControl: ${batch.isControl} ` +
      `deleteHorizonMs: ${batch.deleteHorizonMs === null ? 'OptionalLong.empty' : `OptionalLong[${batch.deleteHorizonMs}]`} ` +
      `position: ${batch.position} ${batch.timestampType}: ${batch.maxTimestamp} size: ${batch.size} magic: ${batch.magic} ` +
      `compresscodec: ${batch.compression} crc: ${batch.crc} isvalid: ${batch.isValid}` +
      (batch.problem === null ? '' : ` problem: ${batch.problem}${batch.computedCrc === null ? '' : ` computedCrc: ${batch.computedCrc}`}`),
  ];
  if (batch.recordsError !== undefined) lines.push(`| records unreadable: ${batch.recordsError}`);
  for (const record of batch.records ?? []) {
    let line =
      `| offset: ${record.offset} ${batch.timestampType}: ${record.timestamp} keySize: ${record.keySize} valueSize: ${record.valueSize} ` +
      `sequence: ${record.sequence} headerKeys: [${record.headers.map((header) => header.key).join(',')}]`;
    if (record.marker !== undefined) line += ` endTxnMarker: ${record.marker.type} coordinatorEpoch: ${record.marker.coordinatorEpoch}`;
    else if (options.printData) line += `${record.key === null ? '' : ` key: ${record.key.toString('utf8')}`}${record.value === null ? '' : ` payload: ${record.value.toString('utf8')}`}`;
    lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

function batchJson(file: string, batch: DumpedBatch, options: DumpOptions): Record<string, unknown> {
  const { records, ...fields } = batch;
  if (records === undefined) return { file, kind: 'batch', ...fields };
  return {
    file,
    kind: 'batch',
    ...fields,
    records: records.map(({ key, value, headers, ...record }) => ({
      ...record,
      headers: headers.map((header) => (options.printData ? { key: header.key, value: header.value?.toString('utf8') ?? null } : { key: header.key })),
      ...(options.printData ? { key: key?.toString('utf8') ?? null, value: value?.toString('utf8') ?? null } : {}),
    })),
  };
}

function invalidBytesLine(file: string, bytes: InvalidBytes): string {
  const where = `Found ${bytes.length} invalid bytes at position ${bytes.position} of ${path.basename(file)} (${bytes.problem})`;
  return bytes.resumesAt === null ? `${where}; no sound batch follows` : `${where}; resuming at position ${bytes.resumesAt}`;
}

/** Dumps one index file; answers whether it was invalid (fails the log layer's sanity check, or the log contradicts it). */
async function dumpIndexFile(out: Output, filePath: string, kind: 'offset' | 'time', options: DumpOptions): Promise<boolean> {
  const file = new ReadOnlyFile(filePath);
  let dump: IndexDump<OffsetIndexEntry> | IndexDump<TimeIndexEntry>;
  try {
    dump = kind === 'offset' ? dumpOffsetIndex(file) : dumpTimeIndex(file);
  } finally {
    file.close();
  }
  const invalid = dump.sanityProblem !== null || dump.mismatches.length > 0;
  if (out.json) {
    if (!options.sanityOnly) {
      for (const entry of dump.entries) await out.jsonLine({ file: filePath, kind: `${kind}-index-entry`, ...entry });
      for (const { kind: problem, ...mismatch } of dump.mismatches) await out.jsonLine({ file: filePath, kind: 'index-mismatch', problem, ...mismatch });
    }
    await out.jsonLine({ file: filePath, kind: 'summary', entries: dump.entries.length, sanityProblem: dump.sanityProblem, checkedAgainst: dump.logFile, mismatches: dump.mismatches.length });
    return invalid;
  }
  if (options.sanityOnly) {
    await out.line(dump.sanityProblem === null ? `${filePath} passed sanity check.` : `${filePath} failed sanity check: ${dump.sanityProblem}`);
    return dump.sanityProblem !== null;
  }
  if (dump.entries.length === 0) await out.line(`${filePath} is empty.`);
  for (const entry of dump.entries) {
    await out.line('position' in entry ? `offset: ${entry.offset} position: ${entry.position}` : `timestamp: ${entry.timestamp} offset: ${entry.offset}`);
  }
  if (dump.sanityProblem !== null) out.note(`${filePath} fails the sanity check (the log would rebuild it): ${dump.sanityProblem}`);
  if (dump.logFile === null) out.note(`${filePath}: no .log beside it, so its entries were not checked`);
  if (dump.mismatches.length > 0) out.note(`Mismatches in :${filePath}`);
  for (const mismatch of dump.mismatches) out.note(`  ${mismatchText(mismatch)}`);
  return invalid;
}

function mismatchText(mismatch: IndexMismatch): string {
  switch (mismatch.kind) {
    case 'offset-mismatch':
      return `Index offset: ${mismatch.indexOffset}, log offset: ${mismatch.logOffset}`;
    case 'offset-not-found':
      return `Indexed offset: ${mismatch.indexOffset}, found log offset: ${mismatch.logOffset}`;
    case 'timestamp-mismatch':
      return `Index timestamp: ${mismatch.indexTimestamp}, log timestamp: ${mismatch.logTimestamp} (offset ${mismatch.indexOffset})`;
    case 'timestamp-out-of-order':
      return `Index timestamp: ${mismatch.indexTimestamp}, Previously indexed timestamp: ${mismatch.logTimestamp}`;
  }
}
