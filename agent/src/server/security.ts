// Request guards that run before any route: the DNS-rebinding Host check and the bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ForbiddenError, UnauthorizedError } from '../errors.js';

/**
 * A web page can point a DNS name at 127.0.0.1 and talk to the agent as "its" origin; the browser
 * then sends that name in Host. Accept only names that mean this machine (or the bound address).
 */
export function hostGuard(boundHost: string, extraHosts: string[] = []) {
  // On a wildcard bind the agent cannot know its own names: unless allowed_hosts lists them, the
  // check is off there (such a bind requires a token, which is what keeps pages out).
  const wildcard = (boundHost === '0.0.0.0' || boundHost === '::') && extraHosts.length === 0;
  const allowed = new Set(['localhost', '127.0.0.1', '[::1]', boundHost.toLowerCase(), `[${boundHost.toLowerCase()}]`, ...extraHosts.map((h) => h.toLowerCase())]);
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (wildcard) return next();
    const host = (req.headers.host ?? '').toLowerCase();
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
    if (allowed.has(name)) return next();
    next(new ForbiddenError(`Host "${req.headers.host ?? ''}" is not allowed; use http://127.0.0.1:<port> or http://localhost:<port>`));
  };
}

/** Every route except /v2/health/* needs `Authorization: Bearer <token>` when a token is set. */
export function bearerAuth(token: string | undefined) {
  if (!token) return (_req: Request, _res: Response, next: NextFunction): void => next();
  const expected = createHash('sha256').update(token).digest();
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.path.startsWith('/v2/health/')) return next();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    if (!match) return next(new UnauthorizedError('missing bearer token: send "Authorization: Bearer <token>"'));
    // Compare digests: constant time, and equal lengths whatever the caller sent.
    const given = createHash('sha256').update(match[1]!).digest();
    if (!timingSafeEqual(given, expected)) return next(new UnauthorizedError('wrong bearer token'));
    next();
  };
}
