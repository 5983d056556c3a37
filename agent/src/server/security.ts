// Request guards that run before any route and before a byte of the body is read: the
// DNS-rebinding Host check and the bearer token. Plain checks (they throw typed errors), so the
// lean infer path and the express app apply exactly the same ones.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError, UnauthorizedError } from '../errors.js';

export type RequestCheck = (req: IncomingMessage, path: string) => void;

/**
 * A web page can point a DNS name at 127.0.0.1 and talk to the agent as "its" origin; the browser
 * then sends that name in Host. Accept only names that mean this machine (or the bound address).
 */
export function hostCheck(boundHost: string, extraHosts: string[] = []): RequestCheck {
  // On a wildcard bind the agent cannot know its own names: unless allowed_hosts lists them, the
  // check is off there (such a bind requires a token, which is what keeps pages out).
  const wildcard = (boundHost === '0.0.0.0' || boundHost === '::') && extraHosts.length === 0;
  const allowed = new Set(['localhost', '127.0.0.1', '[::1]', boundHost.toLowerCase(), `[${boundHost.toLowerCase()}]`, ...extraHosts.map((h) => h.toLowerCase())]);
  return (req) => {
    if (wildcard) return;
    const host = (req.headers.host ?? '').toLowerCase();
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
    if (allowed.has(name)) return;
    throw new ForbiddenError(`Host "${req.headers.host ?? ''}" is not allowed; use http://127.0.0.1:<port> or http://localhost:<port>`);
  };
}

/** Health checks answer without a token (load balancers and kubelets send none). */
export function isHealthPath(path: string): boolean {
  return path.length > 11 && path.slice(0, 11).toLowerCase() === '/v2/health/';
}

/**
 * Checks an `Authorization` value against the token (for HTTP headers and gRPC metadata alike):
 * throws UnauthorizedError unless it is `Bearer <token>`.
 */
export function bearerVerifier(token: string): (authorization: string | undefined) => void {
  const expected = createHash('sha256').update(token).digest();
  return (authorization) => {
    const match = /^Bearer (.+)$/i.exec(authorization ?? '');
    if (!match) throw new UnauthorizedError('missing bearer token: send "Authorization: Bearer <token>"');
    // Compare digests: constant time, and equal lengths whatever the caller sent.
    const given = createHash('sha256').update(match[1]!).digest();
    if (!timingSafeEqual(given, expected)) throw new UnauthorizedError('wrong bearer token');
  };
}

/** Every route except /v2/health/* needs `Authorization: Bearer <token>` when a token is set. */
export function tokenCheck(token: string | undefined): RequestCheck {
  if (!token) return () => {};
  const verify = bearerVerifier(token);
  return (req, path) => {
    if (!isHealthPath(path)) verify(req.headers.authorization);
  };
}

/**
 * Browsers send Origin with every cross-origin POST (and stock clients never send one): a request
 * from a web page on another origin is refused before anything happens, whatever its
 * Content-Type. This is what keeps pages out of the routes that, like Triton's, take any
 * Content-Type (infer, model control, logging).
 */
export const crossOriginCheck: RequestCheck = (req) => {
  const origin = req.headers.origin;
  if (origin === undefined || req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== (req.headers.host ?? '').toLowerCase()) throw new ForbiddenError(`requests from web pages on ${origin} are refused`);
};
