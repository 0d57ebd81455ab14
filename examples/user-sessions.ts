/**
 * User sessions: session windows per user (clicks at most 30 s apart belong to one session) over a
 * click stream, counted by `rt.run` in one stream task per worker thread, each task reading the
 * partitions its own thread hosts. The pipeline is examples/pipelines/user-sessions.ts.
 *
 *   npx tsx examples/user-sessions.ts
 *
 * Expected output:
 *
 *   run 'user-sessions': task 0 on thread 0, task 1 on thread 1
 *   13779 sessions of 2000 users, 60000 clicks: 4.35 clicks per session
 *     u0: 1916 clicks from 22:13 to 22:23 (600 s)
 *     u1: 728 clicks from 22:13 to 22:23 (598 s)
 *     u2: 528 clicks from 22:13 to 22:23 (597 s)
 *
 * A session's window runs from its first to its last click, both included.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { source } from '../src/streams/index.js';
import { clock, openWithClicks } from './lib/click-data.js';

const { rt, done } = await openWithClicks(60_000, { eventsPerSecond: 100, users: 2_000 });
await rt.admin.createTopic('sessions', { partitions: 4 });

const run = await rt.run(new URL('./pipelines/user-sessions.ts', import.meta.url), { name: 'user-sessions' });
console.log(`run '${run.name}': ${run.tasks.map((task) => `task ${task.index} on thread ${task.slot}`).join(', ')}`);
await run.done;

type Session = { window: { start: number; end: number }; value: number };
const sessions = (await lastValueFrom(source<Session, string>('sessions', { serde: 'json', keySerde: 'string', to: 'end' }).pipe(toArray()))).map((record) => ({
  user: record.key,
  ...record.value,
}));
const clicks = sessions.reduce((sum, s) => sum + s.value, 0);
const users = new Set(sessions.map((s) => s.user)).size;
console.log(`${sessions.length} sessions of ${users} users, ${clicks} clicks: ${(clicks / sessions.length).toFixed(2)} clicks per session`);
const busiest = sessions.sort((a, b) => b.value - a.value || a.user.localeCompare(b.user)).slice(0, 3);
for (const s of busiest) console.log(`  ${s.user}: ${s.value} clicks from ${clock(s.window.start)} to ${clock(s.window.end)} (${Math.round((s.window.end - s.window.start) / 1000)} s)`);
await done();
