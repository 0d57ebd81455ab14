/**
 * `tributary console-producer`: kafka-console-producer for an embedded data directory. Each line
 * of stdin (or `--file`) becomes a record, parsed by Kafka's rules (see line-reader.ts).
 *
 * Input is read in chunks and each chunk's lines go out as one `send`, so a file streams at the
 * producer's speed while a line typed at a terminal is sent as soon as it is entered. At most
 * MAX_PENDING_SENDS are awaited at once: reading pauses behind them, so memory stays flat however
 * big the file.
 */
import { addAbortListener } from 'node:events';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { ProducerMessage } from '../../client/producer.js';
import { COMPRESSION_NAMES, type CompressionName } from '../../record/index.js';
import { defineCommand } from '../command.js';
import { withRuntime } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount, formatRate, formatSeconds } from '../format.js';
import { parseKeyValues } from '../key-values.js';
import { LINE_READER_PROPERTIES, lineReaderSettings, parseLine } from '../line-reader.js';
import { Progress } from '../progress.js';

const MAX_PENDING_SENDS = 16;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export default defineCommand({
  usage: ['--topic TOPIC [--file FILE] [--property KEY=VALUE ...] [--compression CODEC] [--acks -1|0|1|all]'],
  about:
    'Reads lines from stdin, or from --file, and produces each as a record. Properties, as Kafka names them: ' +
    'parse.key=true with key.separator (default tab) reads a key before the value; parse.headers=true with headers.delimiter ' +
    "(default tab), headers.separator (default ',') and headers.key.separator (default ':') reads headers before the key, " +
    "as in 'h1:v1,h2:v2<TAB>key<TAB>value'; null.marker=X makes a key, value or header value equal to X null; " +
    'ignore.error=true treats a missing separator as no key (or a null header value) instead of failing. ' +
    'The producer is idempotent with acks -1 (the default); acks 0 or 1 turn idempotence off. ' +
    'Producing a file (or a redirected stdin) on a terminal shows a progress bar with the rate; a summary goes to stderr at the end.',
  flags: {
    topic: { type: 'string', value: 'TOPIC', help: 'the topic to produce to (it must exist)' },
    file: { type: 'string', value: 'FILE', help: 'read lines from FILE instead of stdin' },
    property: { type: 'string', multiple: true, value: 'KEY=VALUE', help: `how lines are parsed: ${LINE_READER_PROPERTIES.join(', ')}` },
    compression: { type: 'string', value: 'CODEC', help: `${COMPRESSION_NAMES.join(', ')} (default: the topic's)` },
    acks: { type: 'string', value: 'ACKS', help: '-1 or all (default), 1, or 0' },
  },
  dataDir: true,
  examples: [
    "printf 'u1:hello\\nu2:world\\n' | tributary console-producer --topic clicks --property parse.key=true --property key.separator=:",
    'tributary console-producer --topic clicks --file events.txt --compression lz4',
  ],
  async run({ flags, out, signal }) {
    const topic = flags.topic;
    if (topic === undefined) throw new UsageError('--topic is required');
    const settings = lineReaderSettings(parseKeyValues('--property', flags.property, LINE_READER_PROPERTIES));
    const compression = parseCompression(flags.compression);
    const acks = parseAcks(flags.acks);
    const { input, totalBytes } = openInput(flags.file);

    return withRuntime(flags, true, async (rt) => {
      rt.runtime.topic(topic); // UNKNOWN_TOPIC_OR_PARTITION before a single line is read.
      const producer = rt.producer({ acks, idempotent: acks === -1, ...(compression === undefined ? {} : { compression }) });
      const progress = totalBytes === undefined ? null : Progress.start(out, 'produce', totalBytes, { unit: 'bytes', itemUnit: 'records' });
      // Also when Ctrl-C came while the runtime was opening: the listener then runs at once.
      const stopOnAbort = addAbortListener(signal, () => input.destroy());
      const started = performance.now();
      const pending: Promise<unknown>[] = [];
      let failure: unknown;
      let records = 0;
      let bytesRead = 0;
      let lineNumber = 0;
      let rest: Buffer | null = null;
      const send = (messages: ProducerMessage[]) => {
        records += messages.length;
        pending.push(
          producer.send({ topic, messages }).catch((error: unknown) => {
            failure ??= error;
          }),
        );
      };
      try {
        for await (const chunk of input as AsyncIterable<Buffer>) {
          bytesRead += chunk.length;
          const data: Buffer = rest === null ? chunk : Buffer.concat([rest, chunk]);
          const messages: ProducerMessage[] = [];
          let start = 0;
          for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE, start)) {
            messages.push(parseLine(lineText(data, start, end), ++lineNumber, settings));
            start = end + 1;
          }
          rest = start < data.length ? data.subarray(start) : null;
          if (messages.length > 0) send(messages);
          progress?.update(Math.min(bytesRead, totalBytes ?? bytesRead), records);
          if (failure !== undefined) break;
          if (pending.length >= MAX_PENDING_SENDS) await pending.shift();
        }
      } catch (error) {
        if (!signal.aborted) throw error;
      } finally {
        stopOnAbort[Symbol.dispose]();
      }
      // The last line may have no line ending; after Ctrl-C what is left is a piece of a line, and the whole lines before it are sent.
      if (rest !== null && failure === undefined && !signal.aborted) send([parseLine(lineText(rest, 0, rest.length), ++lineNumber, settings)]);
      await Promise.all(pending);
      await producer.disconnect();
      progress?.stop();
      if (failure !== undefined) throw failure;
      const seconds = (performance.now() - started) / 1000;
      if (out.json) {
        await out.document({ topic, records, bytes: bytesRead, seconds: Number(seconds.toFixed(3)) });
      } else {
        out.note(`Produced ${formatCount(records)} records (${formatBytes(bytesRead)}) to ${topic} in ${formatSeconds(seconds)}: ${formatRate(records / seconds, 'records')}`);
      }
      return EXIT.OK;
    });
  },
});

/** The text of the line in `data` between `start` and the newline at `end`, without a carriage return before it. */
function lineText(data: Buffer, start: number, end: number): string {
  return data.toString('utf8', start, end > start && data[end - 1] === CARRIAGE_RETURN ? end - 1 : end);
}

function parseCompression(value: string | undefined): CompressionName | undefined {
  if (value === undefined) return undefined;
  if (!(COMPRESSION_NAMES as readonly string[]).includes(value)) throw new UsageError(`--compression must be one of ${COMPRESSION_NAMES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as CompressionName;
}

function parseAcks(value: string | undefined): -1 | 0 | 1 {
  switch (value) {
    case undefined:
    case 'all':
    case '-1':
      return -1;
    case '0':
      return 0;
    case '1':
      return 1;
    default:
      throw new UsageError(`--acks must be -1 (or all), 0 or 1, got ${JSON.stringify(value)}`);
  }
}

/** The input stream and, when it is a regular file (--file, or stdin redirected from one), its size for the progress bar. */
function openInput(file: string | undefined): { input: Readable; totalBytes: number | undefined } {
  if (file === undefined) {
    const stat = fs.fstatSync(0);
    return { input: process.stdin, totalBytes: stat.isFile() ? stat.size : undefined };
  }
  let size: number;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new Error('not a regular file');
    size = stat.size;
  } catch (cause) {
    throw new CliError(`cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  return { input: fs.createReadStream(file), totalBytes: size };
}
