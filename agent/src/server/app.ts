// Assembles the express app: guards, body parsing, routes, and the single error handler.
import express, { type NextFunction, type Request, type Response } from 'express';
import { NotFoundError } from '../errors.js';
import type { AppDeps } from './appDeps.js';
import { toHttpError } from './httpErrors.js';
import { controlRoutes } from './routes/controlRoutes.js';
import { metricsRoutes } from './routes/metricsRoutes.js';
import { v2Routes } from './routes/v2Routes.js';
import { bearerAuth, hostGuard } from './security.js';
import { checkJsonDepth } from './jsonDepth.js';
import { shedWhenQueueFull } from './loadShedding.js';

export function createApp(deps: AppDeps): express.Express {
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
    next();
  });
  app.use(hostGuard(deps.host, deps.allowedHosts));
  app.use(bearerAuth(deps.token));
  app.use(deps.drain.middleware());
  app.use(shedWhenQueueFull(deps.models));
  app.use(express.json({ limit: deps.bodyLimitBytes, strict: false, type: 'application/json', verify: (_req, _res, buf) => checkJsonDepth(buf) }));

  app.use(v2Routes(deps));
  app.use(controlRoutes(deps));
  app.use(metricsRoutes(deps));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new NotFoundError(`no route ${req.method} ${req.path}; see the API section of the README`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toHttpError(err);
    if (e.internal) deps.logger.error('request failed', { method: req.method, path: req.path, error: (err as Error)?.stack ?? String(err) });
    else deps.logger.debug('request rejected', { method: req.method, path: req.path, status: e.status, error: e.message });
    if (res.headersSent) return void res.end();
    res.status(e.status).set(e.headers).json({ error: e.message });
  });
  return app;
}
