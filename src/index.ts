/**
 * `tributary`: the embedded runtime's public entry point.
 */
export { TributaryError, type ErrorCode, type SerializedTributaryError } from './errors.js';
