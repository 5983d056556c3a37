// A Prometheus base URL as the agent (its `prometheus_urls`) and the extension (its fleet setting)
// both take it: http(s) only, no query or fragment, canonical form for comparing, and userinfo
// taken out of the URL and sent as Basic. Problems never echo the string: it may hold a password.

/** A Prometheus to query: its canonical URL (no credentials) and the header that carries them. */
export interface PrometheusTarget {
  url: string;
  authorization?: string;
}

/** `scheme://host[:port][/path]`, lower-case host, default port dropped, no trailing slash. */
export function canonicalPrometheusUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** An http(s) URL, or undefined (also for whitespace, control characters and backslashes). */
export function parseHttpUrl(raw: string): URL | undefined {
  // URL parsers "fix up" these in ways a reader of the string would not expect; nobody needs them
  // in a Prometheus URL.
  if (/[\s\\\x00-\x1f\x7f]/.test(raw)) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
}

/** Why a string is not a usable Prometheus base URL, or undefined. */
export function prometheusUrlProblem(raw: string): string | undefined {
  const u = parseHttpUrl(raw);
  if (!u) return 'expected an http(s):// URL of a Prometheus server';
  if (raw.includes('?') || raw.includes('#')) return 'expected a base URL without a query or fragment (? or #)';
  return undefined;
}

/** The URL as used; call only on strings prometheusUrlProblem accepts (it throws otherwise). */
export function parsePrometheusUrl(raw: string): PrometheusTarget {
  const problem = prometheusUrlProblem(raw);
  if (problem) throw new Error(problem);
  const u = parseHttpUrl(raw)!;
  const target: PrometheusTarget = { url: canonicalPrometheusUrl(u) };
  if (u.username || u.password) target.authorization = basicAuthorization(decodeUserinfo(u.username), decodeUserinfo(u.password));
  return target;
}

/** Removes userinfo from a URL-looking string, usable or not. */
export function withoutCredentials(raw: string): string {
  const u = parseHttpUrl(raw);
  // Not an http(s) URL ("user:pass@host" parses as the scheme "user:"): everything before the last
  // `@` may be userinfo, with or without a scheme, a `/` in the password.
  if (!u) return raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?.*@/, '$1');
  if (!u.username && !u.password) return raw;
  return canonicalPrometheusUrl(u);
}

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** URL keeps userinfo percent-encoded; a stray `%` (not an escape) stays as written. */
function decodeUserinfo(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
