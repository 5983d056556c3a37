// The control API (/api/v1): live state, events, breaker control and fault injection.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { BreakerAction } from '../../../../common/api.js';
import { describeZodIssues } from '../../config/zodIssues.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../../errors.js';
import { faultSchema } from '../../faults/faultInjector.js';
import { canarySpecSchema } from '../../canary/canarySpec.js';
import { rejudge } from '../../canary/canaryRejudge.js';
import { headOf } from '../../canary/canarySummaries.js';
import { inspectVersion } from '../../onnx/inspectVersion.js';
import type { AppDeps } from '../appDeps.js';
import type { BodyLimits } from '../bodyReader.js';
import { jsonBody } from '../jsonBody.js';

type VersionParams = { model: string; version: string };

const breakerActionSchema = z.object({ action: z.enum(['reset', 'open'], 'expected "reset" or "open"') }).strict();

const count = z.coerce.number().int('expected an integer').min(0, 'expected 0 or more');
const requestQuerySchema = z
  .object({
    model: z.string().optional(),
    version: z.string().optional(),
    outcome: z.string().optional(),
    min_ms: z.coerce.number().min(0, 'expected milliseconds').optional(),
    since: count.optional().describe('epoch ms'),
    until: count.optional().describe('epoch ms, exclusive'),
    sort: z.enum(['time', 'duration'], 'expected "time" (newest first) or "duration" (slowest first)').optional(),
    limit: count.max(10_000, 'expected at most 10000').optional(),
  })
  .strict();

