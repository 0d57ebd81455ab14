import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors.js';
import {
  assignorByName,
  BUILTIN_ASSIGNORS,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type Assignor,
} from '../../../src/group/assignors/index.js';

describe('assignor lookup', () => {
  it('finds the built-ins by their Kafka protocol names', () => {
    expect(assignorByName('range')).toBe(rangeAssignor);
    expect(assignorByName('roundrobin')).toBe(roundRobinAssignor);
    expect(assignorByName('cooperative-sticky')).toBe(cooperativeStickyAssignor);
    expect([...BUILTIN_ASSIGNORS.keys()]).toEqual(['range', 'roundrobin', 'cooperative-sticky']);
  });

  it('prefers a custom assignor of the same or a new name', () => {
    const custom: Assignor = { name: 'everything-to-first', protocol: 'eager', assign: (input) => new Map(input.members.map((m) => [m.memberId, []])) };
    expect(assignorByName('everything-to-first', [custom])).toBe(custom);
    const override: Assignor = { ...custom, name: 'range' };
    expect(assignorByName('range', [override])).toBe(override);
  });

  it('throws INVALID_CONFIG naming an unknown assignor', () => {
    let error: unknown;
    try {
      assignorByName('sticky');
    } catch (e) {
      error = e;
    }
    expect(TributaryError.is(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as TributaryError).message).toContain('"sticky"');
    expect((error as TributaryError).details).toMatchObject({ assignor: 'sticky' });
  });

  it('rejects duplicate member ids and bad partition counts with INVALID_REQUEST', () => {
    for (const assignor of BUILTIN_ASSIGNORS.values()) {
      expect(() => assignor.assign({ members: [{ memberId: 'a', topics: [] }, { memberId: 'a', topics: [] }], partitionsPerTopic: {} })).toThrow(
        expect.objectContaining({ code: 'INVALID_REQUEST' }),
      );
      expect(() => assignor.assign({ members: [], partitionsPerTopic: { t: -1 } })).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
      expect(assignor.assign({ members: [], partitionsPerTopic: { t: 3 } })).toEqual(new Map());
    }
  });
});
