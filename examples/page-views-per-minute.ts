/**
 * Page views per minute: a tumbling one-minute window per page over a click stream, emitting one
 * final count per page and minute when the minute closes, written to the topic `page-views`.
 *
 *   npx tsx examples/page-views-per-minute.ts
 *
 * Expected output:
 *
 *   22:13    8013 views  top: /p/0 (453), /p/1 (166), /p/2 (102)
 *   22:14   11997 views  top: /p/0 (794), /p/1 (253), /p/2 (191)
 *   22:15   11999 views  top: /p/0 (790), /p/1 (248), /p/2 (185)
 *   22:16   12002 views  top: /p/0 (763), /p/1 (215), /p/2 (149)
 *   22:17   11994 views  top: /p/0 (753), /p/1 (284), /p/2 (204)
 *   22:18    3995 views  top: /p/0 (274), /p/1 (88), /p/2 (58)
 *
 * The pipeline reads every partition of `clicks` from this thread up to its end (`to: 'end'`),
 * which closes the last minutes too. The source merges its partitions in timestamp order, so the
 * watermark need only allow for the click stream's own disorder (2 s).
 */
import { lastValueFrom, toArray } from 'rxjs';
import { count, sink, source, tumbling, window } from '../src/streams/index.js';
import type { ClickEvent } from '../src/workload/click-events.js';
import { clock, openWithClicks } from './lib/click-data.js';

const { rt, done } = await openWithClicks(60_000, { eventsPerSecond: 200 });
await rt.admin.createTopic('page-views', { partitions: 4 });

await lastValueFrom(
  source<ClickEvent>('clicks', { serde: 'json', to: 'end' }).pipe(
    window(tumbling('1m'), { key: (click) => click.value.page, maxOutOfOrderness: '2s' }),
    count(),
    sink('page-views'),
  ),
  { defaultValue: undefined },
);

// Read the results back: { window, value } per page and minute.
const results = await lastValueFrom(source<{ window: { start: number }; value: number }, string>('page-views', { serde: 'json', keySerde: 'string', to: 'end' }).pipe(toArray()));
const minutes = new Map<number, Array<{ page: string; views: number }>>();
for (const { key, value } of results) {
  const pages = minutes.get(value.window.start) ?? [];
  pages.push({ page: key, views: value.value });
  minutes.set(value.window.start, pages);
}
for (const [start, pages] of [...minutes].sort(([a], [b]) => a - b)) {
  const total = pages.reduce((sum, page) => sum + page.views, 0);
  const top = pages.sort((a, b) => b.views - a.views || a.page.localeCompare(b.page)).slice(0, 3);
  console.log(`${clock(start)}  ${String(total).padStart(6)} views  top: ${top.map((page) => `${page.page} (${page.views})`).join(', ')}`);
}
await done();
