// gRPC statuses for the agent's errors, as Triton maps its own. The error → HTTP status mapping
// (server/httpErrors.ts) stays the one place that classifies errors; this only names the gRPC
// code for each HTTP answer, so the two protocols can never disagree. Same message as REST.
import { toHttpError } from '../server/httpErrors.js';
import { GrpcStatus as Status, type GrpcStatusCode } from './grpcStatus.js';

export interface GrpcError {
  code: GrpcStatusCode;
  details: string;
  /** Whether this is the agent's fault (logged as an error). */
  internal: boolean;
}

const CODES: Record<number, GrpcStatusCode> = {
  400: Status.INVALID_ARGUMENT,
  401: Status.UNAUTHENTICATED,
  403: Status.PERMISSION_DENIED,
  404: Status.NOT_FOUND,
  408: Status.DEADLINE_EXCEEDED,
  409: Status.FAILED_PRECONDITION,
  413: Status.RESOURCE_EXHAUSTED,
  415: Status.INVALID_ARGUMENT,
  // nginx's "client closed request".
  499: Status.CANCELLED,
  // Queue full, open breaker, not ready, draining, feature source down: retry later.
  503: Status.UNAVAILABLE,
  504: Status.DEADLINE_EXCEEDED,
};

export function toGrpcError(err: unknown): GrpcError {
  const e = toHttpError(err);
  return { code: CODES[e.status] ?? Status.INTERNAL, details: e.message, internal: e.internal };
}
