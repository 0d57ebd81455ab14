/**
 * dump-log's reading of segment and index files, in process: every header field read back as
 * written, records with keys, headers and markers, CRC failures and unframeable bytes reported
 * with their positions while the batches around them still dump, and index entries checked
 * against the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import { encodeControlBatch } from '../../src/record/control.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { ReadOnlyFile, dumpLog, dumpOffsetIndex, dumpTimeIndex, type DumpedBatch, type LogDumpEntry } from '../../src/cli/segment-dump.js';
import { tempDirs } from '../temp-dirs.js';

const newDir = tempDirs('tributary-dump-');
const SEGMENT = '00000000000000000000';

/** A closed log with: idempotent batches of every codec with keys and headers, a transactional batch and its commit marker. */
function writeLog(dir: string, batches = 12): string {
  const log = Log.open(dir, { indexIntervalBytes: 100 });
  const codecs = ['none', 'gzip', 'lz4', 'zstd', 'snappy'] as const;
  for (let i = 0; i < batches; i++) {
    const records = [0, 1, 2].map((j) => ({ key: j === 2 ? null : `k${i}-${j}`, value: `value ${i}/${j}`, timestamp: 1_700_000_000_000 + i * 10 + j, headers: [{ key: 'h', value: `${i}` }] }));
    log.append(encodeRecordBatch(records, { compression: codecs[i % codecs.length], producerId: 7, producerEpoch: 1, baseSequence: i * 3 }));
  }
  log.append(encodeRecordBatch([{ key: 'tx', value: 'in a transaction', timestamp: 1_700_000_001_000 }], { producerId: 9, producerEpoch: 0, baseSequence: 0, isTransactional: true }));
  log.append(encodeControlBatch({ type: 'commit', producerId: 9, producerEpoch: 0, coordinatorEpoch: 4, timestamp: 1_700_000_001_001 }));
  log.close();
  return path.join(dir, `${SEGMENT}.log`);
}

function batches(entries: Iterable<LogDumpEntry>): DumpedBatch[] {
  return [...entries].filter((entry) => entry.kind === 'batch').map((entry) => entry.batch);
}

function dump(file: string, deep = true): LogDumpEntry[] {
  const handle = new ReadOnlyFile(file);
  try {
    return [...dumpLog(handle, deep)];
  } finally {
    handle.close();
  }
}

