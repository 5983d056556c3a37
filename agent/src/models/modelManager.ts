// Owns every model version the agent serves: loads them from the repository into instance pools,
// tracks their state (loading, ready, failed, unloaded) and answers look-ups by name and version.
import { EventEmitter } from 'node:events';
import type {
  ModelMetadata,
  ModelStatus,
  RepositoryIndexEntry,
  TensorMetadata,
  VersionState,
} from '../../../common/api.js';
import { ModelNotReadyError, NotFoundError, InvalidInputError } from '../errors.js';
import { DynamicBatcher } from '../batching/dynamicBatcher.js';
import type { FaultInjector } from '../faults/faultInjector.js';
import { FeatureCache } from '../features/featureCache.js';
import type { FeatureSource } from '../features/featureSource.js';
import { FileFeatureSource } from '../features/fileFeatureSource.js';
import { RedisFeatureSource } from '../features/redisFeatureSource.js';
import { InstancePool } from '../inference/instancePool.js';
import { warmUp } from '../inference/warmUp.js';
import { CircuitBreaker } from '../resilience/circuitBreaker.js';
import { DEFAULT_BREAKER_SETTINGS } from '../resilience/breakerSettings.js';
import { systemClock, type Clock } from '../time/clock.js';
import { datatypeOf } from '../inference/tensorTypes.js';
import type { IoMetadata } from '../inference/workerProtocol.js';
import type { Logger } from '../log/logger.js';
import type { ModelConfig } from '../repository/modelConfig.js';
import { MODEL_NAME_RULE, VERSION_RULE, isValidModelName, isValidVersion } from '../repository/names.js';
import { scanRepository, type ModelEntry } from '../repository/scanRepository.js';
import type { ModelDefaults } from '../repository/modelDefaults.js';

export interface ServableVersion {
  model: string;
  version: string;
  config: ModelConfig;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  pool: InstancePool;
  batcher: DynamicBatcher;
  breaker: CircuitBreaker;
  provider: string;
  /** The model's feature cache (shared by its versions), when its config names a feature source. */
  features?: FeatureCache;
}

interface VersionRecord {
  version: string;
  modelPath: string;
  state: VersionState;
  reason?: string;
  provider?: string;
  servable?: ServableVersion;
}

interface ModelRecord {
  name: string;
  dir: string;
  config?: ModelConfig;
  features?: FeatureCache;
  error?: string;
  defaultVersion?: string;
  versions: Map<string, VersionRecord>;
}

export interface ModelEvent {
  model: string;
  version?: string;
  state: VersionState;
  reason?: string;
}

export interface ModelManagerOptions {
  repository: string;
  /** Applied to models whose config.json leaves a setting out. */
  modelDefaults?: ModelDefaults;
  workerFile: string;
  logger: Logger;
  faults: FaultInjector;
  clock?: Clock;
}

