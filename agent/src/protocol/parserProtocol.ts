// Messages between the main thread and the request parser thread.
import type { InferTarget, ParsedInferRequest, RequestLimits } from './parseInferRequest.js';

export interface ParseJob {
  id: number;
  /** The JSON bytes (a copy, transferred). */
  body: ArrayBuffer;
  target: InferTarget;
  limits: RequestLimits;
}

export type ParseResult = { id: number; request: ParsedInferRequest } | { id: number; error: string; invalid: boolean };
