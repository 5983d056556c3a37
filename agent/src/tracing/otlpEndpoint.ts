// Where OpenTelemetry traces go, and whether they go at all. Export is off unless an endpoint is
// named: `--otlp-endpoint URL` (config `otlp_endpoint`), or else the standard
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT variables, which the SDK's
// exporter reads itself (with OTEL_EXPORTER_OTLP_[TRACES_]HEADERS). OTEL_TRACES_EXPORTER=none
// turns it off whatever else says.

export interface OtlpTarget {
  /** The traces URL to pass the exporter; undefined: the exporter reads the environment. */
  url?: string;
  /** For the log line. */
  shown: string;
}

/**
 * The configured endpoint as a traces URL: a bare collector address (no path, or "/") gets the
 * OTLP/HTTP traces path /v1/traces, as OTEL_EXPORTER_OTLP_ENDPOINT does; a URL with a path is
 * used as it is, as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is.
 */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

export function otlpTarget(configured: string, env: NodeJS.ProcessEnv = process.env): OtlpTarget | undefined {
  if ((env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase() === 'none') return undefined;
  if (configured) {
    const url = tracesUrl(configured);
    return { url, shown: redact(url) };
  }
  const fromEnv = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return fromEnv ? { shown: redact(fromEnv) } : undefined;
}

/** A problem with a configured endpoint, for the config's validation. */
export function endpointProblem(value: string): string | undefined {
  if (value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an http:// or https:// URL of an OTLP/HTTP collector, e.g. http://localhost:4318';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected an http:// or https:// URL (OTLP/HTTP), not ${url.protocol}`;
  return undefined;
}

/** No credentials in logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}
