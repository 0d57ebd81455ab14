// Worker entry for running from source (tests, tsx). Node 20 cannot start a worker on a `.ts`
// file, and ignores `--import tsx` in a worker's execArgv for its entry module, so this plain-JS
// bootstrap registers tsx's loader in the worker itself and then loads the TypeScript entry.
// From dist/, partitionWorkerEntry() points piscina at the compiled .js instead.
import { register } from 'tsx/esm/api';

register();
const entry = await import('./partition-worker.ts');

export default entry.default;
