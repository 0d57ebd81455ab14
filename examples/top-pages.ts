/**
 * Top pages over the last five minutes, every minute: a hopping window (five minutes long,
 * advancing by one) counts views per page, and RxJS's own `groupBy` ranks the pages of each
 * window; the top three of each window go to the topic `top-pages`.
 *
 *   npx tsx examples/top-pages.ts
 *
 * Expected output:
 *
 *   22:09-22:14    4003 views  /p/0 (247), /p/1 (75), /p/2 (57)
 *   22:10-22:15   10001 views  /p/0 (585), /p/1 (202), /p/2 (141)
 *   22:11-22:16   16004 views  /p/0 (989), /p/1 (343), /p/2 (245)
 *   22:12-22:17   22012 views  /p/0 (1383), /p/1 (462), /p/2 (324)
 *   22:13-22:18   28004 views  /p/0 (1802), /p/1 (577), /p/2 (416)
 *   22:14-22:19   30002 views  /p/0 (1913), /p/1 (626), /p/2 (445)
 *   22:15-22:20   30002 views  /p/0 (1950), /p/1 (601), /p/2 (428)
 *   22:16-22:21   30003 views  /p/0 (1943), /p/1 (588), /p/2 (431)
 *   22:17-22:22   29995 views  /p/0 (1926), /p/1 (608), /p/2 (445)
 *   22:18-22:23   30002 views  /p/0 (1880), /p/1 (636), /p/2 (439)
 *   22:19-22:24   25995 views  /p/0 (1667), /p/1 (553), /p/2 (387)
 *   22:20-22:25   19997 views  /p/0 (1292), /p/1 (451), /p/2 (320)
 *   22:21-22:26   13993 views  /p/0 (895), /p/1 (323), /p/2 (213)
 *   22:22-22:27    7993 views  /p/0 (518), /p/1 (184), /p/2 (120)
 *   22:23-22:28    1994 views  /p/0 (145), /p/1 (41), /p/2 (34)
 */
import { groupBy, lastValueFrom, map, mergeMap, toArray } from 'rxjs';
import { count, hopping, sink, source, window } from '../src/streams/index.js';
import type { ClickEvent } from '../src/workload/click-events.js';
import { clock, openWithClicks } from './lib/click-data.js';

const TOP = 3;

const { rt, done } = await openWithClicks(60_000, { eventsPerSecond: 100 });
await rt.admin.createTopic('top-pages', { partitions: 1 });

await lastValueFrom(
  source<ClickEvent>('clicks', { serde: 'json', to: 'end' }).pipe(
    window(hopping('5m', '1m'), { key: (click) => click.value.page, maxOutOfOrderness: '2s' }),
    count(),
    groupBy((result) => result.window.start),
    mergeMap((pages) =>
      pages.pipe(
        toArray(),
        map((counted) => ({
          key: String(pages.key),
          value: {
            window: counted[0].window,
            views: counted.reduce((sum, page) => sum + page.value, 0),
            top: counted.sort((a, b) => b.value - a.value || a.key.localeCompare(b.key)).slice(0, TOP).map((page) => ({ page: page.key, views: page.value })),
          },
          timestamp: counted[0].window.start,
        })),
      ),
    ),
    sink('top-pages'),
  ),
  { defaultValue: undefined },
);

type Ranking = { window: { start: number; end: number }; views: number; top: Array<{ page: string; views: number }> };
const rankings = await lastValueFrom(source<Ranking>('top-pages', { serde: 'json', to: 'end' }).pipe(toArray()));
for (const { value } of rankings.sort((a, b) => a.value.window.start - b.value.window.start)) {
  const top = value.top.map((page) => `${page.page} (${page.views})`).join(', ');
  console.log(`${clock(value.window.start)}-${clock(value.window.end)}  ${String(value.views).padStart(6)} views  ${top}`);
}
await done();
