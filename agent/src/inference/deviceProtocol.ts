// Messages between the main thread and a device thread (deviceWorker.ts), which holds every
// session placed on one GPU provider. Sessions are named by `key` (the version, "digits/2").
import type { ProviderSpec } from '../repository/modelConfig.js';
import type { WireTensor } from './tensorTypes.js';
import type { IoMetadata, RunFailure } from './workerProtocol.js';

export type ToDevice =
  | { type: 'load'; key: string; modelPath: string; provider: ProviderSpec; intraOpThreads: number }
  | { type: 'unload'; key: string }
  | { type: 'run'; key: string; id: number; feeds: Record<string, WireTensor>; outputNames: string[]; maxOutputElements: number };

export type FromDevice =
  | { type: 'loaded'; key: string; inputs: IoMetadata[]; outputs: IoMetadata[] }
  | { type: 'load_failed'; key: string; message: string }
  | { type: 'unloaded'; key: string }
  | { type: 'result'; id: number; outputs: Record<string, WireTensor>; busyMs: number }
  | { type: 'run_failed'; id: number; reason: RunFailure; message: string; busyMs: number };
