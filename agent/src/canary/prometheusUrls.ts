// Which Prometheus servers a canary may read from. A canary's source URL comes from an API client,
// and the agent fetches it: left open, that is a request forgery to any host and path the agent can
// reach. So only URLs from the agent's own config (`prometheus_urls`) are fetched; a canary names
// one of them, and the agent fetches the configured URL, never the client's string. Credentials
// live only in the config entry; canaries, the API and logs carry the URL without them.
import { InvalidInputError } from '../errors.js';

/** A configured Prometheus: its canonical URL (no credentials) and the header that carries them. */
export interface PrometheusTarget {
  url: string;
  authorization?: string;
}

/** `scheme://host[:port][/path]`, lower-case host, default port dropped, no trailing slash. */
export function canonicalPrometheusUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Why a config entry is not a usable base URL, or undefined. Never echoes the entry: it may hold a password. */
export function configuredUrlProblem(raw: string): string | undefined {
  const u = parseHttpUrl(raw);
  if (!u) return 'expected an http(s):// URL of a Prometheus server';
  if (raw.includes('?') || raw.includes('#')) return 'expected a base URL without a query or fragment (? or #)';
  return undefined;
}

/** A config entry as the agent uses it; call only on entries that passed configuredUrlProblem. */
export function parseConfiguredUrl(raw: string): PrometheusTarget {
  const problem = configuredUrlProblem(raw);
  if (problem) throw new Error(`prometheus_urls: ${problem}`);
  const u = parseHttpUrl(raw)!;
  const target: PrometheusTarget = { url: canonicalPrometheusUrl(u) };
  if (u.username || u.password) {
    const pair = `${decodeUserinfo(u.username)}:${decodeUserinfo(u.password)}`;
    target.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
  return target;
}

/** Removes userinfo from a URL-looking string (for state written before the allowlist existed). */
export function withoutCredentials(raw: string): string {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  // Not an http(s) URL ("user:pass@host" parses as the scheme "user:"): everything before the last
  // `@` may be userinfo, with or without a scheme, a `/` in the password.
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) return raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?.*@/, '$1');
  if (!u.username && !u.password) return raw;
  return canonicalPrometheusUrl(u);
}

/** URL keeps userinfo percent-encoded; a stray `%` (not an escape) stays as written. */
function decodeUserinfo(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseHttpUrl(raw: string): URL | undefined {
  // Whitespace, control characters and backslashes are "fixed up" by URL parsers in ways a
  // reader of the string would not expect; nobody needs them in a Prometheus URL.
  if (/[\s\\\x00-\x1f\x7f]/.test(raw)) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
}

/** The configured Prometheus servers, by canonical URL. */
export class PrometheusAllowlist {
  private readonly targets = new Map<string, PrometheusTarget>();

  /** `configured`: the config's entries, already validated (see configuredUrlProblem). */
  constructor(configured: readonly string[]) {
    for (const raw of configured) {
      const t = parseConfiguredUrl(raw);
      if (!this.targets.has(t.url)) this.targets.set(t.url, t);
    }
  }

  /** Canonical URLs, credentials left out: what may be shown to clients. */
  get urls(): string[] {
    return [...this.targets.keys()];
  }

  /** The configured target a canary's URL names; InvalidInputError (400) saying what is allowed otherwise. */
  resolve(requested: string): PrometheusTarget {
    if (this.targets.size === 0) {
      throw new InvalidInputError(
        'Prometheus sources are off on this agent: it reads only Prometheus servers listed in its config key ' +
          '`prometheus_urls` (e.g. {"prometheus_urls": ["http://prometheus:9090"]} in the --config file), and none is set',
      );
    }
    const allowed = `allowed: ${this.urls.join(', ')}; to allow another, add it to \`prometheus_urls\` in the agent's --config file`;
    // Not echoed: a URL with userinfo may carry a password.
    if (requested.includes('@')) {
      throw new InvalidInputError(`source.url must not carry credentials (or an @): name the URL without them; the agent adds the credentials set in \`prometheus_urls\` (${allowed})`);
    }
    if (requested.includes('?') || requested.includes('#')) {
      throw new InvalidInputError(`source.url must be a Prometheus base URL, without a query or fragment (? or #) (${allowed})`);
    }
    const u = parseHttpUrl(requested);
    const target = u && this.targets.get(canonicalPrometheusUrl(u));
    if (!target) throw new InvalidInputError(`source.url ${JSON.stringify(requested.slice(0, 200))} is not an allowed Prometheus URL (${allowed})`);
    return target;
  }
}
