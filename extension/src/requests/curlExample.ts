// The curl command Copy curl Example puts on the clipboard: an infer request to the agent, as
// Triton's documentation shows them, with the bearer token when the agent has one. Pure.

/** POSIX shell single quotes: safe for any text (a ' becomes '\''). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CurlSpec {
  /** The agent's base URL, `http://127.0.0.1:40121`. */
  url: string;
  model: string;
  /** A version, or undefined for the model's routing (default version or canary split). */
  version?: string;
  /** Empty or undefined: the agent takes no token, and the command sends none. */
  token?: string;
  body: unknown;
}

export function inferPath(model: string, version?: string): string {
  const m = encodeURIComponent(model);
  return version === undefined ? `/v2/models/${m}/infer` : `/v2/models/${m}/versions/${encodeURIComponent(version)}/infer`;
}

export function curlExample(spec: CurlSpec): string {
  const parts = ['curl -sS -X POST', shellQuote(`${spec.url.replace(/\/+$/, '')}${inferPath(spec.model, spec.version)}`)];
  if (spec.token) parts.push('-H', shellQuote(`Authorization: Bearer ${spec.token}`));
  parts.push('-H', shellQuote('Content-Type: application/json'), '-d', shellQuote(JSON.stringify(spec.body)));
  return parts.join(' ');
}
