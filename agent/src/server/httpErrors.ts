// The one place where errors become HTTP answers: status, Retry-After, and {"error": message}.
import {
  AgentError,
  CancelledError,
  ConflictError,
  DeadlineExceededError,
  EntityNotFoundError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
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

/** Errors thrown by body-parser carry a `type` and a `status`. */
interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

export function toHttpError(err: unknown): HttpError {
  const plain = (status: number, message: string, headers: Record<string, string> = {}): HttpError => ({
    status,
    message,
    headers,
    internal: status === 500,
  });
  if (err instanceof AgentError) {
    if (err instanceof InvalidInputError) return plain(400, err.message);
    if (err instanceof UnauthorizedError) return plain(401, err.message, { 'WWW-Authenticate': 'Bearer' });
    if (err instanceof ForbiddenError) return plain(403, err.message);
    if (err instanceof NotFoundError || err instanceof EntityNotFoundError) return plain(404, err.message);
    if (err instanceof UnsupportedMediaTypeError) return plain(415, err.message);
    if (err instanceof ConflictError) return plain(409, err.message);
    if (err instanceof ShuttingDownError) return plain(503, err.message, { 'Retry-After': String(err.retryAfterS), Connection: 'close' });
    if (err instanceof UnavailableError) return plain(503, err.message, { 'Retry-After': String(err.retryAfterS) });
    if (err instanceof DeadlineExceededError) return plain(504, err.message);
    // nginx's "client closed request": nobody reads it, but logs and metrics can tell it apart.
    if (err instanceof CancelledError) return plain(499, err.message);
    // Model failures, crashed workers, bad feature data: the agent's side, 500 with the reason.
    return plain(500, err.message);
  }
  // body-parser's own errors (an error thrown by its `verify`, the JSON depth check, reaches the
  // branch above as itself).
  const bp = err as BodyParserError;
  switch (bp?.type) {
    case 'entity.parse.failed':
      return plain(400, `the body is not valid JSON: ${bp.message}`);
    case 'entity.too.large':
      return plain(413, `the body is larger than the limit of ${bp.limit ?? 'the configured'} bytes; send fewer rows per request`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return plain(415, bp.message);
    case 'request.aborted':
      return plain(400, 'the request was aborted by the client before its body was complete');
    case 'request.size.invalid':
      return plain(400, 'the body is shorter or longer than its Content-Length');
    default:
      break;
  }
  if (typeof bp?.status === 'number' && bp.status >= 400 && bp.status < 500) return plain(bp.status, bp.message);
  return { status: 500, message: 'internal error in the agent; see its log', headers: {}, internal: true };
}
