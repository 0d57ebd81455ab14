/**
 * Kafka's topic-name rules (`org.apache.kafka.common.internals.Topic`). A topic name becomes a
 * directory name (`<topic>-<partition>/`), so it is checked here, before it reaches the file
 * system: the rules leave out path separators, `.` and `..`, control characters and every
 * non-ASCII character a file system might normalise or reject. They do not stop two names that
 * differ only in case from sharing a directory on a case-insensitive file system; Kafka has the
 * same gap.
 */
import { TributaryError } from '../errors.js';
import { describeValue } from './options.js';

/** Kafka's limit: a partition directory `<topic>-<partition>` must fit a 255-byte file name. */
export const MAX_TOPIC_NAME_LENGTH = 249;

const LEGAL = /^[a-zA-Z0-9._-]+$/;
const FIRST_ILLEGAL = /[^a-zA-Z0-9._-]/u;

/** The longest stretch of a bad name quoted in a message; a megabyte-long name must not make a megabyte-long error. */
const QUOTE_LIMIT = 80;

/** Returns `name` if Kafka would accept it as a topic name; otherwise throws INVALID_TOPIC naming the value and the rule. */
export function validateTopicName(name: unknown): string {
  if (typeof name !== 'string') throw invalid(name, 'not-a-string', `must be a string, got ${describeValue(name)}`);
  if (name.length === 0) throw invalid(name, 'empty', 'must not be empty');
  if (name === '.' || name === '..') throw invalid(name, 'dot', `must not be '.' or '..'`);
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw invalid(name, 'too-long', `is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  }
  if (!LEGAL.test(name)) {
    const match = FIRST_ILLEGAL.exec(name)!;
    const codePoint = match[0].codePointAt(0)!;
    const shown = codePoint >= 0x20 && codePoint !== 0x7f ? `'${match[0]}' ` : '';
    throw invalid(
      name,
      'illegal-character',
      `contains ${shown}(U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}) at index ${match.index}; ` +
        `only ASCII letters, digits, '.', '_' and '-' are allowed`,
    );
  }
  return name;
}

/**
 * The name two topics share when they collide: Kafka's metric names turn '.' into '_', so
 * `a.b` and `a_b` would report into the same metrics. Keying a map by this finds collisions
 * without comparing every pair.
 */
export function topicCollisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

/**
 * True when the two names collide as Kafka's `Topic.hasCollision` defines it, which includes two
 * identical names; callers check for an exact match first to answer TOPIC_ALREADY_EXISTS instead.
 */
export function topicNamesCollide(a: string, b: string): boolean {
  return topicCollisionKey(a) === topicCollisionKey(b);
}

function invalid(value: unknown, rule: string, reason: string): TributaryError {
  const shown = typeof value === 'string' ? `Topic name ${quote(value)}` : 'Topic name';
  // Only strings go into details: they cross threads by structured clone, which rejects functions and symbols.
  const details = typeof value === 'string' ? { topic: value, rule } : { rule };
  return new TributaryError('INVALID_TOPIC', `${shown} is invalid: it ${reason}`, details);
}

/** JSON quoting shows control characters as escapes instead of letting them garble the message. */
function quote(name: string): string {
  if (name.length <= QUOTE_LIMIT) return JSON.stringify(name);
  return `${JSON.stringify(name.slice(0, QUOTE_LIMIT))}... (${name.length} characters)`;
}
