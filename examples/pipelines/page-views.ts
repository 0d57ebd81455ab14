/**
 * The pipeline of the demo (examples/demo.ts), as `rt.run` takes it: page views per minute. Each
 * stream task counts the clicks of its share of `clicks` per page in one-minute event-time windows
 * and, when a window closes, writes one record per page to `page-views`:
 * `{ key: page, value: { page, views, start, end } }` (window bounds in epoch ms). A page's views
 * in a minute are the sum over the tasks' records for that page and minute. Clicks that arrive
 * after their window closed go to `clicks-late`, as they are, so nothing read goes uncounted.
 *
 * The watermark. A task keeps one watermark over everything it reads, and `source()` hands on the
 * partitions of a task one fetched batch at a time, as they come; so a task reading several
 * partitions sees one run ahead of another, by up to a fetch of each, while each partition on its
 * own is only as disordered as the click stream (at most 2 s). Measured at full speed, a million
 * clicks, 2 tasks of 4 partitions each: a watermark 3 s behind left about 100,000 clicks late, one
 * minute behind about 27,000, and only five minutes none, which would also hold the last windows
 * open for five minutes of idle input at the end. So the demo runs one task per partition (see
 * its `taskCount`), and the watermark stays 3 s behind the newest click a task has read: the
 * stream's disorder and a second to spare; measured, no click late. Once a task's input stops,
 * its watermark moves on with the wall clock after `IDLE_TIMEOUT_MS`, which closes the last
 * windows (the demo's stream ends on a minute boundary, so in about 4 s). The same could make a
 * task whose input stalls for over a second while clicks wait find a few of them late; those go
 * to `clicks-late`, counted.
 */
import { map, merge } from 'rxjs';
import { count, sink, source, tumbling, window, type StreamRecord } from '../../src/streams/index.js';

export const CLICKS = 'clicks';
export const PAGE_VIEWS = 'page-views';
export const LATE_CLICKS = 'clicks-late';
/** How far the watermark stays behind the newest click a task has read: the click stream's own disorder (2 s) and a second to spare. */
export const MAX_OUT_OF_ORDERNESS_MS = 3_000;
/** Input idle for this long (processing time) moves the watermark on. */
const IDLE_TIMEOUT_MS = 1_000;

/** One closed window's count of one page, from one task, as `page-views` holds it. */
export interface PageViews {
  readonly page: string;
  readonly views: number;
  readonly start: number;
  readonly end: number;
}

type Click = StreamRecord<Buffer | null, Buffer | null>;

const PAGE_FIELD = Buffer.from('"page":"');

/** The click's page, read from its JSON without parsing the rest (parsing every click would cost more than the counting). */
function pageOf(value: Buffer): string {
  const start = value.indexOf(PAGE_FIELD) + PAGE_FIELD.length;
  return value.toString('latin1', start, value.indexOf(0x22, start));
}

export default () => {
  const perMinute = window<Click, string>(tumbling('1m'), {
    key: (click) => pageOf(click.value!),
    maxOutOfOrderness: MAX_OUT_OF_ORDERNESS_MS,
    idleTimeout: IDLE_TIMEOUT_MS,
  });
  return merge(
    source(CLICKS).pipe(
      perMinute,
      count(),
      map(({ key: page, window: { start, end }, value: views }) => ({ key: page, value: { page, views, start, end } satisfies PageViews, timestamp: start })),
      sink(PAGE_VIEWS),
    ),
    perMinute.late$.pipe(sink(LATE_CLICKS)),
  );
};
