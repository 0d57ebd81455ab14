import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import {
  MAX_TOPIC_NAME_LENGTH,
  topicCollisionKey,
  topicNamesCollide,
  validateTopicName,
} from '../../src/runtime/topic-name.js';

const LEGAL_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
const params = { seed: 20240611, numRuns: 500 };

const legalChar = fc.constantFrom(...LEGAL_CHARS);
const validName = fc
  .string({ unit: legalChar, minLength: 1, maxLength: MAX_TOPIC_NAME_LENGTH })
  .filter((name) => name !== '.' && name !== '..');
/** Strings holding at least one character outside the legal set: controls, '/', '\\', spaces, accents, emoji, lone surrogates. */
const illegalChunk = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
  )
  .filter((chunk) => !/^[a-zA-Z0-9._-]+$/.test(chunk));

/** The first illegal code point of `name` and its UTF-16 index, found by walking code points one by one. */
function firstIllegal(name: string): { codePoint: number; index: number } {
  let index = 0;
  for (const char of name) {
    if (!LEGAL_CHARS.includes(char)) return { codePoint: char.codePointAt(0)!, index };
    index += char.length;
  }
  throw new Error(`${name} has no illegal character`);
}

function rejection(value: unknown): TributaryError {
  try {
    validateTopicName(value);
  } catch (error) {
    if (TributaryError.is(error, 'INVALID_TOPIC')) return error;
    throw error;
  }
  throw new Error(`${String(value)} was accepted`);
}

describe('validateTopicName', () => {
  it('accepts every name of legal characters, 1 to 249 long, other than . and ..', () => {
    fc.assert(
      fc.property(validName, (name) => {
        expect(validateTopicName(name)).toBe(name);
      }),
      params,
    );
  });

  it('rejects any name with a character outside [a-zA-Z0-9._-], naming the character and its index', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: legalChar, maxLength: 100 }),
        illegalChunk,
        fc.string({ unit: legalChar, maxLength: 100 }),
        (before, bad, after) => {
          const name = before + bad + after;
          const error = rejection(name);
          expect(error.details).toEqual({ topic: name, rule: 'illegal-character' });
          const { codePoint, index } = firstIllegal(name);
          expect(error.message).toContain(`(U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}) at index ${index};`);
        },
      ),
      params,
    );
  });

  it('rejects names longer than 249 characters and accepts exactly 249', () => {
    expect(validateTopicName('a'.repeat(MAX_TOPIC_NAME_LENGTH))).toHaveLength(249);
    fc.assert(
      fc.property(fc.string({ unit: legalChar, minLength: MAX_TOPIC_NAME_LENGTH + 1, maxLength: 2000 }), (name) => {
        const error = rejection(name);
        expect(error.details).toEqual({ topic: name, rule: 'too-long' });
        expect(error.message).toContain(`is ${name.length} characters long; the limit is 249`);
        // The quoted value is cut short, so a huge name does not make a huge message.
        expect(error.message.length).toBeLessThan(300);
      }),
      params,
    );
  });

  it.each([
    ['', 'empty', 'Topic name "" is invalid: it must not be empty'],
    ['.', 'dot', `Topic name "." is invalid: it must not be '.' or '..'`],
    ['..', 'dot', `Topic name ".." is invalid: it must not be '.' or '..'`],
  ])('rejects %j', (name, rule, message) => {
    const error = rejection(name);
    expect(error.details).toEqual({ topic: name, rule });
    expect(error.message).toBe(`${message} [INVALID_TOPIC]`);
  });

  it.each([
    ['../etc', "'/' (U+002F) at index 2"],
    ['a\\b', "'\\' (U+005C) at index 1"],
    ['my topic', "' ' (U+0020) at index 2"],
    ['tab\there', '(U+0009) at index 3'],
    ['nul\u0000', '(U+0000) at index 3'],
    ['café', "'é' (U+00E9) at index 3"],
    ['emoji-😀', "'😀' (U+1F600) at index 6"],
  ])('rejects %j, naming %s', (name, fragment) => {
    const error = rejection(name);
    expect(error.message).toContain(fragment);
    expect(error.message).toContain(JSON.stringify(name));
    expect(error.retriable).toBe(false);
    expect(error.kafkaCode).toBe(17);
  });

  it.each([
    [undefined, 'got undefined'],
    [null, 'got null'],
    [42, 'got number 42'],
    [['a'], 'got an array'],
    [{ name: 'a' }, 'got an object'],
    [Symbol('t'), 'got Symbol(t)'],
  ])('rejects the non-string %s', (value, fragment) => {
    const error = rejection(value);
    expect(error.message).toContain(`it must be a string, ${fragment}`);
    expect(error.details).toEqual({ rule: 'not-a-string' });
    // Details must survive a thread boundary.
    expect(() => structuredClone(error.toJSON())).not.toThrow();
  });
});

describe('topic name collisions', () => {
  it('treats . and _ as the same character, as Kafka metric names do', () => {
    expect(topicNamesCollide('a.b', 'a_b')).toBe(true);
    expect(topicNamesCollide('a.b_c', 'a_b.c')).toBe(true);
    expect(topicNamesCollide('clicks', 'clicks')).toBe(true);
    expect(topicNamesCollide('a.b', 'a-b')).toBe(false);
    expect(topicNamesCollide('a.b', 'a.bc')).toBe(false);
    expect(topicNamesCollide('Ab', 'ab')).toBe(false);
  });

  it('collides exactly when the collision keys are equal', () => {
    const dotOrUnderscore = fc.string({ unit: fc.constantFrom('.', '_', 'a', 'b'), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(dotOrUnderscore, dotOrUnderscore, (a, b) => {
        const separator = (c: string) => c === '.' || c === '_';
        const expected = a.length === b.length && [...a].every((c, i) => c === b[i] || (separator(c) && separator(b[i])));
        expect(topicNamesCollide(a, b)).toBe(expected);
        expect(topicCollisionKey(a) === topicCollisionKey(b)).toBe(expected);
      }),
      params,
    );
  });
});
