/** `rt.run` module: the local (unrepartitioned) page count of bench/repartition.ts. */
import { localCount } from './repartition-pipelines.js';

export default localCount;
