// The one JSON parse of request bodies (the main thread's and the parser thread's).
import { InvalidInputError } from '../errors.js';
import { checkJsonDepth } from './jsonDepth.js';

/** Below this size nesting cannot make JSON.parse costly: the depth scan is skipped (hot path). */
const DEPTH_CHECK_BYTES = 64 * 1024;

/** Parses a JSON body (undefined when empty), with the depth check first for large bodies. */
export function parseJson(buf: Buffer): unknown {
  if (buf.byteLength === 0) return undefined;
  if (buf.byteLength > DEPTH_CHECK_BYTES) checkJsonDepth(buf);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new InvalidInputError(`the body is not valid JSON: ${(err as Error).message}`);
  }
}
