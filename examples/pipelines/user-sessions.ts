/**
 * The pipeline of examples/user-sessions.ts, as `rt.run` takes it: a module whose default export
 * builds the pipeline. Each task runs it on its worker thread over its share of `clicks`.
 *
 * Sessions are per user, the record key, so every click of a user is in one partition and one
 * task: no repartitioning is needed. The session counts live in a store backed by the changelog
 * topic `user-sessions-sessions-changelog`, so a task restarted on another thread resumes them.
 */
import { count, session, sessionStore, sink, source, window } from '../../src/streams/index.js';

export default () =>
  source<Buffer, string>('clicks', { keySerde: 'string', to: 'end' }).pipe(
    window(session('30s'), { maxOutOfOrderness: '2s' }),
    count({ store: sessionStore('sessions') }),
    sink('sessions'),
  );
