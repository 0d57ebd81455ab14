import { describe, expect, it } from 'vitest';
import type { ConsumerRecord } from '../../src/client/consumer.js';
import { formatRecord, formatterSettings, recordJson } from '../../src/cli/record-formatter.js';

const record: ConsumerRecord = {
  topic: 'clicks',
  partition: 3,
  offset: 42,
  timestamp: 1_700_000_000_000,
  key: Buffer.from('u1'),
  value: Buffer.from('{"page":"/home"}'),
  headers: [
    { key: 'source', value: Buffer.from('web') },
    { key: 'trace', value: null },
  ],
};

function format(properties: Record<string, string>, input: ConsumerRecord = record, type: 'create' | 'log-append' = 'create'): string {
  const parts: Uint8Array[] = [];
  formatRecord(input, type, formatterSettings(new Map(Object.entries(properties))), parts);
  return Buffer.concat(parts).toString('utf8');
}

describe("console-consumer lines, by Kafka's DefaultMessageFormatter rules", () => {
  it('prints only the value by default', () => {
    expect(format({})).toBe('{"page":"/home"}\n');
  });

  it('prints the fields in Kafka order, separated by key.separator', () => {
    const all = { 'print.timestamp': 'true', 'print.partition': 'true', 'print.offset': 'true', 'print.headers': 'true', 'print.key': 'true' };
    expect(format(all)).toBe('CreateTime:1700000000000\tPartition:3\tOffset:42\tsource:web,trace:null\tu1\t{"page":"/home"}\n');
    expect(format({ ...all, 'key.separator': ' | ', 'headers.separator': ';', 'null.literal': '-', 'line.separator': '\r\n' }, record, 'log-append')).toBe(
      'LogAppendTime:1700000000000 | Partition:3 | Offset:42 | source:web;trace:- | u1 | {"page":"/home"}\r\n',
    );
  });

  it('ends the line after the last field printed, with or without the value', () => {
    expect(format({ 'print.key': 'true', 'print.value': 'false' })).toBe('u1\n');
    expect(format({ 'print.offset': 'true', 'print.value': 'false' })).toBe('Offset:42\n');
    expect(format({ 'print.value': 'false' })).toBe('');
  });

  it('prints NO_HEADERS and the null literal for what is missing', () => {
    const bare = { ...record, key: null, value: null, headers: [] };
    expect(format({ 'print.headers': 'true', 'print.key': 'true' }, bare)).toBe('NO_HEADERS\tnull\tnull\n');
  });

  it('writes keys and values as their bytes', () => {
    const binary = { ...record, value: Buffer.from([0xff, 0x00, 0x0a]) };
    const parts: Uint8Array[] = [];
    formatRecord(binary, 'create', formatterSettings(new Map()), parts);
    expect(Buffer.concat(parts)).toEqual(Buffer.from([0xff, 0x00, 0x0a, 0x0a]));
  });

  it('gives every field as JSON', () => {
    expect(recordJson(record, 'create')).toEqual({
      topic: 'clicks',
      partition: 3,
      offset: 42,
      timestamp: 1_700_000_000_000,
      timestampType: 'CreateTime',
      key: 'u1',
      value: '{"page":"/home"}',
      headers: [
        { key: 'source', value: 'web' },
        { key: 'trace', value: null },
      ],
    });
  });
});
