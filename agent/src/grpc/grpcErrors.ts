// The one place where the agent's errors become gRPC statuses, as Triton maps its own: the same
// human message as the REST answer, the code a gRPC client branches on.
import { status as Status } from '@grpc/grpc-js';
import {
  AgentError,
  BodiesBusyError,
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
  UnauthorizedError,
  UnavailableError,
} from '../errors.js';

export interface GrpcError {
  code: Status;
  details: string;
  /** Whether this is the agent's fault (logged as an error). */
  internal: boolean;
}

export function toGrpcError(err: unknown): GrpcError {
  const of = (code: Status, details: string): GrpcError => ({ code, details, internal: code === Status.INTERNAL });
  if (!(err instanceof AgentError)) return of(Status.INTERNAL, 'internal error in the agent; see its log');
  if (err instanceof InvalidInputError || err instanceof ModelLoadError || err instanceof OutputTooLargeError) return of(Status.INVALID_ARGUMENT, err.message);
  if (err instanceof NotFoundError || err instanceof EntityNotFoundError) return of(Status.NOT_FOUND, err.message);
  if (err instanceof UnauthorizedError) return of(Status.UNAUTHENTICATED, err.message);
  if (err instanceof ForbiddenError) return of(Status.PERMISSION_DENIED, err.message);
  if (err instanceof PayloadTooLargeError || err instanceof BodiesBusyError) return of(Status.RESOURCE_EXHAUSTED, err.message);
  if (err instanceof ConflictError) return of(Status.FAILED_PRECONDITION, err.message);
  // Queue full, open breaker, not ready, draining, feature source down: retry later.
  if (err instanceof UnavailableError) return of(Status.UNAVAILABLE, err.message);
  if (err instanceof DeadlineExceededError) return of(Status.DEADLINE_EXCEEDED, err.message);
  if (err instanceof CancelledError) return of(Status.CANCELLED, err.message);
  // Model failures, crashed workers, bad feature data.
  return of(Status.INTERNAL, err.message);
}
