// Assembles the HTTP front door: the lean infer route on plain node:http, and the express app
// for everything else (routing, control API, metrics). Both apply the same guards, in the same
// order, before any body is read: Host, cross-origin, token, drain. Bodies are read only by the
// routes that take one.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { NotFoundError } from '../errors.js';
import type { AppDeps } from './appDeps.js';
import { BodyBudget, type BodyLimits } from './bodyReader.js';
import { INFER_PATH, inferRoute } from './inferRoute.js';
import { controlRoutes } from './routes/controlRoutes.js';
import { metricsRoutes } from './routes/metricsRoutes.js';
import { tritonRoutes } from './routes/tritonRoutes.js';
import { v2Routes } from './routes/v2Routes.js';
import { crossOriginCheck, hostCheck, tokenCheck, type RequestCheck } from './security.js';
import { sendError } from './sendError.js';

export function createFrontDoor(deps: AppDeps): RequestListener {
  const guards: RequestCheck[] = [
    hostCheck(deps.host, deps.allowedHosts),
    crossOriginCheck,
    tokenCheck(deps.token),
  ];
  const limits: BodyLimits = { limitBytes: deps.bodyLimitBytes, budget: new BodyBudget(deps.bodyBudgetBytes) };
  const infer = inferRoute(deps, guards, limits);
  const app = createApp(deps, guards, limits);
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const match = req.method === 'POST' ? INFER_PATH.exec(path) : null;
    if (match) infer(req, res, path, match);
    else app(req, res);
  };
}

function createApp(deps: AppDeps, guards: RequestCheck[], limits: BodyLimits): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    // Count by route pattern (bounded), never by raw path.
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      deps.metrics.onHttp(req.method, route, res.statusCode);
    });
    try {
      for (const check of guards) check(req, req.path);
      deps.drain.admit(req, res, req.path);
    } catch (err) {
      return next(err);
    }
    next();
  });

  // Triton's routes first: /v2/models/stats is not the metadata of a model named "stats".
  app.use(tritonRoutes(deps, limits));
  app.use(v2Routes(deps));
  app.use(controlRoutes(deps, limits));
  app.use(metricsRoutes(deps));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new NotFoundError(`no route ${req.method} ${req.path}; see the API section of the README`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(req, res, err, deps.logger));
  return app;
}
