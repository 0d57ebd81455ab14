import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliError, UsageError } from '../../src/cli/errors.js';
import { lineReaderSettings, parseLine } from '../../src/cli/line-reader.js';

const settings = (properties: Record<string, string> = {}) => lineReaderSettings(new Map(Object.entries(properties)));

describe("console-producer lines, by Kafka's LineMessageReader rules", () => {
  it('takes the whole line as the value by default', () => {
    expect(parseLine('a\tb:c', 1, settings())).toEqual({ key: null, value: 'a\tb:c' });
    expect(parseLine('', 1, settings())).toEqual({ key: null, value: '' });
  });

  it('splits key and value at the first key separator', () => {
    expect(parseLine('u1:{"a":1}:x', 1, settings({ 'parse.key': 'true', 'key.separator': ':' }))).toEqual({ key: 'u1', value: '{"a":1}:x' });
    expect(parseLine('u1\t\t', 1, settings({ 'parse.key': 'TRUE' }))).toEqual({ key: 'u1', value: '\t' });
    expect(parseLine('u1::v', 1, settings({ 'parse.key': 'true', 'key.separator': '::' }))).toEqual({ key: 'u1', value: 'v' });
  });

  it('reads headers, then the key, then the value', () => {
    expect(parseLine('h1:v1,h2:v2\tk\tval', 1, settings({ 'parse.headers': 'true', 'parse.key': 'true' }))).toEqual({
      key: 'k',
      value: 'val',
      headers: [
        { key: 'h1', value: 'v1' },
        { key: 'h2', value: 'v2' },
      ],
    });
    // A header value may contain the header key separator after the first one.
    expect(parseLine('url:http://x\tv', 1, settings({ 'parse.headers': 'true' }))).toEqual({ key: null, value: 'v', headers: [{ key: 'url', value: 'http://x' }] });
    // Java's split drops trailing empty pieces.
    expect(parseLine('a:1,,\tv', 1, settings({ 'parse.headers': 'true' })).headers).toEqual([{ key: 'a', value: '1' }]);
  });

  it('turns the null marker into null keys, values and header values, and a null-marker header list into none', () => {
    const nulls = settings({ 'parse.headers': 'true', 'parse.key': 'true', 'null.marker': '<null>' });
    expect(parseLine('h:<null>\t<null>\t<null>', 1, nulls)).toEqual({ key: null, value: null, headers: [{ key: 'h', value: null }] });
    expect(parseLine('<null>\tk\tv', 1, nulls)).toEqual({ key: 'k', value: 'v' });
    expect(() => parseLine('<null>:x\tk\tv', 3, nulls)).toThrow(new CliError("Header keys should not be equal to the null marker '<null>' as they can't be null (line number 3)"));
  });

  it('fails on a missing separator naming the line, unless ignore.error', () => {
    expect(() => parseLine('no separator', 7, settings({ 'parse.key': 'true' }))).toThrow(new CliError("No key separator found on line number 7: 'no separator'"));
    expect(() => parseLine('v', 2, settings({ 'parse.headers': 'true' }))).toThrow(/No headers delimiter found on line number 2/);
    expect(() => parseLine('h\tv', 4, settings({ 'parse.headers': 'true' }))).toThrow(/No header key separator found in pair 'h' on line number 4/);
    const lenient = settings({ 'parse.headers': 'true', 'parse.key': 'true', 'ignore.error': 'true' });
    expect(parseLine('just a value', 1, lenient)).toEqual({ key: null, value: 'just a value' });
    expect(parseLine('h\tk\tv', 1, lenient)).toEqual({ key: 'k', value: 'v', headers: [{ key: 'h', value: null }] });
  });

  it('refuses separators it could not tell apart, as Kafka does', () => {
    expect(() => settings({ 'headers.delimiter': ',' })).toThrow(new UsageError('--property headers.delimiter and headers.separator must differ'));
    expect(() => settings({ 'headers.separator': ':' })).toThrow(new UsageError('--property headers.separator and headers.key.separator must differ'));
    expect(() => settings({ 'null.marker': '\t' })).toThrow(/null.marker and key.separator must differ/);
    expect(() => settings({ 'key.separator': '' })).toThrow(/must not be empty/);
    expect(() => settings({ 'parse.key': 'yes' })).toThrow(/must be true or false/);
  });

  it('reads back any headers, key and value joined with the separators', () => {
    // '~' is the null marker: no key or value equal to it, and no separator inside the parts it separates.
    const text = (exclude: string) => fc.string({ maxLength: 12 }).filter((s) => s !== '~' && ![...exclude].some((c) => s.includes(c)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(text(',:\t'), text(',\t')), { minLength: 1, maxLength: 4 }),
        fc.option(text('\t'), { nil: null }),
        fc.option(fc.string({ maxLength: 30 }).filter((s) => s !== '~'), { nil: null }),
        (headers, key, value) => {
          const line = `${headers.map(([k, v]) => `${k}:${v}`).join(',')}\t${key ?? '~'}\t${value ?? '~'}`;
          const parsed = parseLine(line, 1, settings({ 'parse.headers': 'true', 'parse.key': 'true', 'null.marker': '~' }));
          expect(parsed).toEqual({ key, value, headers: headers.map(([k, v]) => ({ key: k, value: v })) });
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
