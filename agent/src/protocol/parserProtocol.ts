// Messages between the main thread and the request parser thread.
import type { InferTarget, ParsedInferRequest, RequestLimits } from './parseInferRequest.js';

/** What a model version takes, sent once per version (the thread keeps it by `targetId`). */
export interface ParseTarget {
  target: Omit<InferTarget, 'url'>;
  limits: RequestLimits;
}

export interface ParseJob {
  id: number;
  /** The JSON bytes (a copy, transferred). */
  body: ArrayBuffer;
  targetId: number;
  /** The first job for a target carries it. */
  target?: ParseTarget;
  url: InferTarget['url'];
}

export type ParseResult =
  | { id: number; request: ParsedInferRequest }
  | { id: number; error: string; invalid: boolean }
  /** The thread no longer holds the job's target (it keeps a bounded number): send it again. */
  | { id: number; unknownTarget: true };
