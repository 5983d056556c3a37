// What a version runs its batches on: CPU instances (instancePool.ts) or a session on a device
// thread (devicePool.ts). The batcher, warm-up and the model manager see only this.
import type { EventEmitter } from 'node:events';
import type { WireTensor } from './tensorTypes.js';

/** Which instance of the pool took a run (0-based; its slot, which a replacement takes over), of how many. */
export type Placed = (instance: number, of: number) => void;

export interface VersionPool extends EventEmitter<{ exhausted: [reason: string] }> {
  /** Batches it can take at once now (0: nothing running; a crashed instance is being replaced). */
  readonly size: number;
  readonly inFlight: number;
  /**
   * `maxOutputElements`: an output with more elements fails the run (0: no bound). `placed` hears
   * which instance took the run, of how many, when the pool has numbered instances (CPU).
   */
  run(feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements?: number, placed?: Placed): Promise<Record<string, WireTensor>>;
  close(): Promise<void>;
}
