/**
 * The benchmark workload every tributary benchmark and demo shares, so their figures compare:
 * JSON click events of about 100 bytes, keyed by user, timestamped by `ts`, e.g.
 *
 *   {"user":"u48064","page":"/p/136","ts":1700000000000,"ref":"search","dur":4928,"sid":"sfdae","cc":"IN"}
 *
 * Users and pages follow skewed distributions; timestamps advance steadily with a little
 * disorder (a bounded fraction of events arrive up to `maxDisorderMs` late), as real streams do.
 */
import { SeededRandom } from './random.js';

export interface ClickEvent {
  readonly user: string;
  readonly page: string;
  readonly ts: number;
  readonly ref: string;
  readonly dur: number;
  readonly sid: string;
  readonly cc: string;
}

/** A click event as a record: key = user, value = the event's JSON, timestamp = ts. */
export interface ClickRecord {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly timestamp: number;
}

export interface ClickStreamOptions {
  /** Seed of the generator. Default 1. */
  readonly seed?: number;
  /** Timestamp of the first event, epoch ms. Default 1_700_000_000_000. */
  readonly startTime?: number;
  /** Events per simulated second; sets how fast `ts` advances. Default 10_000. */
  readonly eventsPerSecond?: number;
  /** Distinct users. Default 100_000. */
  readonly users?: number;
  /** Distinct pages. Default 1_000. */
  readonly pages?: number;
  /** Fraction of events that arrive out of order. Default 0.05. */
  readonly disorderFraction?: number;
  /** How late an out-of-order event can be, ms. Default 2_000. */
  readonly maxDisorderMs?: number;
}

const REFERRERS = ['search', 'direct', 'social', 'email', 'ads', 'partner'] as const;
const COUNTRIES = ['US', 'IN', 'BR', 'DE', 'GB', 'FR', 'JP', 'ID', 'NG', 'MX'] as const;
const SID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

export class ClickStream {
  private readonly random: SeededRandom;
  private readonly startTime: number;
  private readonly msPerEvent: number;
  private readonly users: number;
  private readonly pages: number;
  private readonly disorderFraction: number;
  private readonly maxDisorderMs: number;
  private sequence = 0;

  constructor(options: ClickStreamOptions = {}) {
    this.random = new SeededRandom(options.seed ?? 1);
    this.startTime = options.startTime ?? 1_700_000_000_000;
    this.msPerEvent = 1000 / (options.eventsPerSecond ?? 10_000);
    this.users = options.users ?? 100_000;
    this.pages = options.pages ?? 1_000;
    this.disorderFraction = options.disorderFraction ?? 0.05;
    this.maxDisorderMs = options.maxDisorderMs ?? 2_000;
  }

  nextEvent(): ClickEvent {
    const random = this.random;
    let ts = this.startTime + Math.floor(this.sequence++ * this.msPerEvent);
    if (random.next() < this.disorderFraction) ts -= 1 + random.int(this.maxDisorderMs);
    let sid = '';
    for (let i = 0; i < 5; i++) sid += SID_ALPHABET[random.int(SID_ALPHABET.length)];
    return {
      user: `u${random.skewed(this.users)}`,
      page: `/p/${random.skewed(this.pages, 1.5)}`,
      ts,
      ref: random.pick(REFERRERS),
      dur: random.int(10_000),
      sid,
      cc: random.pick(COUNTRIES),
    };
  }

  nextRecord(): ClickRecord {
    const event = this.nextEvent();
    return { key: Buffer.from(event.user), value: Buffer.from(JSON.stringify(event)), timestamp: event.ts };
  }

  /** The next `count` events as records. */
  records(count: number): ClickRecord[] {
    const out: ClickRecord[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = this.nextRecord();
    return out;
  }
}
