/**
 * The event-time clock of one subscription: the watermark is the maximum event time seen minus
 * `maxOutOfOrderness` (Flink's bounded out-of-orderness), and never goes back.
 *
 * With `idleTimeout`, input that stops no longer stops time: once no record has arrived for
 * `idleTimeout` of processing time, the watermark moves on as if event time had kept pace with
 * processing time since the last record, re-checked every `idleTimeout` while the input stays
 * idle, so open windows close when a stream goes quiet. Kafka Streams only advances stream time on
 * new records, its most common complaint. The timer runs on RxJS's asyncScheduler, so a
 * TestScheduler drives it in virtual time; before the first record there is no event time to
 * advance from, and nothing happens.
 */
import { asyncScheduler, type SchedulerAction, type Subscription } from 'rxjs';

export class WatermarkClock {
  private maxEventTime = -Infinity;
  private current = -Infinity;
  private lastInputAt = 0;
  private timer: Subscription | undefined;

  constructor(
    private readonly maxOutOfOrderness: number,
    private readonly idleTimeout: number | undefined,
    /** Called with the new watermark when idleness advanced it. */
    private readonly onIdleAdvance: (watermark: number) => void,
  ) {}

  get watermark(): number {
    return this.current;
  }

  /** Takes in one record's event time; returns the watermark after it. */
  observe(eventTime: number): number {
    if (this.idleTimeout !== undefined) this.lastInputAt = asyncScheduler.now();
    if (eventTime > this.maxEventTime) {
      this.maxEventTime = eventTime;
      const watermark = eventTime - this.maxOutOfOrderness;
      if (watermark > this.current) this.current = watermark;
    }
    return this.current;
  }

  /** Starts the idle timer, if there is an idleTimeout. */
  start(): void {
    const idleTimeout = this.idleTimeout;
    if (idleTimeout === undefined) return;
    this.lastInputAt = asyncScheduler.now();
    // A scheduled function receives its action as `this`; rescheduling the same action reuses its timer.
    const clock = this;
    this.timer = asyncScheduler.schedule(function (this: SchedulerAction<undefined>) {
      clock.checkIdle(this, idleTimeout);
    }, idleTimeout);
  }

  stop(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private checkIdle(action: SchedulerAction<undefined>, idleTimeout: number): void {
    const now = asyncScheduler.now();
    const idleFor = now - this.lastInputAt;
    if (idleFor < idleTimeout) {
      action.schedule(undefined, idleTimeout - idleFor);
      return;
    }
    if (this.maxEventTime !== -Infinity) {
      const watermark = this.maxEventTime - this.maxOutOfOrderness + idleFor;
      if (watermark > this.current) {
        this.current = watermark;
        this.onIdleAdvance(watermark);
      }
    }
    action.schedule(undefined, idleTimeout);
  }
}
