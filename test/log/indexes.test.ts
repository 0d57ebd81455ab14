import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import { OffsetIndex, offsetIndexProblem } from '../../src/log/offset-index.js';
import { TimeIndex, timeIndexProblem } from '../../src/log/time-index.js';
import { baseOffsetAt, lastOffsetAt } from '../../src/record/batch-header.js';
import { SeededRandom, batchAt, batchSpans, checkRecords, expectedIndexes, tempDirs, timestampFor } from './helpers.js';

const newDir = tempDirs();

/** The first offset below `end` whose record's timestamp is >= `timestamp`. */
function firstOffsetAtOrAfter(timestamp: number, end: number): number {
  for (let offset = 0; offset < end; offset++) if (timestampFor(offset) >= timestamp) return offset;
  return -1;
}

describe('OffsetIndex', () => {
  it('lays entries out as Kafka does: big-endian int32 relative offset, int32 position', () => {
    const index = new OffsetIndex(1000);
    index.append(1009, 4200);
    index.append(1030, 9000);
    expect(index.bytes().toString('hex')).toBe('00000009' + '00001068' + '0000001e' + '00002328');
  });

  it('looks up the greatest entry at or below an offset, else position 0', () => {
    const index = new OffsetIndex(100);
    for (let i = 1; i <= 200; i++) index.append(100 + i * 10, i * 1000);
    expect(index.lookup(99)).toBe(0);
    expect(index.lookup(109)).toBe(0);
    expect(index.lookup(110)).toBe(1000);
    expect(index.lookup(115)).toBe(1000);
    expect(index.lookup(2099)).toBe(199_000);
    expect(index.lookup(2100)).toBe(200_000);
    expect(index.lookup(1e9)).toBe(200_000);
    expect(index.entries).toBe(200);
    expect(index.lastOffset).toBe(2100);
    expect(index.lastPosition).toBe(200_000);
  });

  it('reads back its own bytes', () => {
    const index = new OffsetIndex(7);
    index.append(20, 500);
    index.append(30, 900);
    const copy = new OffsetIndex(7, Buffer.from(index.bytes()));
    expect(copy.lookup(25)).toBe(500);
    expect(copy.lastOffset).toBe(30);
  });

  it('rejects files that are not a whole number of entries, not increasing, or past the log', () => {
    const entries = (pairs: number[][]): Buffer => {
      const buf = Buffer.alloc(pairs.length * 8);
      pairs.forEach(([o, p], i) => (buf.writeInt32BE(o, i * 8), buf.writeInt32BE(p, i * 8 + 4)));
      return buf;
    };
    expect(offsetIndexProblem(entries([[1, 100], [5, 900]]), 1000)).toBeNull();
    expect(offsetIndexProblem(Buffer.alloc(12), 1000)).toMatch(/multiple of 8/);
    expect(offsetIndexProblem(entries([[5, 100], [5, 900]]), 1000)).toMatch(/relative offset/);
    expect(offsetIndexProblem(entries([[1, 900], [5, 100]]), 1000)).toMatch(/position/);
    expect(offsetIndexProblem(entries([[1, 100], [5, 1000]]), 1000)).toMatch(/position/);
    expect(offsetIndexProblem(Buffer.alloc(16), 1000)).not.toBeNull();
  });
});

describe('TimeIndex', () => {
  it('lays entries out as Kafka does: big-endian int64 timestamp, int32 relative offset', () => {
    const index = new TimeIndex(50);
    index.maybeAppend(1_700_000_000_000, 60);
    expect(index.bytes().toString('hex')).toBe('0000018bcfe56800' + '0000000a');
  });

  it('appends only a timestamp above the last one', () => {
    const index = new TimeIndex(0);
    index.maybeAppend(100, 5);
    index.maybeAppend(100, 9);
    index.maybeAppend(90, 12);
    index.maybeAppend(150, 20);
    expect(index.entries).toBe(2);
    expect(index.lastTimestamp).toBe(150);
    expect(index.lastOffset).toBe(20);
  });

  it('looks up the greatest entry at or below a timestamp, else the base offset', () => {
    const index = new TimeIndex(10);
    index.maybeAppend(100, 15);
    index.maybeAppend(200, 25);
    expect(index.lookup(50)).toBe(10);
    expect(index.lookup(100)).toBe(15);
    expect(index.lookup(199)).toBe(15);
    expect(index.lookup(500)).toBe(25);
  });

  it('rejects files that are not a whole number of entries, not increasing, or past the segment', () => {
    const index = new TimeIndex(10);
    index.maybeAppend(100, 15);
    index.maybeAppend(200, 25);
    expect(timeIndexProblem(index.bytes(), 10, 26)).toBeNull();
    expect(timeIndexProblem(index.bytes(), 10, 25)).toMatch(/relative offset/);
    expect(timeIndexProblem(index.bytes().subarray(0, 20), 10, 26)).toMatch(/multiple of 12/);
    const swapped = Buffer.concat([index.bytes().subarray(12), index.bytes().subarray(0, 12)]);
    expect(timeIndexProblem(swapped, 10, 26)).toMatch(/timestamp/);
  });
});

