import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTopicConfig, splitTopicConfig } from '../../src/runtime/topic-config.js';
import { METADATA_FILE_NAME, PRODUCER_ID_BLOCK, TopicStore, type StoredTopic } from '../../src/runtime/topic-store.js';
import { rejection } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-topic-store-'));
  dirs.push(dir);
  return dir;
}

function topic(name: string, input: Parameters<typeof parseTopicConfig>[0] = {}): StoredTopic {
  return { name, ...splitTopicConfig(parseTopicConfig(input)) };
}

describe('TopicStore', () => {
  it('starts empty without a metadata file and writes none until something changes', async () => {
    const dir = newDir();
    const store = await TopicStore.load(dir);
    expect(store.topics).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('persists topics in creation order with their settings, partition counts and removals', async () => {
    const dir = newDir();
    const store = await TopicStore.load(dir);
    await store.add([topic('b', { partitions: 3, retentionMs: 1000 }), topic('a')]);
    await store.add([topic('c', { cleanupPolicy: 'compact' })]);
    await store.setPartitions(new Map([['a', 4]]));
    await store.remove(['b']);
    const reloaded = await TopicStore.load(dir);
    expect(reloaded.topics.map((t) => [t.name, t.partitions])).toEqual([
      ['a', 4],
      ['c', 1],
    ]);
    expect(reloaded.get('c')!.config.cleanupPolicy).toBe('compact');
    expect(reloaded.get('b')).toBeUndefined();
    expect(fs.readdirSync(dir)).toEqual([METADATA_FILE_NAME]);
  });

  it('never hands out a producer id twice, across reloads, writing once per block', async () => {
    const dir = newDir();
    const file = path.join(dir, METADATA_FILE_NAME);
    const store = await TopicStore.load(dir);
    const first = await Promise.all(Array.from({ length: 5 }, () => store.allocateProducerId()));
    expect(first).toEqual([0, 1, 2, 3, 4]);
    const written = fs.statSync(file).mtimeMs;
    const content = fs.readFileSync(file, 'utf8');
    for (let i = 5; i < PRODUCER_ID_BLOCK; i++) await store.allocateProducerId();
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
    expect(fs.statSync(file).mtimeMs).toBe(written);
    expect(await store.allocateProducerId()).toBe(PRODUCER_ID_BLOCK);

    const reloaded = await TopicStore.load(dir);
    const next = await Promise.all(Array.from({ length: 3 }, () => reloaded.allocateProducerId()));
    expect(next).toEqual([2 * PRODUCER_ID_BLOCK, 2 * PRODUCER_ID_BLOCK + 1, 2 * PRODUCER_ID_BLOCK + 2]);
  });

  it('leaves the previous file intact when a write fails', async () => {
    const dir = newDir();
    const store = await TopicStore.load(dir);
    await store.add([topic('a')]);
    // A directory where the temporary file goes makes the next write fail.
    fs.mkdirSync(path.join(dir, `${METADATA_FILE_NAME}.tmp`));
    const error = await rejection(store.add([topic('b')]), 'STORAGE_ERROR');
    expect(error.message).toContain('write topic metadata');
    expect(store.get('b')).toBeUndefined();
    expect((await TopicStore.load(dir)).topics.map((t) => t.name)).toEqual(['a']);
    // Later writes are not blocked by the failed one.
    fs.rmdirSync(path.join(dir, `${METADATA_FILE_NAME}.tmp`));
    await store.add([topic('c')]);
    expect((await TopicStore.load(dir)).topics.map((t) => t.name)).toEqual(['a', 'c']);
  });

  it.each([
    ['not JSON', '{', 'not valid JSON'],
    ['another version', JSON.stringify({ version: 2, topics: [], producerIdBlockEnd: 0 }), 'format version'],
    ['a bad topic name', JSON.stringify({ version: 1, topics: [{ name: 'a/b', partitions: 1, config: {} }], producerIdBlockEnd: 0 }), 'a/b'],
    ['a bad setting', JSON.stringify({ version: 1, topics: [{ name: 'a', partitions: 1, config: { flush: 'sometimes' } }], producerIdBlockEnd: 0 }), 'flush'],
    ['a bad partition count', JSON.stringify({ version: 1, topics: [{ name: 'a', partitions: 0, config: {} }], producerIdBlockEnd: 0 }), 'partitions'],
    ['a bad producer id mark', JSON.stringify({ version: 1, topics: [], producerIdBlockEnd: -1 }), 'producerIdBlockEnd'],
  ])('refuses a metadata file with %s', async (_, text, reason) => {
    const dir = newDir();
    fs.writeFileSync(path.join(dir, METADATA_FILE_NAME), text);
    const error = await rejection(TopicStore.load(dir), 'STORAGE_ERROR');
    expect(error.message).toContain(reason);
    expect(error.details.path).toBe(path.join(dir, METADATA_FILE_NAME));
  });
});
