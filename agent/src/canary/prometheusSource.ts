// Canary samples from Prometheus (PromQL over the agents' own series), for agents running as
// several replicas behind a load balancer: every replica's traffic counts, not just this one's.
//   requests, errors   increase(inferscope_inference_requests_total[canary window]) by outcome
//   latency            increase(inferscope_inference_request_duration_seconds_bucket[step window])
//   predictions        increase(inferscope_predictions_total[step window]) by class
//   confidence         increase(inferscope_prediction_confidence_bucket[step window])
//   breaker            max_over_time(inferscope_breaker_state[step window]) == 2 (open)
// Histogram buckets become samples at their upper bounds, so the rank tests see ties within a
// bucket: coarser than in-process samples, which the tie correction accounts for.
//
// The server is trusted only as far as the config names it: a check reads at most 8 MiB of replies
// and must be answered within 5 s (headers and bodies), replies are checked for shape, and errors
// say what happened in fixed words. Upstream text never reaches a canary's reasons (the API, the
// event stream, the state file); it is logged at debug level, cut short.
import { VersionSamples } from './canarySamples.js';
import type { Tally } from './canaryAnalysis.js';
import type { PrometheusTarget } from './prometheusUrls.js';

/** Outcomes that are the model's failure (as the breaker counts them). */
const FAILURE_OUTCOMES = 'execution_failed|worker_crashed|timeout';

export const PROMETHEUS_TIMEOUT_MS = 5000;
/** Bytes of replies one check may read, all queries together; real replies are a few kB. */
export const PROMETHEUS_MAX_REPLY_BYTES = 8 * 1024 * 1024;
/** Series per query; the agent's own series give at most a few hundred (classes are capped at 64). */
const MAX_SERIES = 5000;

export interface CollectedSamples {
  baseline: VersionSamples;
  candidate: VersionSamples;
  baselineTotal: Tally;
  candidateTotal: Tally;
  breakerOpened: boolean;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A check could not read Prometheus. The message is fixed text about the server, never its reply. */
export class PrometheusSourceError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'status' | 'timeout' | 'too_large' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'PrometheusSourceError';
  }
}

