/**
 * The subscription every tributary operator makes to its source, following RxJS's operator
 * template: a throw from the operator's own code or from a user callback (an extractor, an
 * aggregator, a joiner) fails the output instead of escaping as an unhandled error; once the
 * output is closed (failed, completed or unsubscribed, possibly while a synchronous source is still
 * emitting) nothing more is processed; completion runs the operator's end-of-input work first.
 * The caller returns the subscription (or a teardown that unsubscribes it) from its Observable.
 */
import type { Observable, Subscriber, Subscription } from 'rxjs';

export interface OperatorHandlers<T> {
  next(value: T): void;
  /**
   * End-of-input work (closing every open window); the output completes after it, unless it
   * returns false (a join whose other input is still running).
   */
  complete?(): boolean | void;
}

export function subscribeOperator<T>(source: Observable<T>, subscriber: Subscriber<unknown>, handlers: OperatorHandlers<T>): Subscription {
  return source.subscribe({
    next(value) {
      if (subscriber.closed) return;
      try {
        handlers.next(value);
      } catch (error) {
        subscriber.error(error);
      }
    },
    error(error) {
      subscriber.error(error);
    },
    complete() {
      if (subscriber.closed) return;
      let completes: boolean | void;
      try {
        completes = handlers.complete?.();
      } catch (error) {
        subscriber.error(error);
        return;
      }
      if (completes !== false) subscriber.complete();
    },
  });
}
