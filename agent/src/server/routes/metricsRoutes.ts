// Prometheus exposition; OpenMetrics when the scraper asks for it.
import { Router } from 'express';
import type { AppDeps } from '../appDeps.js';

export function metricsRoutes(deps: AppDeps): Router {
  const r = Router();
  r.get('/metrics', async (req, res) => {
    const wantsOpenMetrics = (req.headers.accept ?? '').includes('application/openmetrics-text');
    const { contentType, body } = await deps.metrics.expose(wantsOpenMetrics);
    res.type(contentType).send(body);
  });
  return r;
}
