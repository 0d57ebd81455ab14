/**
 * A side output such as `window(...).late$`: records an operator sets aside instead of dropping.
 *
 * It is hot and follows the runs of the operator it belongs to: it emits what every active
 * subscription of the operator sets aside, and completes when the last active subscription ends
 * (the input completed or failed, or the output was unsubscribed). Subscribing to it again
 * afterwards follows the next run.
 */
import { Observable, Subject } from 'rxjs';

export class SideOutput<T> {
  private subject: Subject<T> | undefined;
  private active = 0;

  readonly observable: Observable<T> = new Observable<T>((subscriber) => (this.subject ??= new Subject<T>()).subscribe(subscriber));

  /** A subscription of the owning operator started. */
  open(): void {
    this.active++;
  }

  next(value: T): void {
    this.subject?.next(value);
  }

  /** A subscription of the owning operator ended. */
  close(): void {
    if (--this.active > 0 || this.subject === undefined) return;
    const subject = this.subject;
    this.subject = undefined;
    subject.complete();
  }
}
