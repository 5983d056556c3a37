// Where a version runs: the first of its execution providers that loads it. A GPU provider (all
// but cpu) loads it into that provider's device thread (one per process: see deviceWorker.ts);
// cpu starts `instance_count` worker threads with a session each. Each provider that failed is
// kept with its reason: the fallback is logged and shown in status and the Models view.
import type { Logger } from '../log/logger.js';
import type { ProviderSpec } from '../repository/modelConfig.js';
import { DevicePool } from './devicePool.js';
import type { DeviceThreads } from './deviceThread.js';
import { InstancePool } from './instancePool.js';
import { firstLine } from './sessionRunner.js';
import type { VersionPool } from './versionPool.js';
import type { LoadedInfo } from './workerInstance.js';

export interface PlaceOptions {
  modelPath: string;
  providers: ProviderSpec[];
  intraOpThreads: number;
  /** CPU: worker threads; a GPU provider: batches that may wait on the device at once. */
  instanceCount: number;
  label: string;
  runTimeoutMs: number;
  workerFile: string;
  threads: DeviceThreads;
  logger: Logger;
  /** Hears each batch's compute time and where it ran. */
  onBusy?: (device: string, ms: number) => void;
}

export interface Placement {
  pool: VersionPool;
  info: LoadedInfo;
  /** "cpu", or the GPU provider's name. */
  device: string;
  /** "<provider>: <why it could not load the model>", for each provider tried before. */
  fallbacks: string[];
}

export function isGpuProvider(name: string): boolean {
  return name !== 'cpu';
}

export async function placeVersion(o: PlaceOptions): Promise<Placement> {
  const fallbacks: string[] = [];
  for (const provider of o.providers) {
    const onBusy = o.onBusy && ((ms: number) => o.onBusy!(provider.name, ms));
    try {
      const { pool, info } = isGpuProvider(provider.name)
        ? await DevicePool.start({ threads: o.threads, provider, modelPath: o.modelPath, intraOpThreads: o.intraOpThreads, label: o.label, slots: o.instanceCount, runTimeoutMs: o.runTimeoutMs, logger: o.logger, ...(onBusy ? { onBusy } : {}) })
        : await InstancePool.start({
            workerFile: o.workerFile,
            init: { modelPath: o.modelPath, provider, intraOpThreads: o.intraOpThreads },
            count: o.instanceCount,
            label: o.label,
            logger: o.logger,
            runTimeoutMs: o.runTimeoutMs,
            ...(onBusy ? { onBusy } : {}),
          });
      return { pool, info, device: provider.name, fallbacks };
    } catch (err) {
      fallbacks.push(`${provider.name}: ${firstLine(err)}`);
    }
  }
  throw new Error(`no execution provider could load ${o.modelPath}: ${fallbacks.join('; ')}`);
}
