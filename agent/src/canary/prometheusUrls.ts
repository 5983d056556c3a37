// Which Prometheus servers a canary may read from. A canary's source URL comes from an API client,
// and the agent fetches it: left open, that is a request forgery to any host and path the agent can
// reach. So only URLs from the agent's own config (`prometheus_urls`) are fetched; a canary names
// one of them, and the agent fetches the configured URL, never the client's string. Credentials
// live only in the config entry; canaries, the API and logs carry the URL without them.
import { canonicalPrometheusUrl, parseHttpUrl, parsePrometheusUrl, type PrometheusTarget } from '../../../common/prometheusUrl.js';
import { InvalidInputError } from '../errors.js';

export type { PrometheusTarget };

/** The configured Prometheus servers, by canonical URL. */
export class PrometheusAllowlist {
  private readonly targets = new Map<string, PrometheusTarget>();

  /** `configured`: the config's entries, already validated (prometheusUrlProblem). */
  constructor(configured: readonly string[]) {
    for (const raw of configured) {
      const t = parsePrometheusUrl(raw);
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