export class ModelManager extends EventEmitter<{
  model: [ModelEvent];
  servable: [ServableVersion];
  features: [model: string, cache: FeatureCache];
}> {
  private readonly models = new Map<string, ModelRecord>();
  private loading = true;

  constructor(private readonly opts: ModelManagerOptions) {
    super();
  }

  /** Reads the repository's layout and configs (fast, synchronous; throws if it is unusable). */
  scan(): void {
    const { models, skipped } = scanRepository(this.opts.repository, this.opts.modelDefaults);
    for (const s of skipped) this.opts.logger.warn('skipping folder in model repository', { folder: s });
    for (const entry of models) this.models.set(entry.name, this.record(entry));
    if (models.length === 0) this.opts.logger.warn('the model repository holds no models', { models: this.opts.repository });
  }

  /** Loads every scanned version; resolves when all have loaded or failed. */
  async loadAll(): Promise<void> {
    const loads: Promise<void>[] = [];
    for (const model of this.models.values()) {
      if (!model.error) this.openFeatures(model);
      if (model.error) {
        this.opts.logger.error('model failed to load', { model: model.name, reason: model.error });
        this.emit('model', { model: model.name, state: 'failed', reason: model.error });
        continue;
      }
      for (const v of model.versions.values()) loads.push(this.loadVersion(model, v));
    }
    await Promise.all(loads);
    this.loading = false;
  }

  /** True once loading finished and every model that should load has loaded. */
  get ready(): boolean {
    if (this.loading) return false;
    for (const m of this.models.values()) {
      if (m.error) return false;
      for (const v of m.versions.values()) if (v.state !== 'ready') return false;
    }
    return true;
  }

  /** The version to serve for a request; `version` undefined means the model's default. */
  resolve(name: string, version?: string): ServableVersion {
    const { model, record } = this.lookup(name, version);
    if (record.state === 'ready' && record.servable) return record.servable;
    const label = `${model.name}/${record.version}`;
    if (record.state === 'loading') throw new ModelNotReadyError(`model ${label} is still loading; retry shortly`, 1);
    throw new ModelNotReadyError(`model ${label} is not available: ${record.reason ?? record.state}`);
  }

  /** Triton's model metadata: from the default (or named) version, listing every version. */
  metadata(name: string, version?: string): ModelMetadata {
    const servable = this.resolve(name, version);
    const model = this.models.get(name)!;
    return {
      name,
      versions: [...model.versions.keys()],
      platform: 'onnxruntime_onnx',
      inputs: servable.inputs,
      outputs: servable.outputs,
    };
  }

  /** Whether a model (or version) exists and is ready; throws NotFoundError if it does not exist. */
  isReady(name: string, version?: string): boolean {
    const { record } = this.lookup(name, version);
    return record.state === 'ready';
  }

  index(): RepositoryIndexEntry[] {
    const out: RepositoryIndexEntry[] = [];
    for (const m of this.models.values()) {
      if (m.error && m.versions.size === 0) {
        out.push({ name: m.name, version: '', state: 'UNAVAILABLE', reason: m.error });
        continue;
      }
      for (const v of m.versions.values()) {
        const state = v.state === 'ready' ? 'READY' : v.state === 'loading' ? 'LOADING' : 'UNAVAILABLE';
        const reason = v.reason ?? m.error;
        out.push({ name: m.name, version: v.version, state, ...(reason ? { reason } : {}) });
      }
    }
    return out;
  }

  status(): ModelStatus[] {
    return [...this.models.values()].map((m) => ({
      name: m.name,
      ...(m.error ? { error: m.error } : {}),
      ...(m.defaultVersion ? { default_version: m.defaultVersion } : {}),
      versions: [...m.versions.values()].map((v) => ({
        version: v.version,
        state: v.state,
        ...(v.reason ? { reason: v.reason } : {}),
        ...(v.provider ? { execution_provider: v.provider } : {}),
        instances: v.servable?.pool.size ?? 0,
        is_default: v.version === m.defaultVersion,
        batching: {
          max_batch_size: m.config?.max_batch_size ?? 0,
          queue_depth: v.servable?.batcher.queueDepth ?? 0,
          in_flight_batches: v.servable?.batcher.inFlightBatches ?? 0,
          recent_batch_sizes: v.servable?.batcher.recentBatchSizes ?? [],
        },
        ...(v.servable ? { breaker: v.servable.breaker.snapshot() } : {}),
        ...(this.opts.faults.get(m.name, v.version) ? { fault: this.opts.faults.get(m.name, v.version)! } : {}),
      })),
    }));
  }

  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const m of this.models.values()) {
      if (m.features) closing.push(m.features.close());
      for (const v of m.versions.values()) {
        if (v.servable) closing.push(v.servable.pool.close());
        v.servable = undefined;
        v.state = 'unloaded';
      }
    }
    await Promise.all(closing);
  }

  private lookup(name: string, version?: string): { model: ModelRecord; record: VersionRecord } {
    if (!isValidModelName(name)) throw new InvalidInputError(`"${name}" is not a valid model name: ${MODEL_NAME_RULE}`);
    if (version !== undefined && !isValidVersion(version)) {
      throw new InvalidInputError(`"${version}" is not a valid version: ${VERSION_RULE}`);
    }
    const model = this.models.get(name);
    if (!model) {
      const known = [...this.models.keys()].join(', ') || 'none';
      throw new NotFoundError(`unknown model "${name}"; models in the repository: ${known}`);
    }
    const wanted = version ?? model.defaultVersion;
    const record = wanted === undefined ? undefined : model.versions.get(wanted);
    if (!record) {
      if (version === undefined) throw new ModelNotReadyError(`model ${name} is not available: ${model.error ?? 'no version'}`);
      const known = [...model.versions.keys()].join(', ') || 'none';
      throw new NotFoundError(`model ${name} has no version ${version}; its versions: ${known}`);
    }
    return { model, record };
  }

  private record(entry: ModelEntry): ModelRecord {
    const versions = new Map<string, VersionRecord>();
    for (const v of entry.versions) {
      versions.set(v.version, {
        version: v.version,
        modelPath: v.modelPath,
        state: v.error || entry.error ? 'failed' : 'loading',
        ...(v.error ? { reason: v.error } : {}),
      });
    }
    return {
      name: entry.name,
      dir: entry.dir,
      versions,
      ...(entry.config ? { config: entry.config } : {}),
      ...(entry.error ? { error: entry.error } : {}),
      ...(entry.defaultVersion ? { defaultVersion: entry.defaultVersion } : {}),
    };
  }

  /** The model's feature source and cache; a bad source fails the model, not the agent. */
  private openFeatures(model: ModelRecord): void {
    const settings = model.config?.features;
    if (!settings) return;
    try {
      const source: FeatureSource =
        settings.source === 'file'
          ? FileFeatureSource.fromConfig(model.dir, settings.path)
          : new RedisFeatureSource({ url: settings.url, keyPrefix: settings.key_prefix ?? `inferscope:${model.name}:`, timeoutMs: settings.timeout_ms });
      model.features = new FeatureCache(
        source,
        {
          label: model.name,
          maxEntries: settings.max_entries,
          maxBytes: settings.max_bytes,
          ttlMs: settings.ttl_ms,
          negativeTtlMs: settings.negative_ttl_ms,
          staleMs: settings.stale_ms,
        },
        this.opts.clock ?? systemClock,
      );
      this.emit('features', model.name, model.features);
    } catch (err) {
      model.error = `features: ${(err as Error).message}`;
      for (const v of model.versions.values()) {
        v.state = 'failed';
        v.reason = model.error;
      }
    }
  }

  /** Makes `version` the model's default (a promotion, or a persisted one at start-up). */
  setDefaultVersion(name: string, version: string): void {
    const model = this.models.get(name);
    if (!model || !model.versions.has(version)) {
      this.opts.logger.warn('cannot set default version; ignoring', { model: name, version });
      return;
    }
    model.defaultVersion = version;
    this.opts.logger.info('default version set', { model: name, version });
  }

  /** Feature caches by model name (for status and invalidation). */
  featureCaches(): Map<string, FeatureCache> {
    const out = new Map<string, FeatureCache>();
    for (const m of this.models.values()) if (m.features) out.set(m.name, m.features);
    return out;
  }

  private async loadVersion(model: ModelRecord, v: VersionRecord): Promise<void> {
    const label = `${model.name}/${v.version}`;
    const config = model.config!;
    if (v.state === 'failed') {
      this.opts.logger.error('model version failed to load', { model: label, reason: v.reason });
      this.emit('model', { model: model.name, version: v.version, state: 'failed', ...(v.reason ? { reason: v.reason } : {}) });
      return;
    }
    const started = Date.now();
    try {
      const { pool, info } = await InstancePool.start({
        workerFile: this.opts.workerFile,
        init: {
          modelPath: v.modelPath,
          executionProviders: config.execution_providers,
          intraOpThreads: config.intra_op_threads,
        },
        count: config.instance_count,
        label,
        logger: this.opts.logger,
        runTimeoutMs: config.run_timeout_ms,
      });
      pool.once('exhausted', (reason) => {
        // The version cannot serve any more: say so everywhere (status, index, readiness).
        v.state = 'failed';
        v.reason = reason;
        this.emit('model', { model: model.name, version: v.version, state: 'failed', reason });
      });
      let described: { inputs: TensorMetadata[]; outputs: TensorMetadata[] };
      try {
        described = describeModel(info.inputs, info.outputs, config);
      } catch (err) {
        await pool.close();
        throw err;
      }
      const warmed = Date.now();
      try {
        const done = await warmUp(pool, described.inputs, described.outputs, config.max_batch_size, config.instance_count);
        if (done) this.opts.logger.debug('model warmed up', { model: label, ms: Date.now() - warmed });
      } catch (err) {
        // A model that cannot run zeros may still serve real inputs: warn and go on.
        this.opts.logger.warn('model warm-up failed', { model: label, error: (err as Error).message });
      }
      for (const rejected of info.rejectedProviders) {
        this.opts.logger.info('execution provider unavailable, falling back', { model: label, detail: rejected });
      }
      const batching = config.dynamic_batching;
      const clock = this.opts.clock ?? systemClock;
      const faults = this.opts.faults;
      // Injected latency holds the batch's instance slot, as a slow model would.
      const runner = {
        get size() {
          return pool.size;
        },
        async run(feeds: Parameters<InstancePool['run']>[0], outputNames: string[]) {
          const delay = faults.latencyMs(model.name, v.version);
          if (delay > 0) await new Promise<void>((resolve) => clock.setTimer(delay, resolve));
          return pool.run(feeds, outputNames);
        },
      };
      const batcher = new DynamicBatcher(
        runner,
        {
          label,
          maxBatchSize: config.max_batch_size,
          maxQueueDelayMs: batching?.max_queue_delay_ms ?? 0,
          preferredBatchSizes: batching?.preferred_batch_size ?? [],
          maxQueueSize: batching?.max_queue_size ?? 0,
          defaultTimeoutMs: batching?.default_timeout_ms ?? 0,
        },
        clock,
      );
      const breaker = new CircuitBreaker(label, config.breaker ?? DEFAULT_BREAKER_SETTINGS, clock);
      breaker.on('transition', (t) =>
        this.opts.logger[t.to === 'open' ? 'warn' : 'info']('circuit breaker transition', { model: label, from: t.from, to: t.to, reason: t.reason }),
      );
      v.provider = info.provider;
      v.servable = {
        model: model.name,
        version: v.version,
        config,
        pool,
        batcher,
        breaker,
        provider: info.provider,
        ...described,
        ...(model.features ? { features: model.features } : {}),
      };
      v.state = 'ready';
      this.emit('servable', v.servable);
      this.opts.logger.info('model loaded', {
        model: label,
        provider: info.provider,
        instances: pool.size,
        ms: Date.now() - started,
      });
      this.emit('model', { model: model.name, version: v.version, state: 'ready' });
    } catch (err) {
      v.state = 'failed';
      v.reason = (err as Error).message;
      this.opts.logger.error('model version failed to load', { model: label, reason: v.reason });
      this.emit('model', { model: model.name, version: v.version, state: 'failed', reason: v.reason });
    }
  }
}

