/**
 * A brute-force model of windowed aggregation, written from the definitions rather than from the
 * operators: it keeps the raw records of every window and recomputes each result from them.
 * Arrival order matters only through the watermark (max event time - maxOutOfOrderness), which
 * decides what is closed and what is late, so the model replays the arrivals one at a time and
 * reports, per arrival, the results and late records that arrival caused.
 *
 * Definitions (see src/streams/window-spec.ts):
 * - fixed (tumbling/hopping): the windows of t are [s, s + size) for s a multiple of advance with
 *   s <= t < s + size; a window is closed once watermark >= s + size + grace. A record joins each
 *   of its open windows and is late if any of them is closed.
 * - sliding (d = maxDifference): the windows of a key are, over its accepted records, [a - d, a]
 *   for each record a and [a + 1, a + 1 + d] when a record falls in it (closed bounds, reported
 *   as [start, start + d + 1)); a window closes once watermark >= start + d + 1 + grace; a record
 *   is late when t + 1 + grace <= watermark.
 * - session: records at most gap apart chain into one session [first, last]; a session closes
 *   once watermark >= last + gap + 1 + grace, and a record touching no open session whose own
 *   session would be closed is late.
 */
import type { WindowSpec } from '../../src/streams/window-spec.js';

export interface Event {
  readonly id: number;
  readonly key: string;
  readonly timestamp: number;
}

export interface ModelResult {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  /** Ids of the records in the window, sorted. */
  readonly ids: readonly number[];
  readonly final: boolean;
}

export interface ModelStep {
  readonly results: ModelResult[];
  readonly late: number[];
}

export interface ModelConfig {
  readonly spec: WindowSpec;
  readonly grace: number;
  readonly maxOutOfOrderness: number;
  readonly emit: 'final' | 'update';
}

/** One step per arrival, then one for the end of input. */
export function modelWindows(events: readonly Event[], config: ModelConfig): ModelStep[] {
  switch (config.spec.kind) {
    case 'session':
      return modelSessions(events, config, config.spec.gap);
    case 'sliding':
      return modelSliding(events, config, config.spec.maxDifference);
    default:
      return modelFixed(events, config, config.spec.size, config.spec.advance);
  }
}

const sortedIds = (records: readonly Event[]) => records.map((e) => e.id).sort((a, b) => a - b);

function modelFixed(events: readonly Event[], config: ModelConfig, size: number, advance: number): ModelStep[] {
  const windows = new Map<string, { key: string; start: number; records: Event[]; closed: boolean }>();
  const steps: ModelStep[] = [];
  let watermark = -Infinity;
  const isClosed = (start: number) => start + size + config.grace <= watermark;
  const closeAll = (results: ModelResult[], all: boolean) => {
    for (const w of windows.values()) {
      if (!w.closed && (all || isClosed(w.start))) {
        w.closed = true;
        results.push({ key: w.key, start: w.start, end: w.start + size, ids: sortedIds(w.records), final: true });
      }
    }
  };
  for (const event of events) {
    const results: ModelResult[] = [];
    const late: number[] = [];
    watermark = Math.max(watermark, event.timestamp - config.maxOutOfOrderness);
    closeAll(results, false);
    let missed = false;
    // `+ 0` turns the -0 that Math.ceil gives for small negatives into 0.
    for (let start = Math.ceil((event.timestamp - size + 1) / advance) * advance + 0; start <= event.timestamp; start += advance) {
      if (isClosed(start)) {
        missed = true;
        continue;
      }
      const id = `${event.key}@${start}`;
      let w = windows.get(id);
      if (w === undefined) windows.set(id, (w = { key: event.key, start, records: [], closed: false }));
      w.records.push(event);
      if (config.emit === 'update') results.push({ key: event.key, start, end: start + size, ids: sortedIds(w.records), final: false });
    }
    if (missed) late.push(event.id);
    steps.push({ results, late });
  }
  const results: ModelResult[] = [];
  closeAll(results, true);
  steps.push({ results, late: [] });
  return steps;
}