function validQuery<T>(query: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new InvalidInputError(`invalid query: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

/** The body (read by the route's jsonBody middleware) checked against its schema. */
function validBody<T>(req: Request, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(req.body);
  if (!parsed.success) throw new InvalidInputError(`invalid body: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

export function controlRoutes(deps: AppDeps, limits: BodyLimits): Router {
  const r = Router();
  // State-changing routes take JSON only (see BodyPolicy).
  const body = jsonBody(limits, 'json');

  r.get('/api/v1/status', (_req, res) => {
    res.json(deps.status());
  });

  // A HEAD would hold a stream slot without ever reading one.
  r.head('/api/v1/events', (_req, res) => {
    res.status(405).set('Allow', 'GET').end();
  });
  r.get('/api/v1/events', (_req, res) => {
    deps.drain.detach(res); // a stream is not a request to wait for when draining
    deps.events.add(res);
  });

  r.post<'/api/v1/models/:model/versions/:version/breaker', VersionParams>('/api/v1/models/:model/versions/:version/breaker', body, (req, res) => {
    const { action } = validBody(req, breakerActionSchema) as { action: BreakerAction };
    const servable = deps.models.resolve(req.params.model, req.params.version);
    if (action === 'reset') servable.breaker.reset();
    else servable.breaker.forceOpen();
    res.json(servable.breaker.snapshot());
  });

  // Recorded requests and batches (see tracing/requestRecorder.ts): newest first, filtered.
  r.get('/api/v1/requests', (req, res) => {
    const q = validQuery(req.query, requestQuerySchema);
    res.json({
      requests: deps.requests.recorder.query({
        ...(q.model !== undefined ? { model: q.model } : {}),
        ...(q.version !== undefined ? { version: q.version } : {}),
        ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
        ...(q.min_ms !== undefined ? { minMs: q.min_ms } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.until !== undefined ? { until: q.until } : {}),
        ...(q.sort === 'duration' ? { slowestFirst: true } : {}),
        limit: q.limit ?? 100,
      }),
      held: deps.requests.recorder.stats(),
    });
  });
  r.get<'/api/v1/requests/:id', { id: string }>('/api/v1/requests/:id', (req, res) => {
    const request = deps.requests.recorder.request(req.params.id);
    if (!request) throw new NotFoundError(`no recorded request "${req.params.id}" (the last ${deps.requests.recorder.limits.requests} requests, failures and each minute's slowest are kept)`);
    res.json(request);
  });
  r.get<'/api/v1/batches/:id', { id: string }>('/api/v1/batches/:id', (req, res) => {
    const recorder = deps.requests.recorder;
    const batch = recorder.batch(req.params.id);
    if (!batch) throw new NotFoundError(`no recorded batch "${req.params.id}" (the last ${recorder.limits.batches} batches are kept)`);
    res.json({ ...batch, requests: recorder.requestsOf(batch) });
  });

  // The model inspector: what the version's model.onnx holds, beside how it is served.
  r.get<'/api/v1/models/:model/versions/:version/inspect', VersionParams>('/api/v1/models/:model/versions/:version/inspect', async (req, res) => {
    res.json(await inspectVersion(deps.models, req.params.model, req.params.version));
  });

  r.post('/api/v1/canaries', body, (req, res) => {
    const spec = validBody(req, canarySpecSchema);
    res.status(201).json(deps.canaries.start(spec));
  });
  // Without checks (the state folder keeps at most 100 canaries): GET …/{id} has them.
  r.get('/api/v1/canaries', (_req, res) => {
    res.json(deps.canaries.list().map(headOf));
  });
  r.get<'/api/v1/canaries/:id', { id: string }>('/api/v1/canaries/:id', (req, res) => {
    res.json(deps.canaries.get(req.params.id));
  });
  // The recorded evidence judged again at another alpha (?alpha=, default the canary's own).
  r.get<'/api/v1/canaries/:id/rejudge', { id: string }>('/api/v1/canaries/:id/rejudge', (req, res) => {
    const unknown = Object.keys(req.query).filter((k) => k !== 'alpha');
    if (unknown.length) throw new InvalidInputError(`unknown query parameter ${unknown.join(', ')}; the only one is ?alpha=`);
    const c = deps.canaries.get(req.params.id);
    const raw = req.query.alpha;
    if (raw !== undefined && (typeof raw !== 'string' || !/^(0?\.\d+|0|1)$/.test(raw))) throw new InvalidInputError('expected ?alpha= once, a number in (0, 0.5]');
    res.json(rejudge(c, raw === undefined ? c.thresholds.alpha : Number(raw)));
  });
  r.delete<'/api/v1/canaries/:id', { id: string }>('/api/v1/canaries/:id', (req, res) => {
    res.json(deps.canaries.abort(req.params.id));
  });

  // Invalidate the feature cache: all of it, or one model's (?model=).
  r.delete('/api/v1/cache', (req, res) => {
    // ?model=a&model=b (an array) or ?model[]=a must not widen to "every model".
    const unknown = Object.keys(req.query).filter((k) => k !== 'model');
    if (unknown.length) throw new InvalidInputError(`unknown query parameter ${unknown.join(', ')}; the only one is ?model=`);
    if (req.query.model !== undefined && typeof req.query.model !== 'string') throw new InvalidInputError('give ?model= once, with one model name');
    const wanted = req.query.model as string | undefined;
    const caches = deps.models.featureCaches();
    if (wanted !== undefined && !caches.has(wanted)) throw new NotFoundError(`model "${wanted}" has no feature cache`);
    let cleared = 0;
    for (const [name, cache] of caches) if (wanted === undefined || name === wanted) cleared += cache.clear();
    deps.logger.info('feature cache cleared', { model: wanted ?? 'all', entries: cleared });
    res.json({ cleared });
  });

  const faultPath = '/api/v1/faults/:model/:version';
  const requireFaults = () => {
    if (!deps.faultsEnabled) throw new ForbiddenError('fault injection is disabled; start the agent with --enable-faults');
  };
  r.put<typeof faultPath, VersionParams>(faultPath, (_req, _res, next) => (requireFaults(), next()), body, (req, res) => {
    const fault = validBody(req, faultSchema);
    const { model, version } = deps.models.resolve(req.params.model, req.params.version);
    deps.faults.set(model, version, fault);
    deps.logger.warn('fault injected', { model: `${model}/${version}`, error_rate: fault.error_rate, latency_ms: fault.latency_ms });
    res.json({ model, version, ...fault });
  });
  r.delete<typeof faultPath, VersionParams>(faultPath, (req, res) => {
    requireFaults();
    const { model, version } = deps.models.resolve(req.params.model, req.params.version);
    if (!deps.faults.clear(model, version)) throw new NotFoundError(`no fault is set on ${model}/${version}`);
    deps.logger.info('fault removed', { model: `${model}/${version}` });
    res.status(204).end();
  });

  return r;
}
