/**
 * `tributary console-consumer`: kafka-console-consumer for an embedded data directory. Records
 * print one per line by Kafka's formatter rules (see record-formatter.ts), or as JSON lines.
 *
 * When it stops: after --max-messages records; after --timeout-ms without a record, as Kafka's
 * does; and, without --timeout-ms, once it has read to the end of every partition. That last rule
 * is tributary's: the CLI holds the data directory's lock while it runs, so no one else can append
 * and waiting for more would wait forever.
 *
 * With --group it reads as a member of that consumer group, from the group's committed offsets,
 * and commits what it printed (every 5 s while it runs, and when it stops), so the next run with
 * the same group continues where this one stopped.
 */
import type { Consumer, ConsumerBatch } from '../../client/consumer.js';
import { defineCommand } from '../command.js';
import { parseInteger, withRuntime } from '../data-dir.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { parseKeyValues } from '../key-values.js';
import { FORMATTER_PROPERTIES, formatRecord, formatterSettings, recordJson } from '../record-formatter.js';

/** How often, without --timeout-ms, the consumer checks whether it has reached the end of every partition. */
const END_CHECK_MS = 50;
/** A fetch at the end of a partition answers after this long, so positions and high watermarks stay fresh. */
const FETCH_WAIT_MS = 100;

export default defineCommand({
  usage: [
    '--topic TOPIC [--from-beginning] [--group GROUP | --partition P [--offset O|earliest|latest]] [--max-messages N] [--timeout-ms MS] [--property KEY=VALUE ...]',
  ],
  about:
    'Prints records one per line. Like Kafka it starts at the end of the log unless --from-beginning; --partition reads one ' +
    'partition, from --offset if given. --group reads as a member of that consumer group: from its committed offsets (a partition ' +
    'without one from the start with --from-beginning, else the end), committing what it printed, so the next run with the group ' +
    'continues where this one stopped. It stops after --max-messages records, after --timeout-ms without a record, or, ' +
    'without --timeout-ms, once it has read everything stored (the CLI holds the directory, so nothing new can arrive). ' +
    'Properties, as Kafka names them: print.timestamp, print.partition, print.offset, print.headers, print.key, print.value ' +
    "(true or false; only the value by default), key.separator (between fields, default tab), line.separator, headers.separator (default ','), " +
    "null.literal (default 'null'). With --json each record is a JSON object on its own line. The count of records goes to stderr at the end.",
  flags: {
    topic: { type: 'string', value: 'TOPIC', help: 'the topic to read' },
    'from-beginning': { type: 'boolean', help: 'start at the earliest offset rather than the end' },
    group: { type: 'string', value: 'GROUP', help: 'read as a member of this consumer group, committing what is printed' },
    partition: { type: 'string', value: 'P', help: 'read only this partition' },
    offset: { type: 'string', value: 'O', help: 'with --partition: start at this offset, or earliest, or latest' },
    'max-messages': { type: 'string', value: 'N', help: 'stop after N records' },
    'timeout-ms': { type: 'string', value: 'MS', help: 'stop after MS milliseconds without a record' },
    property: { type: 'string', multiple: true, value: 'KEY=VALUE', help: `how records print: ${FORMATTER_PROPERTIES.join(', ')}` },
  },
  dataDir: true,
  examples: [
    'tributary console-consumer --topic clicks --from-beginning --property print.key=true --property print.offset=true',
    'tributary console-consumer --topic clicks --partition 3 --offset 1000 --max-messages 10 --json',
    'tributary console-consumer --topic clicks --group reports --from-beginning --max-messages 100',
  ],
  async run({ flags, out, signal }) {
    const topic = flags.topic;
    if (topic === undefined) throw new UsageError('--topic is required');
    const settings = formatterSettings(parseKeyValues('--property', flags.property, FORMATTER_PROPERTIES));
    const partition = flags.partition === undefined ? undefined : parseInteger('--partition', flags.partition, 0);
    const group = flags.group;
    if (group !== undefined && partition !== undefined) throw new UsageError('--group and --partition cannot be given together: a group assigns its members their partitions');
    if (flags.offset !== undefined && partition === undefined) throw new UsageError('--offset needs --partition');
    if (flags.offset !== undefined && flags['from-beginning']) throw new UsageError('--offset and --from-beginning cannot be given together');
    const offset = flags.offset === undefined ? undefined : parseOffset(flags.offset);
    const maxMessages = flags['max-messages'] === undefined ? Infinity : parseInteger('--max-messages', flags['max-messages'], 1);
    const timeoutMs = flags['timeout-ms'] === undefined ? undefined : parseInteger('--timeout-ms', flags['timeout-ms'], 0);

    return withRuntime(flags, true, async (rt) => {
      const { timestampType } = rt.runtime.topic(topic);
      const consumer = rt.consumer({ maxWaitTimeInMs: FETCH_WAIT_MS, clientId: 'console-consumer', ...(group === undefined ? {} : { groupId: group }) });
      const start = offset ?? (flags['from-beginning'] ? -2 : -1);
      if (partition === undefined) await consumer.subscribe({ topic, fromBeginning: flags['from-beginning'] });
      else consumer.assign([{ topic, partition, offset: start }]);

      let count = 0;
      for await (const batch of until(consumer, { timeoutMs, signal })) {
        const records = batch.messages.slice(0, maxMessages - count);
        count += records.length;
        if (out.json) {
          await out.write(records.map((record) => `${JSON.stringify(recordJson(record, timestampType))}\n`).join(''));
        } else {
          const parts: Uint8Array[] = [];
          for (const record of records) formatRecord(record, timestampType, settings, parts);
          await out.write(Buffer.concat(parts));
        }
        if (count >= maxMessages) {
          // A group commits its positions on leaving: move this partition's back to the first record not printed.
          if (records.length < batch.messages.length) consumer.seek({ topic, partition: batch.partition, offset: batch.messages[records.length].offset });
          break;
        }
      }
      await consumer.disconnect();
      out.note(`Processed a total of ${count} messages${count === 0 ? emptyHint(group, start) : ''}`);
      return EXIT.OK;
    });
  },
});

