// Messages between the main thread and an inference worker thread.
import type { ProviderSpec } from '../repository/modelConfig.js';
import type { WireTensor } from './tensorTypes.js';

export interface WorkerInit {
  modelPath: string;
  /** The one provider of this worker's session (CPU; GPU sessions live in a device thread). */
  provider: ProviderSpec;
  intraOpThreads: number;
}

export interface IoMetadata {
  name: string;
  /** ONNX Runtime's element type name ("float32", "int64", ...). */
  type: string;
  /** Symbolic dimensions come as strings, unknown ones as undefined; both mean variable. */
  shape: (number | string | undefined)[];
}

export type ToWorker = {
  type: 'run';
  id: number;
  feeds: Record<string, WireTensor>;
  outputNames: string[];
  /** An output with more elements is refused in the worker, never sent (0: no bound). */
  maxOutputElements: number;
};

/**
 * Why a run failed: ONNX Runtime refused the inputs before running (`input`), an output was over
 * the bound (`output_too_large`), or the model failed while running (`model`).
 */
export type RunFailure = 'input' | 'output_too_large' | 'model';

export type FromWorker =
  | { type: 'loaded'; provider: string; inputs: IoMetadata[]; outputs: IoMetadata[] }
  | { type: 'load_failed'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, WireTensor>; busyMs: number }
  | { type: 'run_failed'; id: number; reason: RunFailure; message: string; busyMs: number };
