// Open Inference Protocol v2 (KServe / Triton REST) routes.
import { Router, type Request } from 'express';
import type { ServerMetadata } from '../../../../common/api.js';
import { UnsupportedMediaTypeError } from '../../errors.js';
import type { AppDeps } from '../appDeps.js';

type ModelParams = { model: string; version?: string };

function requireJsonBody(req: Request): void {
  if (!req.is('application/json')) {
    throw new UnsupportedMediaTypeError(
      `send the request body as JSON with "Content-Type: application/json" (got ${req.headers['content-type'] ?? 'no Content-Type'})`,
    );
  }
}

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
      extensions: ['classification', 'model_repository'],
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

  r.post<'/v2/models/:model{/versions/:version}/infer', ModelParams>('/v2/models/:model{/versions/:version}/infer', async (req, res) => {
    requireJsonBody(req);
    // A client that disconnects has its queued request removed before it runs.
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    res.json(await deps.inference.infer(req.params.model, req.params.version, req.body, abort.signal));
  });

  // Triton's repository extension: every model version with its state. {"ready": true} filters.
  r.post('/v2/repository/index', (req, res) => {
    const onlyReady = typeof req.body === 'object' && req.body !== null && (req.body as { ready?: unknown }).ready === true;
    const entries = models.index();
    res.json(onlyReady ? entries.filter((e) => e.state === 'READY') : entries);
  });

  return r;
}