export async function collectFromPrometheus(opts: {
  target: PrometheusTarget;
  model: string;
  baseline: string;
  candidate: string;
  /** Seconds since the current step began, and since the canary began. */
  stepSeconds: number;
  canarySeconds: number;
  /** The evaluation instant (epoch ms) for every query: replicas that ask for the same one get the same answers. Default: now. */
  time?: number;
  timeoutMs?: number;
  maxReplyBytes?: number;
  /** Hears what the server said when a query failed (for the agent's debug log). */
  onUpstreamDetail?: (detail: string) => void;
}): Promise<CollectedSamples> {
  const timeoutMs = opts.timeoutMs ?? PROMETHEUS_TIMEOUT_MS;
  const maxBytes = opts.maxReplyBytes ?? PROMETHEUS_MAX_REPLY_BYTES;
  const at = `Prometheus at ${opts.target.url}`;
  const fail = {
    timeout: () => new PrometheusSourceError('timeout', `${at} did not answer within ${timeoutMs / 1000} s`),
    tooLarge: () => new PrometheusSourceError('too_large', `${at}: reply exceeded ${formatBytes(maxBytes)}`),
    malformed: () => new PrometheusSourceError('malformed', `${at}: reply was not a Prometheus query result`),
  };
  // One deadline and one byte budget for the whole check: the first failure stops every query.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(fail.timeout()), timeoutMs);
  const budget = { left: maxBytes };
  const query = async (q: string): Promise<PromSample[]> => {
    const url = `${opts.target.url}/api/v1/query?query=${encodeURIComponent(q)}${opts.time !== undefined ? `&time=${(opts.time / 1000).toFixed(3)}` : ''}`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, {
        signal: abort.signal,
        // A redirect could lead anywhere: the allowlist names the server, so it must answer itself.
        redirect: 'manual',
        headers: { Accept: 'application/json', ...(opts.target.authorization ? { Authorization: opts.target.authorization } : {}) },
      });
      status = res.status;
      text = await readCapped(res, budget, () => abort.abort(fail.tooLarge()));
    } catch (err) {
      if (abort.signal.aborted) throw abort.signal.reason;
      throw new PrometheusSourceError('unreachable', `${at} could not be reached${errnoOf(err)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status !== 200) {
      const detail = isObject(body) && typeof body.error === 'string' ? body.error : text;
      opts.onUpstreamDetail?.(clip(`HTTP ${status}: ${detail}`));
      const redirect = status >= 300 && status < 400 ? ' (a redirect; not followed)' : '';
      throw new PrometheusSourceError('status', `${at} answered HTTP ${status}${redirect}`);
    }
    const rows = queryResult(body);
    if (!rows) {
      opts.onUpstreamDetail?.(clip(text));
      throw fail.malformed();
    }
    return rows;
  };
  const sel = `model="${opts.model}",version=~"${opts.baseline}|${opts.candidate}"`;
  const step = `${Math.max(1, Math.ceil(opts.stepSeconds))}s`;
  const whole = `${Math.max(1, Math.ceil(opts.canarySeconds))}s`;
  let replies: PromSample[][];
  try {
    replies = await Promise.all([
      query(`sum by (version) (increase(inferscope_inference_requests_total{${sel},outcome=~"success|${FAILURE_OUTCOMES}"}[${whole}]))`),
      query(`sum by (version) (increase(inferscope_inference_requests_total{${sel},outcome=~"${FAILURE_OUTCOMES}"}[${whole}]))`),
      query(`sum by (version, le) (increase(inferscope_inference_request_duration_seconds_bucket{${sel}}[${step}]))`),
      query(`sum by (version, class) (increase(inferscope_predictions_total{${sel}}[${step}]))`),
      query(`sum by (version, le) (increase(inferscope_prediction_confidence_bucket{${sel}}[${step}]))`),
      query(`max(max_over_time(inferscope_breaker_state{model="${opts.model}",version="${opts.candidate}"}[${step}]))`),
    ]);
  } catch (err) {
    abort.abort(err); // the check has failed: stop reading the other replies
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const [requests, failures, latency, classes, confidence, breaker] = replies as [PromSample[], PromSample[], PromSample[], PromSample[], PromSample[], PromSample[]];
  const num = (s: PromSample) => Math.max(0, Math.round(Number(s.value[1])));
  const of = (rows: PromSample[], version: string) => rows.filter((r) => r.metric.version === version);
  const tally = (version: string): Tally => ({
    requests: of(requests, version).reduce((n, r) => n + num(r), 0),
    errors: of(failures, version).reduce((n, r) => n + num(r), 0),
  });
  const classNames = [...new Set(classes.map((r) => r.metric.class).filter((c) => c !== undefined))].sort();
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  const samples = (version: string, total: Tally): VersionSamples => {
    const s = new VersionSamples();
    s.requests = total.requests;
    s.errors = total.errors;
    s.latenciesMs.push(...bucketSamples(of(latency, version), 1000));
    s.confidences.push(...bucketSamples(of(confidence, version), 1));
    for (const r of of(classes, version)) if (r.metric.class !== undefined) s.classCounts[classIndex.get(r.metric.class)!] = num(r);
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
    .filter((b) => !Number.isNaN(b.le) && Number.isFinite(b.count))
    .sort((a, b) => a.le - b.le);
  const out: number[] = [];
  let previous = 0;
  let lastFinite = 0;
  // Cumulative counts never fall; a reply where they do must not make more samples than its largest count.
  const total = buckets.reduce((m, b) => Math.max(m, b.count), 0);
  const thin = total > cap ? cap / total : 1; // keep proportions, bound the work
  const limit = cap + buckets.length; // rounding aside, never more than the cap
  for (const b of buckets) {
    const count = Math.max(previous, b.count);
    const n = Math.min(Math.round((count - previous) * thin), limit - out.length);
    previous = count;
    const value = Number.isFinite(b.le) ? b.le : lastFinite * 2;
    if (Number.isFinite(b.le)) lastFinite = b.le;
    for (let i = 0; i < n; i++) out.push(value * scale);
  }
  return out;
}

/** Reads a reply's body within the check's byte budget (Content-Length is only a first hint). */
async function readCapped(res: Response, budget: { left: number }, overBudget: () => void): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > budget.left) {
    overBudget();
    throw new Error('reply over budget');
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    budget.left -= value.byteLength;
    if (budget.left < 0) {
      overBudget();
      void reader.cancel().catch(() => {});
      throw new Error('reply over budget');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `result` of a successful instant query, checked row by row; undefined for anything else. */
function queryResult(body: unknown): PromSample[] | undefined {
  if (!isObject(body) || body.status !== 'success' || !isObject(body.data) || body.data.resultType !== 'vector') return undefined;
  const rows = body.data.result;
  if (!Array.isArray(rows) || rows.length > MAX_SERIES) return undefined;
  const valid = rows.every(
    (r) =>
      isObject(r) &&
      isObject(r.metric) &&
      Object.values(r.metric).every((v) => typeof v === 'string') &&
      Array.isArray(r.value) &&
      r.value.length === 2 &&
      typeof r.value[1] === 'string' &&
      Number.isFinite(Number(r.value[1])),
  );
  return valid ? (rows as PromSample[]) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** " (ECONNREFUSED)": the system's or undici's error code, a fixed word; nothing the server sent. */
function errnoOf(err: unknown): string {
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,39}$/.test(code) ? ` (${code})` : '';
}

/** Upstream text for a log line: printable, and short enough that a hostile reply cannot flood the log. */
function clip(text: string, max = 300): string {
  const head = text.slice(0, max).replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
  return text.length > max ? `${head}… (${text.length} characters)` : head;
}

function formatBytes(n: number): string {
  const MiB = 1024 * 1024;
  if (n % MiB === 0) return `${n / MiB} MiB`;
  return n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}
