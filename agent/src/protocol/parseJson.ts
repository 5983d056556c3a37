// The one JSON parse of request bodies (the main thread's and the parser thread's).
import { InvalidInputError } from '../errors.js';
import { checkJsonDepth } from './jsonDepth.js';

/** Parses a JSON body (undefined when empty), with the depth check first. */
export function parseJson(buf: Buffer): unknown {
  if (buf.byteLength === 0) return undefined;
  checkJsonDepth(buf);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new InvalidInputError(`the body is not valid JSON: ${(err as Error).message}`);
  }
}
