/**
 * The pipeline bench/windowed-count.ts runs with `rt.run`: click events counted per user (the
 * record key) in one-minute tumbling windows by record timestamp, so no value is ever parsed,
 * every window written to `window-counts` when it closes. Each task reads the partitions of its
 * own thread to the end offsets it sees when it starts, merged in timestamp order, so the
 * watermark allows for the click stream's own disorder (2 s).
 */
import { count, sink, source, tumbling, window } from '../../src/streams/index.js';

export default () => source('clicks', { to: 'end' }).pipe(window(tumbling('1m'), { maxOutOfOrderness: '2s' }), count(), sink('window-counts'));