describe('index files of a log', () => {
  it('match Kafka’s rule byte for byte in every closed segment, and after close in the active one', () => {
    const dir = newDir();
    const rng = new SeededRandom(11);
    const config = { segmentBytes: 16 * 1024, indexIntervalBytes: 1500 };
    const log = Log.open(dir, config);
    for (let i = 0; i < 150; i++) log.append(batchAt(log.logEndOffset, 1 + rng.int(12)));
    log.close();
    const segments = fs.readdirSync(dir).filter((name) => name.endsWith('.log'));
    expect(segments.length).toBeGreaterThan(2);
    for (const name of segments) {
      const baseOffset = Number(name.slice(0, 20));
      const stem = `${dir}/${name.slice(0, 20)}`;
      const expected = expectedIndexes(batchSpans(`${stem}.log`), baseOffset, config.indexIntervalBytes);
      expect(fs.readFileSync(`${stem}.index`).equals(expected.index), `${name} .index`).toBe(true);
      expect(fs.readFileSync(`${stem}.timeindex`).equals(expected.timeIndex), `${name} .timeindex`).toBe(true);
      if (fs.statSync(`${stem}.log`).size > 3 * config.indexIntervalBytes) expect(expected.index.length).toBeGreaterThan(0);
    }
  });

  it('are rebuilt when deleted or garbage, and lookups still work', () => {
    const dir = newDir();
    const rng = new SeededRandom(12);
    const config = { segmentBytes: 12 * 1024, indexIntervalBytes: 1024 };
    let log = Log.open(dir, config);
    for (let i = 0; i < 120; i++) log.append(batchAt(log.logEndOffset, 1 + rng.int(10)));
    const end = log.logEndOffset;
    log.close();
    const stems = fs.readdirSync(dir).filter((name) => name.endsWith('.log')).map((name) => `${dir}/${name.slice(0, 20)}`);
    expect(stems.length).toBeGreaterThan(3);
    const original = new Map(stems.flatMap((stem) => ['.index', '.timeindex'].map((ext) => [stem + ext, fs.readFileSync(stem + ext)] as const)));

    fs.rmSync(`${stems[0]}.index`);
    fs.rmSync(`${stems[1]}.timeindex`);
    fs.writeFileSync(`${stems[2]}.index`, Buffer.from('not an index at all')); // not a multiple of 8
    const garbage = Buffer.alloc(original.get(`${stems[3]}.index`)!.length);
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.int(256);
    fs.writeFileSync(`${stems[3]}.index`, garbage);
    fs.writeFileSync(`${stems[stems.length - 1]}.timeindex`, Buffer.alloc(24, 0xff)); // the active segment's

    log = Log.open(dir, config);
    expect(log.recovery.rebuiltIndexes).toBe(3);
    const probes = [...log.segments.map((segment) => segment.baseOffset + 1), ...Array.from({ length: 200 }, () => rng.int(end))];
    for (const offset of probes) {
      const { bytes } = log.read(offset, 1);
      expect(baseOffsetAt(bytes)).toBeLessThanOrEqual(offset);
      expect(lastOffsetAt(bytes)).toBeGreaterThanOrEqual(offset);
      expect(checkRecords(bytes).problems).toEqual([]);
      expect(log.offsetForTimestamp(timestampFor(offset))?.offset).toBe(firstOffsetAtOrAfter(timestampFor(offset), end));
    }
    for (const stem of stems.slice(0, -1)) {
      for (const ext of ['.index', '.timeindex']) expect(fs.readFileSync(stem + ext).equals(original.get(stem + ext)!), stem + ext).toBe(true);
    }
    log.close();
  });
});
