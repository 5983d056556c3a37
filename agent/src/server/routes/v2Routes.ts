// Open Inference Protocol v2 (KServe / Triton REST) core routes: health, server and model
// metadata, readiness. Inference itself is served by the lean path in inferRoute.ts.
import { Router } from 'express';
import type { ServerMetadata } from '../../../../common/api.js';
import type { AppDeps } from '../appDeps.js';

type ModelParams = { model: string; version?: string };

/** What GET /v2 lists: the Triton extensions the agent implements. */
export const EXTENSIONS = ['binary_tensor_data', 'classification', 'model_repository', 'schedule_policy', 'statistics', 'model_configuration', 'logging', 'trace'];

export function v2Routes(deps: AppDeps): Router {
  const r = Router();
  const { models } = deps;

  r.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });

  r.get('/v2/health/ready', (_req, res) => {
    const ready = models.ready && !deps.drain.isDraining;
    res.status(ready ? 200 : 503).json({ ready });
  });

  r.get('/v2', (_req, res) => {
    const body: ServerMetadata = {
      name: 'inferscope',
      version: deps.version,
      extensions: EXTENSIONS,
    };
    res.json(body);
  });

  r.get<'/v2/models/:model{/versions/:version}', ModelParams>('/v2/models/:model{/versions/:version}', (req, res) => {
    res.json(models.metadata(req.params.model, req.params.version));
  });

  r.get<'/v2/models/:model{/versions/:version}/ready', ModelParams>('/v2/models/:model{/versions/:version}/ready', (req, res) => {
    const ready = models.isReady(req.params.model, req.params.version);
    res.status(ready ? 200 : 503).json({ name: req.params.model, ready });
  });

  return r;
}