describe('dumpLog', () => {
  it('reads back every batch field and record as written', () => {
    const file = writeLog(newDir());
    const dumped = batches(dump(file));
    expect(dumped).toHaveLength(14);
    let position = 0;
    for (const [i, batch] of dumped.slice(0, 12).entries()) {
      expect(batch).toMatchObject({
        position,
        baseOffset: i * 3,
        lastOffset: i * 3 + 2,
        count: 3,
        baseSequence: i * 3,
        lastSequence: i * 3 + 2,
        producerId: 7,
        producerEpoch: 1,
        partitionLeaderEpoch: -1,
        isTransactional: false,
        isControl: false,
        deleteHorizonMs: null,
        timestampType: 'CreateTime',
        maxTimestamp: 1_700_000_000_000 + i * 10 + 2,
        magic: 2,
        compression: ['none', 'gzip', 'lz4', 'zstd', 'snappy'][i % 5],
        isValid: true,
        problem: null,
        computedCrc: null,
      });
      expect(batch.records!.map((r) => [r.offset, r.sequence, r.key?.toString() ?? null, r.value?.toString(), r.keySize, r.headers[0].key, r.headers[0].value?.toString()])).toEqual([
        [i * 3, i * 3, `k${i}-0`, `value ${i}/0`, `k${i}-0`.length, 'h', `${i}`],
        [i * 3 + 1, i * 3 + 1, `k${i}-1`, `value ${i}/1`, `k${i}-1`.length, 'h', `${i}`],
        [i * 3 + 2, i * 3 + 2, null, `value ${i}/2`, -1, 'h', `${i}`],
      ]);
      position += batch.size;
    }
    expect(dumped[12]).toMatchObject({ baseOffset: 36, isTransactional: true, isControl: false, producerId: 9 });
    expect(dumped[13]).toMatchObject({ baseOffset: 37, isTransactional: true, isControl: true });
    expect(dumped[13].records![0].marker).toEqual({ type: 'COMMIT', coordinatorEpoch: 4 });
    expect(dumped.at(-1)!.position + dumped.at(-1)!.size).toBe(fs.statSync(file).size);
  });

  it('leaves records out unless asked to iterate deeply', () => {
    expect(batches(dump(writeLog(newDir()), false)).every((batch) => batch.records === undefined)).toBe(true);
  });

  it('reports a flipped byte as that batch failing its CRC, and dumps every other batch', () => {
    const file = writeLog(newDir());
    const sound = batches(dump(file, false));
    const bytes = fs.readFileSync(file);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 13 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (victim, spot, flip) => {
        const target = sound[victim];
        // Anywhere the CRC covers: from the attributes (byte 21) to the batch's end.
        const at = target.position + 21 + (spot % (target.size - 21));
        const corrupt = Buffer.from(bytes);
        corrupt[at] ^= flip;
        const copy = path.join(newDir(), `${SEGMENT}.log`);
        fs.writeFileSync(copy, corrupt);
        const dumped = batches(dump(copy, false));
        expect(dumped.map((batch) => batch.position)).toEqual(sound.map((batch) => batch.position));
        dumped.forEach((batch, i) => {
          expect(batch.isValid).toBe(i !== victim);
          if (i === victim) expect(batch).toMatchObject({ problem: 'CRC_MISMATCH', crc: sound[i].crc, computedCrc: expect.any(Number) });
        });
      }),
      { seed: 42, numRuns: 25 },
    );
  });

  it('reports bytes that are not a batch and resumes at the next sound batch', () => {
    const file = writeLog(newDir());
    const sound = batches(dump(file, false));
    const corrupt = fs.readFileSync(file);
    // Batch 4's length field now points past the end of the file: it cannot be framed.
    corrupt.writeInt32BE(0x7fff_0000, sound[4].position + 8);
    fs.writeFileSync(file, corrupt);
    const entries = dump(file, false);
    const invalid = entries.filter((entry) => entry.kind === 'invalid-bytes');
    expect(invalid).toEqual([{ kind: 'invalid-bytes', bytes: { position: sound[4].position, length: sound[4].size, problem: 'TRUNCATED_BATCH', resumesAt: sound[5].position } }]);
    expect(batches(entries).map((batch) => batch.baseOffset)).toEqual(sound.filter((_, i) => i !== 4).map((batch) => batch.baseOffset));
  });

  it('reports a torn tail as invalid bytes at the end', () => {
    const file = writeLog(newDir());
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 10);
    const entries = dump(file, false);
    const last = batches(entries).at(-1)!;
    expect(entries.at(-1)).toEqual({ kind: 'invalid-bytes', bytes: { position: last.position + last.size, length: size - 10 - (last.position + last.size), problem: 'TRUNCATED_BATCH', resumesAt: null } });
  });

  it('never writes to the file', () => {
    const file = writeLog(newDir());
    fs.chmodSync(file, 0o444);
    const before = fs.readFileSync(file);
    expect(batches(dump(file)).length).toBe(14);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});

