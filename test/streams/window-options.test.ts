import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { groupByKey, session, table, tumbling, window } from '../../src/streams/index.js';

/** The INVALID_CONFIG a call throws. */
function rejection(call: () => unknown): TributaryError {
  try {
    call();
  } catch (error) {
    if (TributaryError.is(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('options of window(), groupByKey() and table()', () => {
  it('reject unknown options with a suggestion, and bad values naming the option and the value', () => {
    expect(rejection(() => window(tumbling('1m'), { grce: '1s' } as never)).message).toMatch(/Unknown window option 'grce' \(did you mean 'grace'\?\)/);
    expect(rejection(() => window(tumbling('1m'), { emit: 'fnal' as never })).message).toMatch(/window option emit.*got string "fnal" \(did you mean 'final'\?\)/);
    expect(rejection(() => window(tumbling('1m'), { grace: '1 minute' as never })).message).toMatch(/window option grace: expected a duration.*got string "1 minute"/);
    expect(rejection(() => window(tumbling('1m'), { idleTimeout: 0 })).message).toMatch(/window option idleTimeout.*at least 1 ms.*got number 0/);
    expect(rejection(() => window(tumbling('1m'), { key: 'page' as never })).message).toMatch(/window option key: expected a function/);
    expect(rejection(() => window('1m' as never)).message).toMatch(/window\(\) expects a window spec from tumbling\(\), hopping\(\), sliding\(\) or session\(\), got string "1m"/);
    expect(rejection(() => groupByKey({ keys: () => 1 } as never)).message).toMatch(/Unknown groupByKey option 'keys'/);
    expect(rejection(() => table(of(), { store: new Map() as never })).message).toMatch(/table option store: expected a key-value store/);
  });

  it('accept every documented option', () => {
    expect(() =>
      window(session('5m'), {
        key: (r: { user: string; at: number }) => r.user,
        timestamp: (r) => r.at,
        maxOutOfOrderness: '2s',
        idleTimeout: '30s',
        grace: 0,
        emit: 'update',
      }),
    ).not.toThrow();
  });
});
