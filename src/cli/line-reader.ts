/**
 * Lines of text as records, by the rules of Kafka's console producer (LineMessageReader), so the
 * same `--property` settings mean the same thing:
 *
 *   parse.key=true         the line starts with a key, ended by key.separator (default tab)
 *   parse.headers=true     the line starts with headers, ended by headers.delimiter (default tab),
 *                          pairs split by headers.separator (default ','), each key and value split
 *                          by headers.key.separator (default ':')
 *   null.marker=X          a key, value or header value equal to X is null
 *   ignore.error=true      a missing separator is not an error: the key is null, the header's value null
 *
 * With both, a line reads `h1:v1,h2:v2<TAB>key<TAB>value`. One difference from Kafka:
 * headers.separator is matched literally, where Kafka compiles it as a regular expression (the
 * defaults mean the same in both).
 */
import type { ProducerMessage } from '../client/producer.js';
import { CliError, UsageError } from './errors.js';
import { booleanProperty } from './key-values.js';

export const LINE_READER_PROPERTIES = [
  'parse.key',
  'key.separator',
  'parse.headers',
  'headers.delimiter',
  'headers.separator',
  'headers.key.separator',
  'null.marker',
  'ignore.error',
] as const;

export interface LineReaderSettings {
  readonly parseKey: boolean;
  readonly keySeparator: string;
  readonly parseHeaders: boolean;
  readonly headersDelimiter: string;
  readonly headersSeparator: string;
  readonly headersKeySeparator: string;
  readonly nullMarker: string | undefined;
  readonly ignoreError: boolean;
}

/** Reads the settings from `--property` values, refusing the combinations Kafka refuses (separators that cannot be told apart). */
export function lineReaderSettings(properties: ReadonlyMap<string, string>): LineReaderSettings {
  const settings: LineReaderSettings = {
    parseKey: booleanProperty(properties, 'parse.key', false),
    keySeparator: properties.get('key.separator') ?? '\t',
    parseHeaders: booleanProperty(properties, 'parse.headers', false),
    headersDelimiter: properties.get('headers.delimiter') ?? '\t',
    headersSeparator: properties.get('headers.separator') ?? ',',
    headersKeySeparator: properties.get('headers.key.separator') ?? ':',
    nullMarker: properties.get('null.marker'),
    ignoreError: booleanProperty(properties, 'ignore.error', false),
  };
  const separators: Array<[string, string]> = [
    ['key.separator', settings.keySeparator],
    ['headers.delimiter', settings.headersDelimiter],
    ['headers.separator', settings.headersSeparator],
    ['headers.key.separator', settings.headersKeySeparator],
  ];
  for (const [name, value] of separators) {
    if (value === '') throw new UsageError(`--property ${name} must not be empty`);
  }
  const mustDiffer: Array<[number, number]> = [
    [1, 2],
    [1, 3],
    [2, 3],
  ];
  for (const [a, b] of mustDiffer) {
    if (separators[a][1] === separators[b][1]) throw new UsageError(`--property ${separators[a][0]} and ${separators[b][0]} must differ`);
  }
  for (const [name, value] of separators) {
    if (value === settings.nullMarker) throw new UsageError(`--property null.marker and ${name} must differ`);
  }
  return settings;
}

/**
 * Turns one line (without its line ending) into a message. A separator the settings require but
 * the line lacks is an error naming the line, unless `ignoreError`.
 */
export function parseLine(line: string, lineNumber: number, settings: LineReaderSettings): ProducerMessage {
  let at = 0;
  let headers: Array<{ key: string; value: string | null }> | undefined;
  if (settings.parseHeaders) {
    const end = line.indexOf(settings.headersDelimiter);
    if (end >= 0) {
      const text = line.slice(0, end);
      at = end + settings.headersDelimiter.length;
      if (text !== settings.nullMarker) headers = splitHeaders(text, lineNumber, settings);
    } else if (!settings.ignoreError) {
      throw missing('headers delimiter', lineNumber, line);
    }
  }
  let key: string | null = null;
  if (settings.parseKey) {
    const end = line.indexOf(settings.keySeparator, at);
    if (end >= 0) {
      key = line.slice(at, end);
      at = end + settings.keySeparator.length;
      if (key === settings.nullMarker) key = null;
    } else if (!settings.ignoreError) {
      throw missing('key separator', lineNumber, line);
    }
  }
  const text = line.slice(at);
  const value = text === settings.nullMarker ? null : text;
  return headers === undefined ? { key, value } : { key, value, headers };
}

function splitHeaders(text: string, lineNumber: number, settings: LineReaderSettings): Array<{ key: string; value: string | null }> {
  const pairs = text.split(settings.headersSeparator);
  // As Java's String.split: trailing empty pieces are dropped.
  while (pairs.length > 1 && pairs[pairs.length - 1] === '') pairs.pop();
  return pairs.map((pair) => {
    const at = pair.indexOf(settings.headersKeySeparator);
    if (at < 0) {
      if (settings.ignoreError) return { key: pair, value: null };
      throw new CliError(`No header key separator found in pair '${pair}' on line number ${lineNumber}`);
    }
    const key = pair.slice(0, at);
    if (key === settings.nullMarker) throw new CliError(`Header keys should not be equal to the null marker '${settings.nullMarker}' as they can't be null (line number ${lineNumber})`);
    const value = pair.slice(at + settings.headersKeySeparator.length);
    return { key, value: value === settings.nullMarker ? null : value };
  });
}

function missing(what: string, lineNumber: number, line: string): CliError {
  const shown = line.length > 200 ? `${line.slice(0, 200)}...` : line;
  return new CliError(`No ${what} found on line number ${lineNumber}: '${shown}'`);
}
