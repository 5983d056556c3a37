// A small typed client of Prometheus's HTTP API (instant queries and the scrape targets), for the
// fleet views: every call has a timeout, and every failure is a PrometheusError that says which
// kind it was (unreachable, credentials missing or refused, an HTTP status, a query Prometheus
// refused). No VS Code imports.
import { authFailureMessage, type CredentialSource } from './prometheusAuth.js';

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
  constructor(
    /** unreachable: no answer (refused, timeout, DNS); auth: 401/403; http: another status without an API body; query: Prometheus's own error. */
    readonly kind: 'unreachable' | 'auth' | 'http' | 'query',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One series of an instant vector: its labels and its value at the evaluation time. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An active scrape target, as /api/v1/targets lists it. */
export interface ScrapeTarget {
  job: string;
  /** The `instance` label (host:port). */
  instance: string;
  labels: Record<string, string>;
  /** What Prometheus scrapes, e.g. http://127.0.0.1:8001/metrics. */
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
  /** Seconds (absent from older Prometheus versions). */
  scrapeIntervalS?: number;
}

export interface PrometheusOptions {
  timeoutMs?: number;
  /** The Authorization header's value (Bearer or Basic: a Prometheus behind auth). */
  authorization?: string;
  /** Where it came from, for the message when it is refused. */
  credentialSource?: CredentialSource;
}

export class PrometheusClient {
  /** The base URL, without credentials (shown in messages and passed on). */
  readonly url: string;
  private readonly timeoutMs: number;
  /** Changed in place when the user sets new credentials: every query after it sends them. */
  authorization: string | undefined;
  credentialSource: CredentialSource | undefined;

  constructor(url: string, opts: PrometheusOptions = {}) {
    this.url = url.trim().replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.authorization = opts.authorization;
    this.credentialSource = opts.authorization ? (opts.credentialSource ?? 'stored') : undefined;
  }

  /** An instant query; `time` in epoch ms (default: now, as Prometheus sees it). Vector results only. */
  async query(promql: string, time?: number, signal?: AbortSignal): Promise<Sample[]> {
    const params = new URLSearchParams({ query: promql });
    if (time !== undefined) params.set('time', (time / 1000).toFixed(3));
    const data = await this.get<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?${params}`, signal);
    if (data.resultType !== 'vector') throw new PrometheusError('query', `${promql}: expected an instant vector, got ${data.resultType}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** The active scrape targets (dropped ones are left out). */
  async targets(signal?: AbortSignal): Promise<ScrapeTarget[]> {
    const data = await this.get<{ activeTargets: RawTarget[] }>('/api/v1/targets?state=active', signal);
    return data.activeTargets.map((t) => ({
      job: t.labels.job ?? t.scrapePool ?? '',
      instance: t.labels.instance ?? '',
      labels: t.labels,
      scrapeUrl: t.scrapeUrl,
      health: t.health === 'up' || t.health === 'down' ? t.health : 'unknown',
      lastError: t.lastError ?? '',
      lastScrape: t.lastScrape ?? '',
      ...(t.scrapeInterval ? { scrapeIntervalS: durationSeconds(t.scrapeInterval) } : {}),
    }));
  }

  private async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    const authorization = this.authorization;
    try {
      res = await fetch(`${this.url}${path}`, {
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
        // Credentials go to this URL only, not to wherever a redirect points.
        ...(authorization ? { redirect: 'manual' as const } : {}),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
      const why = e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : e.name === 'AbortError' ? 'cancelled' : (e.cause?.code ?? e.cause?.message ?? e.message ?? 'cannot connect');
      throw new PrometheusError('unreachable', `Prometheus at ${this.url}: ${why}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new PrometheusError('auth', authFailureMessage(this.url, res.status, authorization ? this.credentialSource : undefined), res.status);
    }
    let body: { status?: string; data?: T; error?: string; errorType?: string } | undefined;
    try {
      body = (await res.json()) as typeof body;
    } catch {
      body = undefined;
    }
    if (body?.status === 'success' && body.data !== undefined) return body.data;
    if (body?.status === 'error' && body.error) throw new PrometheusError('query', `Prometheus at ${this.url}: ${body.errorType ?? 'error'}: ${body.error}`, res.status);
    if (authorization && res.status >= 300 && res.status < 400) {
      throw new PrometheusError('http', `Prometheus at ${this.url}: GET ${path.split('?')[0]} answered ${res.status} (a redirect): credentials are not sent on; set inferscope.fleet.prometheusUrl to the address it redirects to`, res.status);
    }
    throw new PrometheusError('http', `Prometheus at ${this.url}: GET ${path.split('?')[0]} answered ${res.status} without an API answer (is this a Prometheus?)`, res.status);
  }
}

interface RawTarget {
  labels: Record<string, string>;
  scrapePool?: string;
  scrapeUrl: string;
  health: string;
  lastError?: string;
  lastScrape?: string;
  scrapeInterval?: string;
}

/** "15s", "1m30s", "500ms" → seconds (Prometheus's duration syntax; NaN when unreadable). */
export function durationSeconds(d: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  let total = 0;
  let rest = d.trim();
  if (!rest) return NaN;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/.exec(rest);
    if (!m) return NaN;
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** A label value inside a PromQL string literal. */
export function promString(v: string): string {
  return JSON.stringify(v);
}
