/**
 * A pipeline module: a module whose default export builds the pipeline, a function returning an
 * Observable (or a promise of one) whose sources and sinks are made while it runs:
 *
 * ```ts
 * // page-views.ts
 * export default () => source('clicks').pipe(window(tumbling('1m')), count(), sink('page-views'));
 * ```
 *
 * `rt.run` builds it once on the main thread to learn its sources and stores, then once in every
 * task on a worker thread, so building should have no effect beyond making the pipeline.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isObservable, type Observable } from 'rxjs';
import { TributaryError } from '../errors.js';
import { describeValue } from '../runtime/options.js';
import { withBinding, type StreamBinding } from './context.js';

/** A module URL from what `rt.run` accepts: a URL, a `file:` URL string, or a file path (relative to the working directory). */
export function pipelineModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '') {
    throw new TributaryError('INVALID_CONFIG', `rt.run() needs a pipeline module: a file path or URL, got ${describeValue(module)}`, { field: 'module', value: describeValue(module) });
  }
  return /^[a-z][a-z0-9+.-]*:/i.test(module) && !path.isAbsolute(module) ? module : pathToFileURL(path.resolve(module)).href;
}

/** Imports the module and builds its pipeline with `binding` as the binding of its sources, sinks and stores. */
export async function buildPipeline(moduleUrl: string, binding: StreamBinding): Promise<Observable<unknown>> {
  let build: unknown;
  try {
    build = ((await import(moduleUrl)) as { default?: unknown }).default;
  } catch (cause) {
    throw new TributaryError('INVALID_CONFIG', `pipeline module ${moduleUrl} failed to load: ${(cause as Error)?.message ?? String(cause)}`, { moduleUrl }, { cause });
  }
  if (typeof build !== 'function') {
    throw new TributaryError('INVALID_CONFIG', `pipeline module ${moduleUrl} must export as default a function that builds the pipeline, got ${describeValue(build)}`, { moduleUrl });
  }
  const pipeline: unknown = await withBinding(binding, () => (build as () => unknown)());
  if (!isObservable(pipeline)) {
    throw new TributaryError('INVALID_CONFIG', `the default export of ${moduleUrl} must return the pipeline, an Observable (ending in sink()), got ${describeValue(pipeline)}`, { moduleUrl });
  }
  return pipeline;
}
