// JSON bodies of the express routes, read only by the routes that take one (after the route and
// its guards are decided).
import type { NextFunction, Request, Response } from 'express';
import { UnsupportedMediaTypeError } from '../errors.js';
import { parseJson } from '../protocol/parseJson.js';
import { declaresBody, readBody, type BodyLimits } from './bodyReader.js';

/**
 * Which Content-Types a route takes:
 *  - 'json': only application/json. A web page cannot send that cross-origin without a CORS
 *    preflight, which the agent never grants: a second CSRF defence of the control API (besides
 *    the Origin check every route has).
 *  - 'any': the body is JSON whatever its label, as in Triton: its Python client sends none, its
 *    asyncio client application/octet-stream, its C++ client (perf_analyzer) a form type.
 */
export type BodyPolicy = 'json' | 'any';

export function jsonBody(limits: BodyLimits, policy: BodyPolicy = 'json') {
  return (req: Request, res: Response, next: NextFunction): void => {
    const type = req.headers['content-type'];
    const json = req.is('application/json');
    if (policy === 'json' && !json && declaresBody(req)) {
      return next(new UnsupportedMediaTypeError(`send the body as JSON with "Content-Type: application/json" (got ${type ?? 'no Content-Type'})`));
    }
    readBody(req, res, limits).then(
      (buf) => {
        try {
          req.body = parseJson(buf);
        } catch (err) {
          return next(err);
        }
        next();
      },
      (err: unknown) => next(err),
    );
  };
}
