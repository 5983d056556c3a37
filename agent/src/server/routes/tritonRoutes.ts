// Triton's protocol extensions that clients and tools call besides inference: statistics, model
// configuration, the model repository (index, load, unload) and logging. Registered before the
// core v2 routes, so that /v2/models/stats is never read as the metadata of a model "stats".
import { Router, type Request } from 'express';
import { z } from 'zod';
import { describeZodIssues } from '../../config/zodIssues.js';
import { ConflictError, InvalidInputError } from '../../errors.js';
import { applyLogSettings, logSettingsOf } from '../../log/logSettings.js';
import { tritonModelConfig } from '../../protocol/tritonModelConfig.js';
import type { AppDeps } from '../appDeps.js';
import type { BodyLimits } from '../bodyReader.js';
import { jsonBody } from '../jsonBody.js';

type ModelParams = { model: string; version?: string };

// Triton requires every load/unload parameter to be a JSON scalar; `config` is a JSON text.
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
  const runningCanary = (model: string) => deps.canaries.list().find((c) => c.state === 'running' && c.model === model);

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
    const entries = models.index();
    res.json(onlyReady ? entries.filter((e) => e.state === 'READY') : entries);
  });

  r.post<'/v2/repository/models/:model/load', ModelParams>('/v2/repository/models/:model/load', body, async (req, res) => {
    const { model } = req.params;
    const params = loadParameters(req);
    const files = Object.keys(params).filter((k) => k.startsWith('file:'));
    if (files.length) throw new InvalidInputError(`model files in the request (${files.join(', ')}) are not supported; put them in the repository folder and load again`);
    const unknown = Object.keys(params).filter((k) => k !== 'config');
    if (unknown.length) throw new InvalidInputError(`unknown load parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; Inferscope takes 'config'`);
    if (params.config !== undefined && typeof params.config !== 'string') throw new InvalidInputError(`parameter 'config' must be the config.json text, as a string`);
    const canary = runningCanary(model);
    await models.load(model, {
      ...(params.config !== undefined ? { configText: params.config as string } : {}),
      ...(canary ? { keepVersions: [canary.baseline, canary.candidate] } : {}),
    });
    res.status(200).end();
  });

  r.post<'/v2/repository/models/:model/unload', ModelParams>('/v2/repository/models/:model/unload', body, async (req, res) => {
    const { model } = req.params;
    loadParameters(req); // unload_dependents: a model has no dependents here
    const canary = runningCanary(model);
    if (canary) throw new ConflictError(`canary ${canary.id} is running on ${model}; abort it (DELETE /api/v1/canaries/${canary.id}) before unloading`);
    await models.unload(model);
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

  return r;
}