function modelSliding(events: readonly Event[], config: ModelConfig, d: number): ModelStep[] {
  const accepted: Event[] = [];
  /** Windows that exist, by key and start, with whether they were emitted as final. */
  const existing = new Map<string, { key: string; start: number; final: boolean }>();
  const steps: ModelStep[] = [];
  let watermark = -Infinity;
  const closeTime = (start: number) => start + d + 1 + config.grace;
  const contents = (key: string, start: number) => accepted.filter((e) => e.key === key && e.timestamp >= start && e.timestamp <= start + d);
  const result = (key: string, start: number, final: boolean): ModelResult => ({ key, start, end: start + d + 1, ids: sortedIds(contents(key, start)), final });
  /** Every window start of a key, from the definition over its accepted records. */
  const definedStarts = (key: string) => {
    const times = accepted.filter((e) => e.key === key).map((e) => e.timestamp);
    const starts = new Set<number>();
    for (const a of times) {
      starts.add(a - d);
      if (times.some((b) => b > a && b <= a + 1 + d)) starts.add(a + 1);
    }
    return starts;
  };
  const closeWindows = (results: ModelResult[], all: boolean) => {
    const closing = [...existing.values()].filter((w) => !w.final && (all || closeTime(w.start) <= watermark));
    for (const w of closing) {
      w.final = true;
      results.push(result(w.key, w.start, true));
    }
  };
  for (const event of events) {
    const results: ModelResult[] = [];
    const late: number[] = [];
    watermark = Math.max(watermark, event.timestamp - config.maxOutOfOrderness);
    closeWindows(results, false);
    if (event.timestamp + 1 + config.grace <= watermark) {
      late.push(event.id);
      steps.push({ results, late });
      continue;
    }
    accepted.push(event);
    for (const start of definedStarts(event.key)) {
      const id = `${event.key}@${start}`;
      const isNew = !existing.has(id);
      if (isNew) existing.set(id, { key: event.key, start, final: false });
      const holdsEvent = start <= event.timestamp && event.timestamp <= start + d;
      if (config.emit === 'update' && (holdsEvent || isNew)) results.push(result(event.key, start, false));
    }
    steps.push({ results, late });
  }
  const results: ModelResult[] = [];
  closeWindows(results, true);
  steps.push({ results, late: [] });
  return steps;
}

function modelSessions(events: readonly Event[], config: ModelConfig, gap: number): ModelStep[] {
  let open: Array<{ key: string; records: Event[] }> = [];
  const steps: ModelStep[] = [];
  let watermark = -Infinity;
  const bounds = (records: readonly Event[]) => {
    const times = records.map((e) => e.timestamp);
    return { start: Math.min(...times), end: Math.max(...times) };
  };
  const closed = (end: number) => end + gap + 1 + config.grace <= watermark;
  const closeSessions = (results: ModelResult[], all: boolean) => {
    const [closing, staying] = [open.filter((s) => all || closed(bounds(s.records).end)), open.filter((s) => !all && !closed(bounds(s.records).end))];
    for (const s of closing) results.push({ key: s.key, ...bounds(s.records), ids: sortedIds(s.records), final: true });
    open = staying;
  };
  for (const event of events) {
    const results: ModelResult[] = [];
    const late: number[] = [];
    watermark = Math.max(watermark, event.timestamp - config.maxOutOfOrderness);
    closeSessions(results, false);
    const touching = open.filter((s) => {
      if (s.key !== event.key) return false;
      const { start, end } = bounds(s.records);
      return end >= event.timestamp - gap && start <= event.timestamp + gap;
    });
    if (touching.length === 0 && closed(event.timestamp)) {
      late.push(event.id);
    } else {
      const merged = { key: event.key, records: [...touching.flatMap((s) => s.records), event] };
      open = [...open.filter((s) => !touching.includes(s)), merged];
      if (config.emit === 'update') results.push({ key: event.key, ...bounds(merged.records), ids: sortedIds(merged.records), final: false });
    }
    steps.push({ results, late });
  }
  const results: ModelResult[] = [];
  closeSessions(results, true);
  steps.push({ results, late: [] });
  return steps;
}

/** A canonical order for comparing one step's results regardless of emission order. */
export function canonical(results: readonly ModelResult[]): ModelResult[] {
  return [...results].sort((a, b) => a.start - b.start || a.end - b.end || a.key.localeCompare(b.key) || Number(a.final) - Number(b.final));
}
