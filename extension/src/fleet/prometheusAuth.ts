// Credentials for the fleet's Prometheus. They live in VS Code's secret storage, keyed by the
// Prometheus's canonical URL, so a credential set for one server is never sent to another after
// the setting changes. Userinfo in the URL setting (http://user:pass@host) is read as the agent
// reads `prometheus_urls` (common/prometheusUrl.ts, shared with the agent): taken out of the URL and sent as
// Basic, the URL shown and passed on (to the agent, in messages) without it. Messages never echo
// the setting: it may hold a password. No VS Code imports.
import {
  basicAuthorization,
  canonicalPrometheusUrl,
  parseHttpUrl,
  parsePrometheusUrl,
  prometheusUrlProblem,
  withoutCredentials,
  type PrometheusTarget as UrlTarget,
} from '../../../common/prometheusUrl.js';

/** The palette title of the command that sets them (errors point at it). */
export const SET_CREDENTIALS_TITLE = 'Inferscope: Set Fleet Prometheus Credentials…';
export const SET_CREDENTIALS_COMMAND = 'inferscope.setFleetPrometheusCredentials';

/** The setting as used: a URL without credentials, and the header the URL's userinfo makes. */
export interface PrometheusTarget extends UrlTarget {
  /** Why the setting is not a usable URL (the setting itself left out). */
  problem?: string;
}

export function prometheusTarget(raw: string): PrometheusTarget {
  const setting = raw.trim();
  const problem = prometheusUrlProblem(setting);
  if (!problem) return parsePrometheusUrl(setting);
  const u = parseHttpUrl(setting);
  return { url: u ? canonicalPrometheusUrl(u) : withoutCredentials(setting), problem: `inferscope.fleet.prometheusUrl: ${problem}` };
}

export function bearerAuthorization(token: string): string {
  return `Bearer ${token}`;
}

/** What the input box accepts: undefined when fine, else why (never quoting the value). */
export function credentialProblem(kind: 'bearer' | 'basic', value: string): string | undefined {
  if (!value.trim()) return kind === 'bearer' ? 'Enter the token' : 'Enter user:password';
  // A header value cannot hold line breaks or other control characters.
  if (/[\x00-\x1f\x7f]/.test(value)) return 'Control characters (line breaks, tabs) cannot be sent in a header';
  if (kind === 'basic') {
    const colon = value.indexOf(':');
    if (colon <= 0) return 'Expected user:password (the user before the first colon)';
  }
  return undefined;
}

/** The Authorization header for what the user typed (checked with credentialProblem first). */
export function authorizationFor(kind: 'bearer' | 'basic', value: string): string {
  if (kind === 'bearer') return bearerAuthorization(value.trim());
  const colon = value.indexOf(':');
  return basicAuthorization(value.slice(0, colon), value.slice(colon + 1));
}

/** The kind of a stored header, for the quick pick ("now: bearer token"). */
export function authorizationKind(header: string | undefined): 'bearer' | 'basic' | undefined {
  if (!header) return undefined;
  return /^bearer /i.test(header) ? 'bearer' : /^basic /i.test(header) ? 'basic' : undefined;
}

export function credentialsSecretKey(canonicalUrl: string): string {
  return `inferscope.fleet.prometheusAuth:${canonicalUrl}`;
}

/** Where the credentials sent come from (a refusal says which to fix). */
export type CredentialSource = 'stored' | 'url';

/** The message for a 401/403: the URL (without credentials) and the command that sets them. */
export function authFailureMessage(url: string, status: number, sent: CredentialSource | undefined): string {
  const fix = `set them with "${SET_CREDENTIALS_TITLE}"`;
  if (!sent) return `Prometheus at ${url} answered ${status}: it needs credentials; ${fix}`;
  const which = sent === 'stored' ? 'the stored credentials' : 'the credentials in inferscope.fleet.prometheusUrl';
  return `Prometheus at ${url} answered ${status}: it refused ${which}; ${fix}`;
}
