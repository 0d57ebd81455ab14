/**
 * The first thing to run: a million click events through an embedded runtime and back.
 *
 *   npm start          # or: npx tsx examples/demo.ts [--events 1000000] [--dir .tributary] [--threads N]
 *
 * It opens the runtime in `.tributary/` (one worker thread per core), creates an 8-partition topic
 * `clicks` with LZ4 compression, produces a seeded click stream (users and pages from skewed
 * distributions, a little timestamp disorder) keyed by user, consumes it all back from the
 * beginning, checks that every event arrived exactly once and in order within its partition, and
 * prints the rates, where each partition lives, and the busiest pages.
 *
 * Expected output (figures vary by machine):
 *
 *   opened .tributary with 2 worker threads
 *   produce [##############################] 1,000,000/1,000,000  1.31M events/s
 *   produced 1,000,000 click events in 0.76 s: 1.31M events/s (lz4, acks -1, idempotent)
 *   consume [##############################] 1,000,000/1,000,000  2.90M events/s
 *   consumed 1,000,000 events in 0.34 s: 2.90M events/s; each exactly once, in order per partition
 *   partition 0: thread 0, offsets 0..125432, 5.7 MB   …
 *   top pages: /p/0 (63,104), /p/1 (21,417), …
 *
 * A second run starts over: it deletes the demo's `clicks` topic and creates it again.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { open } from '../src/index.js';
import { ClickStream } from '../src/workload/click-events.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    dir: { type: 'string', default: '.tributary' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
  },
});
const EVENTS = Number(args.events);
const SEND_SIZE = 1000;
const TOPIC = 'clicks';

const format = (n: number) => n.toLocaleString('en-US');
const rate = (count: number, seconds: number) => `${(count / seconds / 1e6).toFixed(2)}M events/s`;

/** A progress bar with a live rate: redrawn in place on a terminal, printed at the end otherwise. */
function progress(label: string, done: number, total: number, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  const bar = '#'.repeat(Math.round((done / total) * 30)).padEnd(30, '.');
  const line = `${label} [${bar}] ${format(done)}/${format(total)}  ${seconds > 0 ? rate(done, seconds) : ''}`;
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${line}${done === total ? '\n' : ''}`);
  else if (done === total) console.log(line);
}

const rt = await open({ dir: args.dir, threads: Number(args.threads) });
process.once('SIGINT', () => {
  console.log('\ninterrupted: closing the runtime cleanly');
  void rt.close().then(() => process.exit(130));
});
try {
  console.log(`opened ${args.dir} with ${rt.threads} worker threads`);
  if ((await rt.admin.listTopics()).includes(TOPIC)) {
    console.log(`deleting the previous run's '${TOPIC}' topic`);
    await rt.admin.deleteTopic(TOPIC);
  }
  await rt.admin.createTopic(TOPIC, { partitions: 8, compression: 'lz4' });

  const events = new ClickStream({ seed: 42 }).records(EVENTS);
  const producer = rt.producer();
  let started = performance.now();
  let acknowledged = 0;
  const sends: Promise<void>[] = [];
  for (let sent = 0; sent < EVENTS; sent += SEND_SIZE) {
    const messages = events.slice(sent, sent + SEND_SIZE);
    sends.push(
      producer.send({ topic: TOPIC, messages }).then(() => {
        acknowledged += messages.length;
        if (acknowledged % 50_000 === 0 || acknowledged === EVENTS) progress('produce', acknowledged, EVENTS, started);
      }),
    );
  }
  await Promise.all(sends);
  await producer.disconnect();
  const produceSeconds = (performance.now() - started) / 1000;
  console.log(`produced ${format(EVENTS)} click events in ${produceSeconds.toFixed(2)} s: ${rate(EVENTS, produceSeconds)} (lz4, acks -1, idempotent)`);

  const consumer = rt.consumer({ maxWaitTimeInMs: 100 });
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const nextOffset = new Map<number, number>();
  const pageViews = new Map<string, number>();
  started = performance.now();
  let consumed = 0;
  for await (const batch of consumer.batches()) {
    for (const message of batch.messages) {
      const expected = nextOffset.get(batch.partition) ?? 0;
      if (message.offset !== expected) throw new Error(`partition ${batch.partition}: got offset ${message.offset}, expected ${expected}`);
      nextOffset.set(batch.partition, expected + 1);
      // Values are JSON; the page is read from every 10th event only, since parsing dominates.
      if (consumed % 10 === 0) {
        const page = (JSON.parse(message.value!.toString()) as { page: string }).page;
        pageViews.set(page, (pageViews.get(page) ?? 0) + 1);
      }
      consumed++;
    }
    if (consumed % 50_000 < batch.messages.length || consumed >= EVENTS) progress('consume', Math.min(consumed, EVENTS), EVENTS, started);
    if (consumed >= EVENTS) break;
  }
  await consumer.disconnect();
  const consumeSeconds = (performance.now() - started) / 1000;
  if (consumed !== EVENTS) throw new Error(`consumed ${consumed} events, produced ${EVENTS}`);
  console.log(`consumed ${format(consumed)} events in ${consumeSeconds.toFixed(2)} s: ${rate(consumed, consumeSeconds)}; each exactly once, in order per partition`);

  const description = await rt.admin.describeTopic(TOPIC);
  for (const p of description.partitions) {
    console.log(`  partition ${p.partition}: thread ${p.thread}, offsets ${p.logStartOffset}..${p.logEndOffset - 1}, ${(p.sizeBytes / 1e6).toFixed(1)} MB`);
  }
  const top = [...pageViews].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(`top pages (every 10th event): ${top.map(([page, views]) => `${page} (${format(views)})`).join(', ')}`);
  console.log(`data directory: ${rt.dir} (Kafka's layout: one <topic>-<partition> directory of segments per partition)`);
} finally {
  await rt.close();
}