/** Why a run printed nothing, when it may not be what the user expected. */
function emptyHint(group: string | undefined, start: number): string {
  if (group !== undefined) return ` (group ${group} read from its committed offsets; tributary consumer-groups --reset-offsets moves them)`;
  return start === -1 ? ' (it started at the end of the log: --from-beginning reads what is stored)' : '';
}

/** `earliest` / `latest` as Kafka's -2 / -1, or an offset. */
function parseOffset(value: string): number {
  if (value === 'earliest') return -2;
  if (value === 'latest') return -1;
  return parseInteger('--offset', value, 0);
}

/**
 * The consumer's batches until the stop rule says so: `timeoutMs` without a record, or (without
 * it) every partition read to its end; and at once when `signal` aborts.
 */
async function* until(consumer: Consumer, { timeoutMs, signal }: { timeoutMs: number | undefined; signal: AbortSignal }): AsyncGenerator<ConsumerBatch> {
  const batches = consumer.batches();
  // A next() still waiting when the clock ticks is kept and awaited again: calling next() anew would lose the batch it brings.
  let next: Promise<IteratorResult<ConsumerBatch>> | null = null;
  let lastRecordAt = performance.now();
  try {
    while (!signal.aborted) {
      next ??= batches.next();
      const wait = timeoutMs === undefined ? END_CHECK_MS : Math.max(0, timeoutMs - (performance.now() - lastRecordAt));
      const result = await race(next, wait, signal);
      if (result === null) {
        if (timeoutMs !== undefined ? performance.now() - lastRecordAt >= timeoutMs : await readToEnd(consumer)) return;
        continue;
      }
      next = null;
      if (result.done === true) return;
      if (result.value.messages.length > 0) lastRecordAt = performance.now();
      yield result.value;
    }
  } finally {
    await batches.return?.();
  }
}

/** Whether every assigned partition's position has reached its high watermark. */
async function readToEnd(consumer: Consumer): Promise<boolean> {
  const lags = await consumer.lag();
  return lags.length > 0 && lags.every((partition) => partition.lag === 0);
}

/** `promise`'s result, or null once `ms` pass or `signal` aborts first. */
function race<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(finish, ms, null);
    const onAbort = () => finish(null);
    signal.addEventListener('abort', onAbort);
    function finish(value: T | null): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }
    promise.then(finish, (error: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
  });
}
