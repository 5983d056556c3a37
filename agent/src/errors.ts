// Typed errors of the agent. Components throw these; server/httpErrors.ts maps them to HTTP
// status codes in one place. Messages are written for the person who has to fix the request.

export abstract class AgentError extends Error {
  abstract readonly kind: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The agent cannot take the request now, but may soon (503 + Retry-After): a version still
 * loading, an open breaker, a full queue, an unavailable feature source, a drain.
 */
export abstract class UnavailableError extends AgentError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

/** The request is malformed or does not match the model (400). */
export class InvalidInputError extends AgentError {
  readonly kind = 'invalid_input';
}

/** Unknown model, version or route (404). */
export class NotFoundError extends AgentError {
  readonly kind = 'not_found';
}

/** The model version exists but cannot serve yet, or failed to load (503). */
export class ModelNotReadyError extends UnavailableError {
  readonly kind = 'not_ready';
  constructor(message: string, retryAfterS = 5) {
    super(message, retryAfterS);
  }
}

/** A model load request failed (bad config, a model file that does not load); nothing changed (400, as Triton). */
export class ModelLoadError extends AgentError {
  readonly kind = 'load_failed';
}

/**
 * A request's output would be larger than max_elements_per_output (400): refused before the reply
 * is built, and never the model's failure.
 */
export class OutputTooLargeError extends AgentError {
  readonly kind = 'output_too_large';
}

/** ONNX Runtime rejected or failed the run (500). */
export class ModelExecutionError extends AgentError {
  readonly kind = 'execution_failed';
}

/** The worker thread running the model died while the request was in flight (500). */
export class WorkerCrashedError extends AgentError {
  readonly kind = 'worker_crashed';
}

/** The agent is draining before exit and takes no new work (503). */
export class ShuttingDownError extends UnavailableError {
  readonly kind = 'shutting_down';
  constructor(message: string) {
    super(message, 5);
  }
}

/** Missing or wrong bearer token (401). */
export class UnauthorizedError extends AgentError {
  readonly kind = 'unauthorized';
}

/** Refused by policy: foreign Host header, disabled feature (403). */
export class ForbiddenError extends AgentError {
  readonly kind = 'forbidden';
}

/** The body is larger than the configured limit (413). */
export class PayloadTooLargeError extends AgentError {
  readonly kind = 'too_large';
}

/** Too many bytes of request bodies are being received at once (503 + Retry-After). */
export class BodiesBusyError extends UnavailableError {
  readonly kind = 'bodies_busy';
}

/** A body that stopped arriving was ended to make room for other requests' bodies (408). */
export class BodyStalledError extends AgentError {
  readonly kind = 'body_stalled';
}

/** Content-Type the route does not take (415). */
export class UnsupportedMediaTypeError extends AgentError {
  readonly kind = 'unsupported_media_type';
}

/** Configuration or repository problem found at start-up; message names the file and field. */
export class ConfigError extends AgentError {
  readonly kind = 'config';
}

/** The model version's queue is at max_queue_size (503 + Retry-After). */
export class QueueFullError extends UnavailableError {
  readonly kind = 'queue_full';
}

/** The request's deadline passed while it waited in the queue (504). */
export class DeadlineExceededError extends AgentError {
  readonly kind = 'timeout';
  /** The client's own `timeout` was the deadline in force (then it says nothing about the model). */
  constructor(message: string, readonly setByClient = false) {
    super(message);
  }
}

/** The client went away before its queued request ran; nothing is sent back. */
export class CancelledError extends AgentError {
  readonly kind = 'cancelled';
}

/** The version's circuit breaker rejects the request (503 + Retry-After). */
export class CircuitOpenError extends UnavailableError {
  readonly kind = 'circuit_open';
}

/** An entity the request names has no stored feature vector (404). */
export class EntityNotFoundError extends AgentError {
  readonly kind = 'entity_not_found';
}

/** The feature source (Redis, a file) cannot answer for keys that are not cached (503). */
export class FeatureSourceUnavailableError extends UnavailableError {
  readonly kind = 'feature_source_unavailable';
  constructor(message: string, retryAfterS = 1) {
    super(message, retryAfterS);
  }
}

/** The feature store holds data the model cannot take (wrong vector length): the store's fault (500). */
export class FeatureDataError extends AgentError {
  readonly kind = 'feature_data';
}

/** The request conflicts with the current state, e.g. a second canary for a model (409). */
export class ConflictError extends AgentError {
  readonly kind = 'conflict';
}
