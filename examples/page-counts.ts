/**
 * Page counts across tasks: clicks keyed by user, counted per page by `rt.run` in one stream task
 * per worker thread after a repartition by page (examples/pipelines/page-counts.ts), so each page
 * is counted by exactly one task and its last count is its total.
 *
 *   npx tsx examples/page-counts.ts
 *
 * Expected output:
 *
 *   run 'page-counts': 2 tasks, through the topic page-counts-by-page-repartition (4 partitions)
 *   60000 clicks on 1000 pages; every page counted by one task: true
 *     /p/0: 3827 views
 *     /p/1: 1254 views
 *     /p/2: 889 views
 *
 * Without the repartition each task would count its own share of every page's clicks.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { source } from '../src/streams/index.js';
import { openWithClicks } from './lib/click-data.js';

const { rt, done } = await openWithClicks(60_000, { eventsPerSecond: 100, users: 2_000 });
await rt.admin.createTopic('page-counts', { partitions: 4 });

const run = await rt.run(new URL('./pipelines/page-counts.ts', import.meta.url), { name: 'page-counts' });
await run.done;
const internal = rt.runtime.storedTopic('page-counts-by-page-repartition')!;
console.log(`run '${run.name}': ${run.tasks.length} tasks, through the topic ${internal.name} (${internal.partitions} partitions)`);

// Every count written, per page in order: one task counted a page when its counts go 1, 2, 3, ...
const updates = await lastValueFrom(source<number, string>('page-counts', { serde: 'json', keySerde: 'string', to: 'end' }).pipe(toArray()));
const counts = new Map<string, number[]>();
for (const { key, value } of updates) counts.set(key, [...(counts.get(key) ?? []), value]);
const oneTaskEach = [...counts.values()].every((values) => values.every((value, i) => value === i + 1));
const totals = [...counts].map(([page, values]) => ({ page, views: values[values.length - 1] }));
console.log(`${totals.reduce((sum, t) => sum + t.views, 0)} clicks on ${totals.length} pages; every page counted by one task: ${oneTaskEach}`);
for (const { page, views } of totals.sort((a, b) => b.views - a.views || a.page.localeCompare(b.page)).slice(0, 3)) console.log(`  ${page}: ${views} views`);
await done();