describe('dumpOffsetIndex and dumpTimeIndex', () => {
  it('list the entries the log wrote, each agreeing with the log', () => {
    const dir = newDir();
    const log = batches(dump(writeLog(dir), false));
    const offsets = dumpOffsetIndex(new ReadOnlyFile(path.join(dir, `${SEGMENT}.index`)));
    expect(offsets.entries.length).toBeGreaterThan(3);
    expect(offsets).toMatchObject({ baseOffset: 0, sanityProblem: null, mismatches: [], logFile: path.join(dir, `${SEGMENT}.log`) });
    for (const entry of offsets.entries) expect(log.find((batch) => batch.position === entry.position)!.lastOffset).toBe(entry.offset);

    const times = dumpTimeIndex(new ReadOnlyFile(path.join(dir, `${SEGMENT}.timeindex`)));
    expect(times.entries.length).toBeGreaterThan(3);
    expect(times).toMatchObject({ sanityProblem: null, mismatches: [] });
    for (const entry of times.entries) expect(log.find((batch) => batch.lastOffset === entry.offset)!.maxTimestamp).toBe(entry.timestamp);
  });

  it('report entries the log contradicts, and files the log layer would rebuild', () => {
    const dir = newDir();
    writeLog(dir);
    const indexFile = path.join(dir, `${SEGMENT}.index`);
    const index = fs.readFileSync(indexFile);
    index.writeInt32BE(index.readInt32BE(8) + 1, 8); // entry 1 now names an offset its batch does not end at
    fs.writeFileSync(indexFile, Buffer.concat([index, Buffer.from([1, 2, 3])]));
    const offsets = dumpOffsetIndex(new ReadOnlyFile(indexFile));
    expect(offsets.sanityProblem).toBe(`size ${index.length + 3} is not a multiple of 8`);
    expect(offsets.mismatches).toEqual([{ kind: 'offset-mismatch', indexOffset: index.readInt32BE(8), logOffset: index.readInt32BE(8) - 1 }]);

    const timeFile = path.join(dir, `${SEGMENT}.timeindex`);
    const times = fs.readFileSync(timeFile);
    times.writeInt32BE(times.readInt32BE(0) + 1, 0); // entry 0's timestamp moves 2^32 ms on, past entry 1's
    fs.writeFileSync(timeFile, times);
    const timeDump = dumpTimeIndex(new ReadOnlyFile(timeFile));
    expect(timeDump.sanityProblem).toMatch(/^entry 1 has timestamp/);
    expect(timeDump.mismatches.map((mismatch) => mismatch.kind)).toEqual(['timestamp-mismatch', 'timestamp-out-of-order']);
  });
});

describe('dumpLog on garbage', () => {
  it('resumes past garbage that looks like a batch header with an int64 beyond 2^53', () => {
    const dir = newDir();
    const file = writeLog(dir, 2);
    const bytes = fs.readFileSync(file);
    const sound = batches(dump(file, false));
    // 19 zero bytes (a batch length of 0: unframeable), then a fake header: base offset 2^63-1, length 49, magic 2.
    const garbage = Buffer.alloc(19 + 61);
    garbage.writeBigInt64BE(0x7fff_ffff_ffff_ffffn, 19);
    garbage.writeInt32BE(49, 19 + 8);
    garbage[19 + 16] = 2;
    const cut = sound[1].position;
    fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, cut), garbage, bytes.subarray(cut)]));
    const entries = dump(file, false);
    expect(entries[1]).toEqual({ kind: 'invalid-bytes', bytes: { position: cut, length: garbage.length, problem: 'INVALID_LENGTH', resumesAt: cut + garbage.length } });
    expect(batches(entries).map((batch) => batch.baseOffset)).toEqual(sound.map((batch) => batch.baseOffset));
  });

  it('dumps a framed batch whose int64 fields are beyond 2^53, as invalid', () => {
    const file = writeLog(newDir(), 1);
    const bytes = fs.readFileSync(file);
    bytes.writeBigInt64BE(0x7fff_ffff_ffff_ffffn, 43); // producerId of batch 0 (covered by the CRC)
    fs.writeFileSync(file, bytes);
    const [first] = batches(dump(file));
    expect(first).toMatchObject({ isValid: false, problem: 'CRC_MISMATCH', producerId: 2 ** 63 });
  });
});
