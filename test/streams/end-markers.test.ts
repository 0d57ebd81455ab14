/** End-of-input markers: what a writer writes, what a reader counts, and what a commit carries and restores. */
import { describe, expect, it } from 'vitest';
import { END_MARKER_HEADER, EndMarkers, endMarkerMessages } from '../../src/streams/end-markers.js';

const marker = (text: string) => [{ key: 'trace', value: Buffer.from('x') }, { key: END_MARKER_HEADER, value: Buffer.from(text) }];

describe('end markers', () => {
  it('a writer marks every partition, with no key, no value and its run and index in the header', () => {
    const messages = endMarkerMessages('run-a', 2, 3);
    expect(messages.map((m) => m.partition)).toEqual([0, 1, 2]);
    for (const message of messages) {
      expect([message.key, message.value]).toEqual([null, null]);
      expect(message.headers).toEqual([{ key: END_MARKER_HEADER, value: Buffer.from('run-a/2') }]);
    }
  });

  it("a partition ends once every writer's marker of this run was read, in any order and repeated", () => {
    const markers = new EndMarkers({ run: 'run-a', writers: 3 }, undefined);
    expect(markers.take(0, [])).toBe(false);
    expect(markers.take(0, [{ key: 'other', value: null }])).toBe(false);
    expect(markers.take(0, marker('run-a/2'))).toBe(true);
    expect(markers.take(0, marker('run-a/0'))).toBe(true);
    expect(markers.take(0, marker('run-a/0'))).toBe(true);
    expect(markers.finished(0)).toBe(false);
    expect(markers.take(0, marker('run-a/1'))).toBe(true);
    expect(markers.finished(0)).toBe(true);
    expect(markers.finished(1)).toBe(false);
  });

  it("another run's markers are markers (never emitted) but count for nothing, even one whose id starts the same", () => {
    const markers = new EndMarkers({ run: 'run-a', writers: 1 }, undefined);
    expect(markers.take(0, marker('run-b/0'))).toBe(true);
    expect(markers.take(0, marker('run-ab/0'))).toBe(true);
    expect(markers.take(0, marker('run-a/x'))).toBe(true);
    expect(markers.finished(0)).toBe(false);
    expect(markers.state()).toEqual({});
  });

  it('the state a commit carries restores the count, and many writers fit', () => {
    const markers = new EndMarkers({ run: 'r', writers: 70 }, undefined);
    for (let writer = 0; writer < 70; writer++) if (writer !== 64) markers.take(5, marker(`r/${writer}`));
    markers.take(1, marker('r/3'));
    const state = markers.state();
    expect(state[1]).toBe('8');
    const restored = new EndMarkers({ run: 'r', writers: 70 }, JSON.parse(JSON.stringify(state)));
    expect(restored.finished(5)).toBe(false);
    restored.take(5, marker('r/64'));
    expect(restored.finished(5)).toBe(true);
    expect(restored.state()[1]).toBe('8');
  });
});
