/** `rt.run` module: the repartitioned page count of bench/repartition.ts. */
import { repartitionedCount } from './repartition-pipelines.js';

export default repartitionedCount;
