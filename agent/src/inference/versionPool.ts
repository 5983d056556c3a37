// What a version runs its batches on: CPU instances (instancePool.ts) or a session on a device
// thread (devicePool.ts). The batcher, warm-up and the model manager see only this.
import type { EventEmitter } from 'node:events';
import type { WireTensor } from './tensorTypes.js';

export interface VersionPool extends EventEmitter<{ exhausted: [reason: string] }> {
  /** Batches it can take at once now (0: nothing running; a crashed instance is being replaced). */
  readonly size: number;
  readonly inFlight: number;
  /** `maxOutputElements`: an output with more elements fails the run (0: no bound). */
  run(feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements?: number): Promise<Record<string, WireTensor>>;
  close(): Promise<void>;
}
