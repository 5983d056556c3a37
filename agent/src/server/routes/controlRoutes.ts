// The control API (/api/v1): live state for the extension and other tools.
import { Router } from 'express';
import type { AppDeps } from '../appDeps.js';

export function controlRoutes(deps: AppDeps): Router {
  const r = Router();
  r.get('/api/v1/status', (_req, res) => {
    res.json(deps.status());
  });
  return r;
}
