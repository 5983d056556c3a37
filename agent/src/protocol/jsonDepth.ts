// JSON.parse of deeply nested input is slow and recursion-heavy ("[[[[…" × millions costs seconds
// of main thread for an 8 MiB body). A linear scan of the raw bytes rejects it before parsing.
import { InvalidInputError } from '../errors.js';

export const MAX_JSON_DEPTH = 32;

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function checkJsonDepth(buf: Uint8Array, maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) throw new InvalidInputError(`the body nests JSON deeper than ${maxDepth} levels`);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
}
