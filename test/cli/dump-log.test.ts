/**
 * `tributary dump-log` and `console-producer --file` end to end: a file produced with lz4 and
 * acks 1 through the CLI, then its partition's segment dumped in Kafka's text format and as JSON;
 * a copy with a flipped byte reports that batch's CRC as invalid and exits 3; index files list
 * their entries.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cli-dump-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = ['--dir', dir, '--threads', '1'];
const segment = path.join(dir, 'events-0', '00000000000000000000.log');
const COUNT = 3000;

beforeAll(async () => {
  const input = path.join(dir, 'events.txt');
  // ~360 kB: several chunks, so several sends and batches, and index entries (one per 4 kB of log).
  fs.writeFileSync(input, Array.from({ length: COUNT }, (_, i) => `k${i % 7}=event ${i} ${'x'.repeat(100)}`).join('\r\n'));
  const created = await runCli(['topics', '--create', '--topic', 'events', ...at]);
  expect(created.code, created.stderr).toBe(0);
  const produced = await runCli(['console-producer', '--topic', 'events', '--file', input, '--compression', 'lz4', '--acks', '1', '--property', 'parse.key=true', '--property', 'key.separator==', ...at]);
  expect(produced.code, produced.stderr).toBe(0);
  expect(produced.stderr).toMatch(/^Produced 3,000 records \(\d+(\.\d)? kB\) to events in \d+\.\d\d s: /);
});

describe('tributary dump-log', () => {
  it("prints every batch and record of a segment in Kafka's format", async () => {
    const result = await runCli(['dump-log', segment, '--print-data-log']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([`Dumping ${segment}`, 'Log starting offset: 0']);
    const batchLines = lines.filter((line) => line.startsWith('baseOffset: '));
    expect(batchLines.length).toBeGreaterThan(0);
    // acks 1 is not idempotent: no producer id or sequence.
    expect(batchLines[0]).toMatch(
      /^baseOffset: 0 lastOffset: \d+ count: \d+ baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: -1 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: \d+ size: \d+ magic: 2 compresscodec: lz4 crc: \d+ isvalid: true$/,
    );
    const records = lines.filter((line) => line.startsWith('| '));
    expect(records).toHaveLength(COUNT);
    expect(records[0]).toMatch(/^\| offset: 0 CreateTime: \d+ keySize: 2 valueSize: 108 sequence: -1 headerKeys: \[\] key: k0 payload: event 0 x{100}$/);
    expect(records[COUNT - 1]).toMatch(/ offset: 2999 .* key: k3 payload: event 2999 x{100}$/);
  });

  it('prints JSON lines for the partition named by --topic and --partition', async () => {
    const result = await runCli(['dump-log', '--topic', 'events', '--partition', '0', '--deep-iteration', '--json', ...at]);
    expect(result.code, result.stderr).toBe(0);
    const entries = jsonLines(result.stdout);
    const batchEntries = entries.filter((entry) => entry.kind === 'batch');
    expect(batchEntries.every((batch) => batch.file === segment && batch.isValid === true && batch.compression === 'lz4')).toBe(true);
    const records = batchEntries.flatMap((batch) => batch.records as Array<{ offset: number; key?: string }>);
    expect(records.map((record) => record.offset)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(records[0].key).toBeUndefined(); // keys and values only with --print-data-log
    expect(entries.at(-1)).toMatchObject({ kind: 'summary', batches: batchEntries.length, records: COUNT, invalidBatches: 0, invalidBytes: 0 });
  });

  it('reports a flipped byte as an invalid CRC, dumps the rest, exits 3 and leaves the file as it was', async () => {
    const copy = path.join(dir, 'copy', '00000000000000000000.log');
    fs.mkdirSync(path.dirname(copy));
    const bytes = fs.readFileSync(segment);
    bytes[bytes.length - 5] ^= 0x10;
    fs.writeFileSync(copy, bytes);
    const result = await runCli(['dump-log', copy]);
    expect(result.code, result.stderr).toBe(3);
    const batchLines = result.stdout.split('\n').filter((line) => line.startsWith('baseOffset: '));
    expect(batchLines.length).toBeGreaterThan(2);
    expect(batchLines.at(-1)).toMatch(/ isvalid: false problem: CRC_MISMATCH computedCrc: \d+$/);
    expect(batchLines.slice(0, -1).every((line) => line.endsWith('isvalid: true'))).toBe(true);
    expect(fs.readFileSync(copy).equals(bytes)).toBe(true);
  });

  it('lists index entries and checks them against the log', async () => {
    const index = segment.replace(/\.log$/, '.index');
    const timeIndex = segment.replace(/\.log$/, '.timeindex');
    const result = await runCli(['dump-log', index, timeIndex, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summaries = jsonLines(result.stdout).filter((entry) => entry.kind === 'summary');
    expect((summaries[0].entries as number) > 0 && (summaries[1].entries as number) > 0).toBe(true);
    expect(summaries).toEqual([
      { file: index, kind: 'summary', entries: expect.any(Number), sanityProblem: null, checkedAgainst: segment, mismatches: 0 },
      { file: timeIndex, kind: 'summary', entries: expect.any(Number), sanityProblem: null, checkedAgainst: segment, mismatches: 0 },
    ]);
    const sanity = await runCli(['dump-log', index, '--index-sanity-check']);
    expect(sanity.stdout).toBe(`Dumping ${index}\n${index} passed sanity check.\n`);
  });
});
