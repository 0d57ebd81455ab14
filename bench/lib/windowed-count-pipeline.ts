/**
 * The pipeline bench/windowed-count.ts runs with `rt.run`: click events counted per user (the
 * record key) in one-minute tumbling windows by record timestamp, so no value is ever parsed,
 * every window written to `window-counts` when it closes. Each task reads the partitions of its
 * own thread to the end offsets it sees when it starts. The input is all in the log and a task
 * reads its partitions a batch at a time, so the watermark's bound is wide: the end closes every
 * window anyway.
 */
import { count, sink, source, tumbling, window } from '../../src/streams/index.js';

export default () => source('clicks', { to: 'end' }).pipe(window(tumbling('1m'), { maxOutOfOrderness: '1h' }), count(), sink('window-counts'));
