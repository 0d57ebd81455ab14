/**
 * Records as lines of text, by the rules of Kafka's console consumer (DefaultMessageFormatter), so
 * the same `--property` settings print the same thing. Fields appear in Kafka's order, separated by
 * key.separator (default tab): `CreateTime:1700000000000`, `Partition:0`, `Offset:42`, headers
 * (`k1:v1,k2:v2`, or `NO_HEADERS`), key, value; then line.separator (default newline). Keys, values
 * and header values are written as their raw bytes; null ones as null.literal (default `null`).
 */
import type { ConsumerRecord } from '../client/consumer.js';
import type { TimestampType } from '../record/index.js';
import { booleanProperty } from './key-values.js';

export const FORMATTER_PROPERTIES = [
  'print.timestamp',
  'print.key',
  'print.value',
  'print.partition',
  'print.offset',
  'print.headers',
  'key.separator',
  'line.separator',
  'headers.separator',
  'null.literal',
] as const;

export interface FormatterSettings {
  readonly printTimestamp: boolean;
  readonly printKey: boolean;
  readonly printValue: boolean;
  readonly printPartition: boolean;
  readonly printOffset: boolean;
  readonly printHeaders: boolean;
  readonly keySeparator: Buffer;
  readonly lineSeparator: Buffer;
  readonly headersSeparator: Buffer;
  readonly nullLiteral: Buffer;
}

export function formatterSettings(properties: ReadonlyMap<string, string>): FormatterSettings {
  const bytes = (key: string, fallback: string) => Buffer.from(properties.get(key) ?? fallback, 'utf8');
  return {
    printTimestamp: booleanProperty(properties, 'print.timestamp', false),
    printKey: booleanProperty(properties, 'print.key', false),
    printValue: booleanProperty(properties, 'print.value', true),
    printPartition: booleanProperty(properties, 'print.partition', false),
    printOffset: booleanProperty(properties, 'print.offset', false),
    printHeaders: booleanProperty(properties, 'print.headers', false),
    keySeparator: bytes('key.separator', '\t'),
    lineSeparator: bytes('line.separator', '\n'),
    headersSeparator: bytes('headers.separator', ','),
    nullLiteral: bytes('null.literal', 'null'),
  };
}

/** Kafka's names for the timestamp types, as its tools print them. */
export function kafkaTimestampType(type: TimestampType): 'CreateTime' | 'LogAppendTime' {
  return type === 'log-append' ? 'LogAppendTime' : 'CreateTime';
}

/**
 * Appends one record's line to `parts` (joined and written by the caller, a batch at a time):
 * each field is followed by the key separator, the last by the line separator, as in Kafka.
 */
export function formatRecord(record: ConsumerRecord, timestampType: TimestampType, settings: FormatterSettings, parts: Uint8Array[]): void {
  const fields: Array<() => void> = [];
  if (settings.printTimestamp) fields.push(() => parts.push(Buffer.from(`${kafkaTimestampType(timestampType)}:${record.timestamp}`)));
  if (settings.printPartition) fields.push(() => parts.push(Buffer.from(`Partition:${record.partition}`)));
  if (settings.printOffset) fields.push(() => parts.push(Buffer.from(`Offset:${record.offset}`)));
  if (settings.printHeaders) {
    fields.push(() => {
      if (record.headers.length === 0) parts.push(Buffer.from('NO_HEADERS'));
      record.headers.forEach((header, i) => {
        if (i > 0) parts.push(settings.headersSeparator);
        parts.push(Buffer.from(`${header.key}:`), header.value ?? settings.nullLiteral);
      });
    });
  }
  if (settings.printKey) fields.push(() => parts.push(record.key ?? settings.nullLiteral));
  if (settings.printValue) fields.push(() => parts.push(record.value ?? settings.nullLiteral));
  fields.forEach((field, i) => {
    field();
    parts.push(i < fields.length - 1 ? settings.keySeparator : settings.lineSeparator);
  });
}

/** A record as one JSON object (`--json`): keys, values and header values as UTF-8 text. */
export function recordJson(record: ConsumerRecord, timestampType: TimestampType): Record<string, unknown> {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    timestampType: kafkaTimestampType(timestampType),
    key: record.key?.toString('utf8') ?? null,
    value: record.value?.toString('utf8') ?? null,
    headers: record.headers.map((header) => ({ key: header.key, value: header.value?.toString('utf8') ?? null })),
  };
}
