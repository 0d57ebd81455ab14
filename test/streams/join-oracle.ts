/**
 * A brute-force model of the windowed stream-stream join (src/streams/join/stream-stream-join.ts),
 * from its definition: a left and a right record with equal keys join when their times differ by
 * at most `within` and both join windows are open when the second arrives; a record's window
 * [t - within, t + within] is closed once the shared watermark (max event time of both inputs
 * minus maxOutOfOrderness) reaches t + within + 1 + grace; a record arriving with its window
 * closed is late; the left join pairs an unjoined left record with null when its window closes,
 * or at the end of both inputs. It keeps every record in one list and rescans it on each arrival.
 */
export interface Arrival {
  readonly side: 'left' | 'right';
  readonly id: number;
  readonly key: string;
  readonly timestamp: number;
}

export interface JoinModelConfig {
  readonly within: number;
  readonly grace: number;
  readonly maxOutOfOrderness: number;
  readonly outer: boolean;
}

/** A join result as the ids of its left and right record (null for a left join's missing side). */
export type Pair = readonly [number, number | null];

export interface JoinStep {
  readonly pairs: Pair[];
  readonly late: number[];
}

export function modelJoin(arrivals: readonly Arrival[], config: JoinModelConfig): JoinStep[] {
  const accepted: Array<Arrival & { closed: boolean; joined: boolean }> = [];
  const steps: JoinStep[] = [];
  let watermark = -Infinity;
  const closeAll = (pairs: Pair[], all: boolean) => {
    for (const r of accepted) {
      if (r.closed || !(all || r.timestamp + config.within + 1 + config.grace <= watermark)) continue;
      r.closed = true;
      if (config.outer && r.side === 'left' && !r.joined) pairs.push([r.id, null]);
    }
  };
  for (const arrival of arrivals) {
    const pairs: Pair[] = [];
    const late: number[] = [];
    watermark = Math.max(watermark, arrival.timestamp - config.maxOutOfOrderness);
    closeAll(pairs, false);
    if (arrival.timestamp + config.within + 1 + config.grace <= watermark) {
      late.push(arrival.id);
    } else {
      const record = { ...arrival, closed: false, joined: false };
      for (const other of accepted) {
        if (other.closed || other.side === arrival.side || other.key !== arrival.key) continue;
        if (Math.abs(other.timestamp - arrival.timestamp) > config.within) continue;
        pairs.push(arrival.side === 'left' ? [arrival.id, other.id] : [other.id, arrival.id]);
        other.joined = true;
        record.joined = true;
      }
      accepted.push(record);
    }
    steps.push({ pairs, late });
  }
  const pairs: Pair[] = [];
  closeAll(pairs, true);
  steps.push({ pairs, late: [] });
  return steps;
}

export function canonicalPairs(pairs: readonly Pair[]): Pair[] {
  return [...pairs].sort((a, b) => a[0] - b[0] || (a[1] ?? -1) - (b[1] ?? -1));
}
