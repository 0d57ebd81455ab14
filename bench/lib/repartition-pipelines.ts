/**
 * The pipelines bench/repartition.ts runs with `rt.run`, chosen by the run's name: clicks (keyed
 * by user) counted per page in one-minute tumbling windows, every closed window written to
 * `page-windows`.
 * - `local-*`: each task counts the clicks it reads, so a page's count is split over the tasks
 *   (what a pipeline without a repartition computes).
 * - `repartitioned-*`: a repartition by page first, so each page is counted by one task.
 * The page is read from the JSON bytes without parsing them, as the demo does, so the figures
 * show what the repartition costs rather than JSON parsing. Records in the repartition topic
 * interleave the tasks' writes, so the watermark allows 10 minutes of disorder; the input ends
 * (bounded sources), which closes every window.
 */
import { count, repartition, sink, source, tumbling, window, type StreamRecord } from '../../src/streams/index.js';

const PAGE_FIELD = Buffer.from('"page":"');

function pageOf(record: StreamRecord): string {
  const value = record.value!;
  const start = value.indexOf(PAGE_FIELD) + PAGE_FIELD.length;
  return value.toString('latin1', start, value.indexOf(0x22, start));
}

export function localCount() {
  return source('clicks', { to: 'end' }).pipe(window(tumbling('1m'), { key: pageOf, maxOutOfOrderness: '10m' }), count(), sink('page-windows'));
}

export function repartitionedCount() {
  return source('clicks', { to: 'end' }).pipe(
    repartition({ key: pageOf, serde: 'bytes', keySerde: 'string' }),
    window(tumbling('1m'), { maxOutOfOrderness: '10m' }),
    count(),
    sink('page-windows'),
  );
}
