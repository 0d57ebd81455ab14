/**
 * The CLI end to end, as a user runs it: each step spawns `bin/tributary.mjs` on one data
 * directory, in order: create a topic, produce keyed lines with headers from stdin, consume them
 * back (Kafka's text format and JSON), describe, alter, delete.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, runMain } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const at = ['--dir', dir, '--threads', '1'];

// Headers, a tab, the key, a tab, the value: Kafka's parse.headers + parse.key defaults.
/** The records as the JSON consumer printed them, for the steps after it. */
let consumedRecords: Array<Record<string, unknown>> = [];

const lines = ['source:web,trace:t1\tu1\t{"page":"/home"}', 'source:app\tu2\t{"page":"/cart"}', 'source:web\tu1\tnull-me', 'NO\tu3\tplain'];

describe('tributary topics, console-producer and console-consumer', () => {
  it('creates a topic with Kafka config names', async () => {
    const created = await runCli(['topics', '--create', '--topic', 'clicks', '--partitions', '3', '--config', 'compression.type=lz4', '--config', 'retention.ms=60000', ...at]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('Created topic clicks.\n');
  });

  it('produces lines from stdin with keys, headers and a null marker', async () => {
    const input = `${lines.join('\n')}\n`;
    const produced = await runCli(
      ['console-producer', '--topic', 'clicks', '--property', 'parse.key=true', '--property', 'parse.headers=true', '--property', 'null.marker=null-me', '--property', 'ignore.error=true', '--json', ...at],
      { input },
    );
    expect(produced.code, produced.stderr).toBe(0);
    expect(JSON.parse(produced.stdout)).toMatchObject({ topic: 'clicks', records: 4, bytes: Buffer.byteLength(input) });
  });

  it('consumes everything back as JSON lines, in offset order per partition, and stops at the end of the log', async () => {
    const consumed = await runCli(['console-consumer', '--topic', 'clicks', '--from-beginning', '--json', ...at]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stderr).toContain('Processed a total of 4 messages');
    const records = jsonLines(consumed.stdout);
    consumedRecords = records;
    const byKey = (key: string) => records.filter((record) => record.key === key);
    expect(byKey('u1').map((record) => [record.value, record.headers])).toEqual([
      ['{"page":"/home"}', [{ key: 'source', value: 'web' }, { key: 'trace', value: 't1' }]],
      [null, [{ key: 'source', value: 'web' }]],
    ]);
    expect(byKey('u2')).toMatchObject([{ value: '{"page":"/cart"}', headers: [{ key: 'source', value: 'app' }], timestampType: 'CreateTime' }]);
    // "NO" has no header key separator: with ignore.error it is a header with a null value.
    expect(byKey('u3')).toMatchObject([{ value: 'plain', headers: [{ key: 'NO', value: null }] }]);
    // u1's two records share a partition (murmur2 of the key) and keep their order.
    const [first, second] = byKey('u1');
    expect(second.partition).toBe(first.partition);
    expect(second.offset).toBe((first.offset as number) + 1);
  });

  it("prints Kafka's console format for one partition from an offset, up to --max-messages", async () => {
    const u1 = consumedRecords.find((record) => record.key === 'u1')!;
    const consumed = await runCli([
      'console-consumer', '--topic', 'clicks', '--partition', String(u1.partition), '--offset', 'earliest', '--max-messages', '1',
      '--property', 'print.key=true', '--property', 'print.headers=true', '--property', 'print.offset=true', '--property', 'print.partition=true',
      '--property', 'print.timestamp=true', '--property', 'key.separator= | ', ...at,
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout).toBe(`CreateTime:${u1.timestamp} | Partition:${u1.partition} | Offset:${u1.offset} | source:web,trace:t1 | u1 | {"page":"/home"}\n`);
    expect(consumed.stderr).toContain('Processed a total of 1 messages');
  });

  it('describes partitions with their thread, offsets and size, in text and JSON', async () => {
    const text = await runCli(['topics', '--describe', '--topic', 'clicks', ...at]);
    expect(text.code, text.stderr).toBe(0);
    const [head, ...partitionLines] = text.stdout.trimEnd().split('\n');
    expect(head).toBe('Topic: clicks\tPartitionCount: 3\tConfigs: retention.ms=60000,compression.type=lz4');
    expect(partitionLines).toHaveLength(3);
    expect(partitionLines[0]).toMatch(/^\tPartition: 0\tThread: 0\tLogStartOffset: 0\tLogEndOffset: \d+\tSize: \d+(\.\d)? k?B\tSegments: 1$/);

    const json = await runMain(['topics', '--describe', '--json', ...at]);
    const [description] = JSON.parse(json.stdout) as Array<{ name: string; config: { compression: string }; kafkaConfig: Record<string, string>; partitions: Array<{ logEndOffset: number; sizeBytes: number }> }>;
    expect(description.name).toBe('clicks');
    expect(description.config.compression).toBe('lz4');
    expect(description.kafkaConfig['retention.ms']).toBe('60000');
    expect(description.partitions.reduce((sum, p) => sum + p.logEndOffset, 0)).toBe(4);
  });

  it('alters settings and the partition count, keeping the records', async () => {
    const altered = await runCli(['topics', '--alter', '--topic', 'clicks', '--partitions', '5', '--config', 'retention.ms=120000', '--delete-config', 'compression.type', '--json', ...at]);
    expect(altered.code, altered.stderr).toBe(0);
    const description = JSON.parse(altered.stdout) as { config: Record<string, unknown>; partitions: Array<{ logEndOffset: number }> };
    expect(description.config).toMatchObject({ retentionMs: 120_000, compression: 'producer' });
    expect(description.partitions).toHaveLength(5);
    expect(description.partitions.reduce((sum, p) => sum + p.logEndOffset, 0)).toBe(4);
  });

  it('deletes the topic', async () => {
    const deleted = await runCli(['topics', '--delete', '--topic', 'clicks', ...at]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('Deleted topic clicks.\n');
    const listed = await runMain(['topics', '--list', '--json', ...at]);
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });
});