/** Turns ONNX Runtime's view of the graph into protocol metadata, checking it against the config. */
export function describeModel(
  inputs: IoMetadata[],
  outputs: IoMetadata[],
  config: ModelConfig,
): { inputs: TensorMetadata[]; outputs: TensorMetadata[] } {
  const convert = (io: IoMetadata, role: string): TensorMetadata => {
    const datatype = datatypeOf(io.type);
    if (!datatype) throw new Error(`${role} '${io.name}' has type ${io.type}, which the inference protocol cannot carry`);
    const shape = io.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
    if (config.max_batch_size > 0 && (shape.length === 0 || shape[0] !== -1)) {
      throw new Error(
        `config.json sets max_batch_size ${config.max_batch_size}, but ${role} '${io.name}' has shape ` +
          `[${shape.join(', ')}] without a variable first (batch) dimension; set max_batch_size to 0`,
      );
    }
    return { name: io.name, datatype, shape };
  };
  const labelCount = config.labels?.length;
  const described = {
    inputs: inputs.map((i) => convert(i, 'input')),
    outputs: outputs.map((o) => convert(o, 'output')),
  };
  if (labelCount !== undefined && !described.outputs.some((o) => o.shape[o.shape.length - 1] === labelCount)) {
    throw new Error(`config.json lists ${labelCount} labels, but no output has ${labelCount} classes in its last dimension`);
  }
  return described;
}
