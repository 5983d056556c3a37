// Triton's protocol extensions that clients and tools call besides inference: statistics, model
// configuration, the model repository (index, load, unload), logging and trace settings. Registered before the
// core v2 routes, so that /v2/models/stats is never read as the metadata of a model "stats".
import { Router, type Request } from 'express';
import { z } from 'zod';
import { describeZodIssues } from '../../config/zodIssues.js';
import { InvalidInputError } from '../../errors.js';
import { applyLogSettings, logSettingsOf } from '../../log/logSettings.js';
import { ModelControl } from '../../models/modelControl.js';
import { tritonModelConfig } from '../../protocol/tritonModelConfig.js';
import type { AppDeps } from '../appDeps.js';
import type { BodyLimits } from '../bodyReader.js';
import { jsonBody } from '../jsonBody.js';

type ModelParams = { model: string; version?: string };

// Triton requires every load/unload parameter to be a JSON scalar; which ones are taken is
// ModelControl's call.
const loadSchema = z
  .object({ parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional() })
  .strict()
  .optional();

function loadParameters(req: Request): Record<string, string | number | boolean> {
  const parsed = loadSchema.safeParse(req.body);
  if (!parsed.success) throw new InvalidInputError(`invalid body: ${describeZodIssues(parsed.error)}`);
  return parsed.data?.parameters ?? {};
}

export function tritonRoutes(deps: AppDeps, limits: BodyLimits): Router {
  const r = Router();
  const { models } = deps;
  const body = jsonBody(limits, 'any');
  // Load and unload rules (parameters, canaries) shared with the gRPC door.
  const control = new ModelControl(models, deps.canaries);

  // ---- statistics ----
  r.get('/v2/models/stats', (_req, res) => {
    res.json({ model_stats: deps.statistics.snapshot() });
  });
  r.get<'/v2/models/:model{/versions/:version}/stats', ModelParams>('/v2/models/:model{/versions/:version}/stats', (req, res) => {
    const { model, version } = req.params;
    models.isReady(model, version); // 404 for unknown models and versions; statistics need no ready version
    res.json({ model_stats: deps.statistics.snapshot(model, version) });
  });

  // ---- model configuration ----
  r.get<'/v2/models/:model{/versions/:version}/config', ModelParams>('/v2/models/:model{/versions/:version}/config', (req, res) => {
    res.json(tritonModelConfig(models.resolve(req.params.model, req.params.version)));
  });

  // ---- model repository ----
  // Every model version with its state. {"ready": true} filters.
  r.post('/v2/repository/index', body, (req, res) => {
    const onlyReady = typeof req.body === 'object' && req.body !== null && (req.body as { ready?: unknown }).ready === true;
    res.json(control.index(onlyReady));
  });

  r.post<'/v2/repository/models/:model/load', ModelParams>('/v2/repository/models/:model/load', body, async (req, res) => {
    await control.load(req.params.model, loadParameters(req));
    res.status(200).end();
  });

  r.post<'/v2/repository/models/:model/unload', ModelParams>('/v2/repository/models/:model/unload', body, async (req, res) => {
    loadParameters(req); // validated, then unused: unload_dependents means nothing here (no dependents)
    await control.unload(req.params.model);
    res.status(200).end();
  });

  // ---- logging ----
  r.get('/v2/logging', (_req, res) => {
    res.json(logSettingsOf(deps.logger.level));
  });
  r.post('/v2/logging', body, (req, res) => {
    const before = deps.logger.level;
    deps.logger.level = applyLogSettings(before, req.body);
    if (deps.logger.level !== before) deps.logger.warn('log level changed', { from: before, to: deps.logger.level });
    res.json(logSettingsOf(deps.logger.level));
  });

  // ---- trace (the OpenTelemetry export's sampling; see tracing/traceSettings.ts) ----
  r.get('/v2/trace/setting', (_req, res) => {
    res.json(deps.traceSettings.view());
  });
  r.post('/v2/trace/setting', body, (req, res) => {
    res.json(deps.traceSettings.update(req.body));
  });
  r.get<'/v2/models/:model/trace/setting', ModelParams>('/v2/models/:model/trace/setting', (req, res) => {
    models.isReady(req.params.model); // 404 for unknown models
    res.json(deps.traceSettings.view(req.params.model));
  });
  r.post<'/v2/models/:model/trace/setting', ModelParams>('/v2/models/:model/trace/setting', body, (req, res) => {
    models.isReady(req.params.model);
    res.json(deps.traceSettings.update(req.body, req.params.model));
  });

  return r;
}
