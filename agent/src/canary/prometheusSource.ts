// Canary samples from Prometheus (PromQL over the agents' own series), for agents running as
// several replicas behind a load balancer: every replica's traffic counts, not just this one's.
//   requests, errors   increase(inferscope_inference_requests_total[canary window]) by outcome
//   latency            increase(inferscope_inference_request_duration_seconds_bucket[step window])
//   predictions        increase(inferscope_predictions_total[step window]) by class
//   confidence         increase(inferscope_prediction_confidence_bucket[step window])
//   breaker            max_over_time(inferscope_breaker_state[step window]) == 2 (open)
// Histogram buckets become samples at their upper bounds, so the rank tests see ties within a
// bucket: coarser than in-process samples, which the tie correction accounts for.
import { VersionSamples } from './canarySamples.js';
import type { Tally } from './canaryAnalysis.js';

/** Outcomes that are the model's failure (as the breaker counts them). */
const FAILURE_OUTCOMES = 'execution_failed|worker_crashed|timeout';

export interface CollectedSamples {
  baseline: VersionSamples;
  candidate: VersionSamples;
  baselineTotal: Tally;
  candidateTotal: Tally;
  breakerOpened: boolean;
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export type Fetch = (url: string, init?: { signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export async function collectFromPrometheus(opts: {
  url: string;
  model: string;
  baseline: string;
  candidate: string;
  /** Seconds since the current step began, and since the canary began. */
  stepSeconds: number;
  canarySeconds: number;
  fetchImpl?: Fetch;
  timeoutMs?: number;
}): Promise<CollectedSamples> {
  const f = opts.fetchImpl ?? (fetch as unknown as Fetch);
  const query = async (q: string): Promise<PromSample[]> => {
    const url = `${opts.url.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(q)}`;
    const res = await f(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
    if (!res.ok || body.status !== 'success') throw new Error(`Prometheus ${res.status}: ${body.error ?? 'query failed'} (${q})`);
    return body.data!.result;
  };
  const sel = `model="${opts.model}",version=~"${opts.baseline}|${opts.candidate}"`;
  const step = `${Math.max(1, Math.ceil(opts.stepSeconds))}s`;
  const whole = `${Math.max(1, Math.ceil(opts.canarySeconds))}s`;
  const [requests, failures, latency, classes, confidence, breaker] = await Promise.all([
    query(`sum by (version) (increase(inferscope_inference_requests_total{${sel},outcome=~"success|${FAILURE_OUTCOMES}"}[${whole}]))`),
    query(`sum by (version) (increase(inferscope_inference_requests_total{${sel},outcome=~"${FAILURE_OUTCOMES}"}[${whole}]))`),
    query(`sum by (version, le) (increase(inferscope_inference_request_duration_seconds_bucket{${sel}}[${step}]))`),
    query(`sum by (version, class) (increase(inferscope_predictions_total{${sel}}[${step}]))`),
    query(`sum by (version, le) (increase(inferscope_prediction_confidence_bucket{${sel}}[${step}]))`),
    query(`max(max_over_time(inferscope_breaker_state{model="${opts.model}",version="${opts.candidate}"}[${step}]))`),
  ]);
  const num = (s: PromSample) => Math.round(Number(s.value[1]));
  const of = (rows: PromSample[], version: string) => rows.filter((r) => r.metric.version === version);
  const tally = (version: string): Tally => ({
    requests: of(requests, version).reduce((n, r) => n + num(r), 0),
    errors: of(failures, version).reduce((n, r) => n + num(r), 0),
  });
  const classNames = [...new Set(classes.map((r) => r.metric.class!))].sort();
  const samples = (version: string, total: Tally): VersionSamples => {
    const s = new VersionSamples();
    s.requests = total.requests;
    s.errors = total.errors;
    s.latenciesMs.push(...bucketSamples(of(latency, version), 1000));
    s.confidences.push(...bucketSamples(of(confidence, version), 1));
    for (const r of of(classes, version)) s.classCounts[classNames.indexOf(r.metric.class!)] = num(r);
    for (let i = 0; i < classNames.length; i++) s.classCounts[i] ??= 0;
    return s;
  };
  const baselineTotal = tally(opts.baseline);
  const candidateTotal = tally(opts.candidate);
  return {
    baseline: samples(opts.baseline, baselineTotal),
    candidate: samples(opts.candidate, candidateTotal),
    baselineTotal,
    candidateTotal,
    breakerOpened: breaker.some((r) => Number(r.value[1]) >= 2),
  };
}

/** Cumulative histogram buckets → one sample per observation, at its bucket's upper bound. */
export function bucketSamples(rows: PromSample[], scale: number, cap = 20_000): number[] {
  const buckets = rows
    .map((r) => ({ le: r.metric.le === '+Inf' ? Infinity : Number(r.metric.le), count: Number(r.value[1]) }))
    .sort((a, b) => a.le - b.le);
  const out: number[] = [];
  let previous = 0;
  let lastFinite = 0;
  const total = buckets.at(-1)?.count ?? 0;
  const thin = total > cap ? cap / total : 1; // keep proportions, bound the work
  for (const b of buckets) {
    const n = Math.round((b.count - previous) * thin);
    previous = b.count;
    const value = Number.isFinite(b.le) ? b.le : lastFinite * 2;
    if (Number.isFinite(b.le)) lastFinite = b.le;
    for (let i = 0; i < n; i++) out.push(value * scale);
  }
  return out;
}
