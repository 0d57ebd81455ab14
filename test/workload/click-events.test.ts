/**
 * The shared benchmark workload must be reproducible (same seed, same stream) and shaped as
 * DESIGN.md describes it: ~100-byte JSON click events keyed by user, with bounded disorder.
 */
import { describe, expect, it } from 'vitest';
import { ClickStream, type ClickEvent } from '../../src/workload/click-events.js';
import { SeededRandom } from '../../src/workload/random.js';

describe('SeededRandom', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, ((random) => () => random.nextUint32())(new SeededRandom(seed)));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('draws skewed values within range, low values far more often', () => {
    const random = new SeededRandom(1);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) counts[random.skewed(10)]++;
    expect(counts[0]).toBeGreaterThan(counts[9] * 3);
  });
});

describe('ClickStream', () => {
  it('is reproducible for a seed', () => {
    const a = new ClickStream({ seed: 42 }).records(100);
    const b = new ClickStream({ seed: 42 }).records(100);
    expect(a.map((r) => r.value.toString())).toEqual(b.map((r) => r.value.toString()));
  });

  it('keys each event by user, timestamps it by ts, and keeps it near 100 bytes', () => {
    const records = new ClickStream({ seed: 3 }).records(2_000);
    let bytes = 0;
    for (const record of records) {
      const event = JSON.parse(record.value.toString()) as ClickEvent;
      expect(record.key.toString()).toBe(event.user);
      expect(record.timestamp).toBe(event.ts);
      expect(Object.keys(event)).toEqual(['user', 'page', 'ts', 'ref', 'dur', 'sid', 'cc']);
      bytes += record.value.length;
    }
    const average = bytes / records.length;
    expect(average).toBeGreaterThan(85);
    expect(average).toBeLessThan(115);
  });

  it('advances time steadily with a bounded fraction of late events', () => {
    const stream = new ClickStream({ seed: 5, eventsPerSecond: 1_000, disorderFraction: 0.1, maxDisorderMs: 500, startTime: 0 });
    const events = Array.from({ length: 5_000 }, () => stream.nextEvent());
    let late = 0;
    events.forEach((event, i) => {
      const onTime = i; // 1 ms per event at 1,000 events/s
      expect(event.ts).toBeLessThanOrEqual(onTime);
      expect(onTime - event.ts).toBeLessThanOrEqual(500);
      if (event.ts < onTime) late++;
    });
    expect(late / events.length).toBeGreaterThan(0.07);
    expect(late / events.length).toBeLessThan(0.13);
  });
});
