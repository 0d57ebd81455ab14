/**
 * `tributary topics`: kafka-topics for an embedded data directory. Settings are given in Kafka's
 * config names (`--config retention.ms=86400000`), mapped onto the topic's settings by
 * `topicConfigFromKafka`; `flush` (never | interval | always) is tributary's own, since Kafka
 * leaves fsync to the OS.
 */
import { TributaryError } from '../../errors.js';
import type { TopicConfigChanges, TopicDescription } from '../../runtime/admin.js';
import { parseTopicConfig, splitTopicConfig, topicConfigFromKafka, topicConfigToKafka, type TopicConfig } from '../../runtime/topic-config.js';
import type { Tributary } from '../../tributary.js';
import { chooseAction, onlyWith } from '../action-flags.js';
import { defineCommand } from '../command.js';
import { parseInteger, withRuntime } from '../data-dir.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { parseKeyValues } from '../key-values.js';
import type { Output } from '../output.js';

const ACTIONS = ['create', 'list', 'describe', 'delete', 'alter'] as const;

const DEFAULTS = splitTopicConfig(parseTopicConfig()).config;
/** The `--config` keys: every Kafka config a topic maps, then tributary's own. */
const CONFIG_KEYS = [...topicConfigToKafka(DEFAULTS).map((entry) => entry.name), 'flush'];

export default defineCommand({
  usage: [
    '--list [--exclude-internal]',
    '--describe [--topic TOPIC] [--exclude-internal]',
    '--create --topic TOPIC [--partitions N] [--config KEY=VALUE ...] [--if-not-exists]',
    '--alter --topic TOPIC [--partitions N] [--config KEY=VALUE ...] [--delete-config KEY ...] [--if-exists]',
    '--delete --topic TOPIC [--if-exists]',
  ],
  about:
    `Topic settings use Kafka's config names: ${CONFIG_KEYS.join(', ')} ` +
    `(flush is tributary's: never, interval or always; see the README's configuration reference). An unknown key is an error.\n` +
    '--describe shows each partition with the worker thread hosting it (for --threads threads), its log start and end offsets, its size and its segment count. ' +
    '--alter changes only the settings named and reopens the partitions under them; --partitions there is the new, larger count.',
  flags: {
    create: { type: 'boolean', help: 'create a topic' },
    list: { type: 'boolean', help: 'list topic names' },
    describe: { type: 'boolean', help: 'describe one topic (--topic) or all' },
    delete: { type: 'boolean', help: 'delete a topic and all its records' },
    alter: { type: 'boolean', help: 'change settings or raise the partition count' },
    topic: { type: 'string', value: 'TOPIC', help: 'the topic' },
    partitions: { type: 'string', value: 'N', help: 'partition count (--create: default 1; --alter: the new total)' },
    config: { type: 'string', multiple: true, value: 'KEY=VALUE', help: "a topic setting in Kafka's name, e.g. retention.ms=86400000" },
    'delete-config': { type: 'string', multiple: true, value: 'KEY', help: 'with --alter: return a setting to its default' },
    'if-not-exists': { type: 'boolean', help: 'with --create: do nothing if the topic exists' },
    'if-exists': { type: 'boolean', help: 'with --alter or --delete: do nothing if the topic does not exist' },
    'exclude-internal': { type: 'boolean', help: "with --list or --describe: leave out tributary's own topics (__...)" },
  },
  dataDir: true,
  examples: [
    'tributary topics --create --topic clicks --partitions 8 --config compression.type=lz4 --config retention.ms=86400000',
    'tributary topics --describe --topic clicks',
    'tributary topics --alter --topic clicks --partitions 12 --config retention.ms=3600000',
    'tributary topics --list --json',
  ],
  async run({ flags, out }) {
    const action = chooseAction(flags, ACTIONS);
    onlyWith(action, flags.partitions !== undefined, '--partitions', ['create', 'alter']);
    onlyWith(action, flags.config.length > 0, '--config', ['create', 'alter']);
    onlyWith(action, flags['delete-config'].length > 0, '--delete-config', ['alter']);
    onlyWith(action, flags['if-not-exists'], '--if-not-exists', ['create']);
    onlyWith(action, flags['if-exists'], '--if-exists', ['alter', 'delete']);
    onlyWith(action, flags['exclude-internal'], '--exclude-internal', ['list', 'describe']);
    onlyWith(action, flags.topic !== undefined, '--topic', ['create', 'describe', 'delete', 'alter']);
    const topic = flags.topic;
    if (topic === undefined && (action === 'create' || action === 'delete' || action === 'alter')) throw new UsageError(`--${action} needs --topic`);
    const partitions = flags.partitions === undefined ? undefined : parseInteger('--partitions', flags.partitions, 1);
    const changes = configChanges(flags.config, flags['delete-config']);
    if (action === 'alter' && partitions === undefined && Object.keys(changes).length === 0) {
      throw new UsageError('--alter needs --partitions, --config or --delete-config');
    }

    return withRuntime(flags, action !== 'create', async (rt) => {
      switch (action) {
        case 'list': {
          const names = (await rt.admin.listTopics()).filter((name) => !(flags['exclude-internal'] && isInternal(name)));
          if (out.json) await out.document(names);
          else for (const name of names) await out.line(name);
          return EXIT.OK;
        }
        case 'describe': {
          const names = topic !== undefined ? [topic] : (await rt.admin.listTopics()).filter((name) => !(flags['exclude-internal'] && isInternal(name)));
          const descriptions = [];
          for (const name of names) descriptions.push(await rt.admin.describeTopic(name));
          if (out.json) await out.document(descriptions.map(describedJson));
          else for (const description of descriptions) await printDescription(out, description);
          return EXIT.OK;
        }
        case 'create': {
          try {
            await rt.admin.createTopic(topic!, { ...changes, partitions });
          } catch (error) {
            if (!(flags['if-not-exists'] && TributaryError.is(error, 'TOPIC_ALREADY_EXISTS'))) throw error;
            return report(out, rt, topic!, `Topic ${topic} already exists.`);
          }
          return report(out, rt, topic!, `Created topic ${topic}.`);
        }
        case 'delete': {
          if (await skipMissing(rt, topic!, flags['if-exists'])) return report(out, rt, topic!, `Topic ${topic} does not exist.`);
          await rt.admin.deleteTopic(topic!);
          if (out.json) await out.document({ deleted: topic });
          else await out.line(`Deleted topic ${topic}.`);
          return EXIT.OK;
        }
        case 'alter': {
          if (await skipMissing(rt, topic!, flags['if-exists'])) return report(out, rt, topic!, `Topic ${topic} does not exist.`);
          const done: string[] = [];
          if (Object.keys(changes).length > 0) {
            await rt.admin.alterTopicConfig(topic!, changes);
            done.push(...[...flags.config, ...flags['delete-config'].map((key) => `${key} (default)`)]);
          }
          if (partitions !== undefined) {
            const before = rt.runtime.topic(topic!).partitions;
            await rt.admin.createPartitions({ topicPartitions: [{ topic: topic!, count: partitions }] });
            done.push(`partitions ${before} -> ${partitions}`);
          }
          return report(out, rt, topic!, `Altered topic ${topic}: ${done.join(', ')}.`);
        }
      }
    });
  },
});

