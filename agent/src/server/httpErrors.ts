// The one place where errors become HTTP answers: status, Retry-After, and {"error": message}.
import {
  AgentError,
  BodyStalledError,
  CancelledError,
  ConflictError,
  DeadlineExceededError,
  EntityNotFoundError,
  ForbiddenError,
  InvalidInputError,
  ModelLoadError,
  NotFoundError,
  OutputTooLargeError,
  PayloadTooLargeError,
  ShuttingDownError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
} from '../errors.js';

export interface HttpError {
  status: number;
  message: string;
  headers: Record<string, string>;
  /** Whether this is the agent's fault (logged as an error). */
  internal: boolean;
}

/** Errors of express itself (a malformed URL, say) carry a `status`. */
interface StatusError extends Error {
  status?: number;
}

export function toHttpError(err: unknown): HttpError {
  const plain = (status: number, message: string, headers: Record<string, string> = {}): HttpError => ({
    status,
    message,
    headers,
    internal: status === 500,
  });
  if (err instanceof AgentError) {
    if (err instanceof InvalidInputError || err instanceof ModelLoadError || err instanceof OutputTooLargeError) return plain(400, err.message);
    if (err instanceof UnauthorizedError) return plain(401, err.message, { 'WWW-Authenticate': 'Bearer' });
    if (err instanceof ForbiddenError) return plain(403, err.message);
    if (err instanceof NotFoundError || err instanceof EntityNotFoundError) return plain(404, err.message);
    if (err instanceof UnsupportedMediaTypeError) return plain(415, err.message);
    if (err instanceof PayloadTooLargeError) return plain(413, err.message);
    if (err instanceof BodyStalledError) return plain(408, err.message);
    if (err instanceof ConflictError) return plain(409, err.message);
    if (err instanceof ShuttingDownError) return plain(503, err.message, { 'Retry-After': String(err.retryAfterS), Connection: 'close' });
    if (err instanceof UnavailableError) return plain(503, err.message, { 'Retry-After': String(err.retryAfterS) });
    if (err instanceof DeadlineExceededError) return plain(504, err.message);
    // nginx's "client closed request": nobody reads it, but logs and metrics can tell it apart.
    if (err instanceof CancelledError) return plain(499, err.message);
    // Model failures, crashed workers, bad feature data: the agent's side, 500 with the reason.
    return plain(500, err.message);
  }
  const bp = err as StatusError;
  if (typeof bp?.status === 'number' && bp.status >= 400 && bp.status < 500) return plain(bp.status, bp.message);
  return { status: 500, message: 'internal error in the agent; see its log', headers: {}, internal: true };
}
