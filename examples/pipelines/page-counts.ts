/**
 * The pipeline of examples/page-counts.ts, as `rt.run` takes it: clicks are keyed by user, so a
 * task's share of `clicks` holds some clicks of every page; `repartition` moves each click to the
 * task that owns its page, which keeps the page's running count (in a store backed by the
 * changelog `page-counts-views-changelog`) and writes every new count to `page-counts`.
 */
import { count, groupByKey, keyValueStore, repartition, sink, source } from '../../src/streams/index.js';
import type { ClickEvent } from '../../src/workload/click-events.js';

export default () =>
  source<ClickEvent, string>('clicks', { serde: 'json', keySerde: 'string', to: 'end' }).pipe(
    repartition({ key: (click) => click.value.page, name: 'by-page' }),
    groupByKey(),
    count({ store: keyValueStore('views') }),
    sink('page-counts'),
  );