function isInternal(name: string): boolean {
  return name.startsWith('__');
}

/** `--config` and `--delete-config` as settings, checked before the data directory is opened. */
function configChanges(configs: readonly string[], deleted: readonly string[]): TopicConfigChanges {
  const given = parseKeyValues('--config', configs, CONFIG_KEYS);
  for (const key of parseKeyValues('--delete-config', deleted.map((key) => `${key}=`), CONFIG_KEYS).keys()) {
    if (given.has(key)) throw new UsageError(`${key} is both set (--config) and deleted (--delete-config)`);
    // Going back to the default is setting the default: Kafka's value for it reads back as ours.
    given.set(key, key === 'flush' ? DEFAULTS.flush : topicConfigToKafka(DEFAULTS).find((entry) => entry.name === key)!.value);
  }
  const { flush, ...kafka } = Object.fromEntries(given);
  try {
    const changes: TopicConfigChanges = topicConfigFromKafka(Object.entries(kafka).map(([name, value]) => ({ name, value })));
    if (flush === undefined) return changes;
    parseTopicConfig({ flush: flush as never });
    return { ...changes, flush: flush as TopicConfig['flush'] };
  } catch (error) {
    if (TributaryError.is(error, 'INVALID_CONFIG')) throw new UsageError(error.message);
    throw error;
  }
}

async function skipMissing(rt: Tributary, topic: string, ifExists: boolean): Promise<boolean> {
  return ifExists && !(await rt.admin.listTopics()).includes(topic);
}

/** The settings that differ from the defaults, as Kafka's describe shows a topic's overrides. */
function overrides(config: TopicConfig): string[] {
  const defaults = new Map(topicConfigToKafka(DEFAULTS).map((entry) => [entry.name, entry.value]));
  const entries = topicConfigToKafka(config).filter((entry) => defaults.get(entry.name) !== entry.value);
  const spelled = entries.map((entry) => `${entry.name}=${entry.value}`);
  return config.flush === DEFAULTS.flush ? spelled : [...spelled, `flush=${config.flush}`];
}

function describedJson(description: TopicDescription) {
  return {
    ...description,
    kafkaConfig: Object.fromEntries(topicConfigToKafka(description.config).map((entry) => [entry.name, entry.value])),
  };
}

async function printDescription(out: Output, description: TopicDescription): Promise<void> {
  const { name, partitions, config } = description;
  await out.line(`Topic: ${name}\tPartitionCount: ${partitions.length}\tConfigs: ${overrides(config).join(',')}`);
  for (const p of partitions) {
    await out.line(
      `\tPartition: ${p.partition}\tThread: ${p.thread}\tLogStartOffset: ${p.logStartOffset}\tLogEndOffset: ${p.logEndOffset}` +
        `\tSize: ${formatBytes(p.sizeBytes)}\tSegments: ${p.segments}`,
    );
  }
}

/** Prints the outcome of a change: the line, or with --json the topic as it now is (null if it does not exist). */
async function report(out: Output, rt: Tributary, topic: string, line: string): Promise<number> {
  if (out.json) {
    const exists = (await rt.admin.listTopics()).includes(topic);
    await out.document(exists ? describedJson(await rt.admin.describeTopic(topic)) : null);
  } else {
    await out.line(line);
  }
  return EXIT.OK;
}
