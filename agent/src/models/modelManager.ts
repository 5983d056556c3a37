// Owns every model version the agent serves: loads them from the repository into instance pools,
// tracks their state (loading, ready, failed, unloaded) and answers look-ups by name and version.
// Models can be loaded again (re-read from disk) and unloaded while serving: a reload builds and
// warms the new versions beside the old ones and swaps them in at once; a replaced or unloaded
// version is closed when the requests that chose it are done.
import { EventEmitter } from 'node:events';
import { join, relative, sep } from 'node:path';
import type {
  ModelMetadata,
  ModelStatus,
  RepositoryIndexEntry,
  TensorMetadata,
  VersionState,
} from '../../../common/api.js';
import { ConflictError, InvalidInputError, ModelLoadError, ModelNotReadyError, NotFoundError, WorkerCrashedError } from '../errors.js';
import { DynamicBatcher } from '../batching/dynamicBatcher.js';
import type { FaultInjector } from '../faults/faultInjector.js';
import { FeatureCache } from '../features/featureCache.js';
import type { FeatureSource } from '../features/featureSource.js';
import { FileFeatureSource } from '../features/fileFeatureSource.js';
import { RedisFeatureSource } from '../features/redisFeatureSource.js';
import type { DeviceThreads } from '../inference/deviceThread.js';
import { placeVersion } from '../inference/placeVersion.js';
import type { VersionPool } from '../inference/versionPool.js';
import { warmUp } from '../inference/warmUp.js';
import { CircuitBreaker } from '../resilience/circuitBreaker.js';
import { DEFAULT_BREAKER_SETTINGS } from '../resilience/breakerSettings.js';
import { systemClock, type Clock } from '../time/clock.js';
import { datatypeOf } from '../inference/tensorTypes.js';
import type { IoMetadata } from '../inference/workerProtocol.js';
import type { Logger } from '../log/logger.js';
import { providerSpecs, type ModelConfig } from '../repository/modelConfig.js';
import { MODEL_NAME_RULE, VERSION_RULE, isValidModelName, isValidVersion } from '../repository/names.js';
import { fileFingerprint, modelFingerprint, readModel, scanRepository, type ModelEntry } from '../repository/scanRepository.js';
import { ServableUsage } from './servableUsage.js';
import { ProvenShapes } from '../serving/provenShapes.js';
import type { ModelDefaults } from '../repository/modelDefaults.js';

export interface ServableVersion {
  model: string;
  version: string;
  config: ModelConfig;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  pool: VersionPool;
  batcher: DynamicBatcher;
  breaker: CircuitBreaker;
  /** The execution provider it runs on ("cpu", "webgpu", ...). */
  provider: string;
  /** Providers tried before it, each with why it could not load the version. */
  fallbacks: string[];
  /** The model's feature cache (shared by its versions), when its config names a feature source. */
  features?: FeatureCache;
  /** The requests using this version (a retired version closes when they are done). */
  usage: ServableUsage;
  /** Input shapes that have run on this version (see provenShapes.ts). */
  shapes: ProvenShapes;
}

interface VersionRecord {
  version: string;
  modelPath: string;
  state: VersionState;
  reason?: string;
  provider?: string;
  fallbacks?: string[];
  servable?: ServableVersion;
  /** Size and mtime of model.onnx when it was loaded. */
  fingerprint?: string;
}

interface ModelRecord {
  name: string;
  dir: string;
  config?: ModelConfig;
  features?: FeatureCache;
  error?: string;
  defaultVersion?: string;
  /** The default was set by a promotion (kept across reloads while the version exists). */
  defaultPinned?: boolean;
  versions: Map<string, VersionRecord>;
  /** modelFingerprint() of the folder when it was last read (the repository poll compares it). */
  fingerprint: string;
  /** Why the last load request failed (the serving versions were kept). */
  lastLoadError?: string;
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
  /** The device threads of GPU providers (one per provider, shared by every version on it). */
  deviceThreads: DeviceThreads;
  logger: Logger;
  faults: FaultInjector;
  clock?: Clock;
  /** The agent's request bounds: warm-up stays within the largest request, outputs within theirs. */
  limits?: { maxElementsPerInput: number; maxElementsPerOutput: number };
}

export interface LoadOptions {
  /** A config.json text to use instead of the file (Triton's `config` load parameter). */
  configText?: string;
  /** Versions that must stay (a running canary's): a load that would drop one is refused. */
  keepVersions?: string[];
}

export interface BusyEvent {
  model: string;
  version: string;
  /** Where the batch ran: "cpu" or the GPU provider. */
  device: string;
  seconds: number;
}

export class ModelManager extends EventEmitter<{
  model: [ModelEvent];
  servable: [ServableVersion];
  features: [model: string, cache: FeatureCache];
  busy: [BusyEvent];
}> {
  private readonly models = new Map<string, ModelRecord>();
  private loading = true;
  /** One load or unload at a time per model. */
  private readonly busy = new Map<string, Promise<unknown>>();
  /** Versions replaced or unloaded whose requests are still finishing. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(private readonly opts: ModelManagerOptions) {
    super();
  }

  /** Reads the repository's layout and configs (fast, synchronous; throws if it is unusable). */
  scan(): void {
    const { models, skipped } = scanRepository(this.opts.repository, this.opts.modelDefaults);
    for (const s of skipped) this.opts.logger.warn('skipping folder in model repository', { folder: s });
    for (const entry of models) this.models.set(entry.name, this.record(entry, modelFingerprint(entry.dir)));
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

  /** True once no model or version is loading: each has loaded or failed (the start-up load is over). */
  get settled(): boolean {
    if (this.loading) return false;
    for (const m of this.models.values()) for (const v of m.versions.values()) if (v.state === 'loading') return false;
    return true;
  }

  /** True once loading finished and every model that should load has loaded (unloaded ones aside). */
  get ready(): boolean {
    if (this.loading) return false;
    for (const m of this.models.values()) {
      if (m.error && ![...m.versions.values()].some((v) => v.state === 'ready')) return false;
      for (const v of m.versions.values()) if (v.state !== 'ready' && v.state !== 'unloaded') return false;
    }
    return true;
  }

  /** Model names in the repository, as last read. */
  names(): string[] {
    return [...this.models.keys()];
  }

  /** The version to serve for a request; `version` undefined means the model's default. */
  resolve(name: string, version?: string): ServableVersion {
    const { model, record } = this.lookup(name, version);
    if (record.state === 'ready' && record.servable) return record.servable;
    const label = `${model.name}/${record.version}`;
    if (record.state === 'loading') throw new ModelNotReadyError(`model ${label} is still loading; retry shortly`, 1);
    if (record.state === 'unloaded') throw new NotFoundError(`model ${label} is unloaded (${record.reason ?? 'by request'}); load it with POST /v2/repository/models/${model.name}/load`);
    throw new ModelNotReadyError(`model ${label} is not available: ${record.reason ?? record.state}`);
  }

  /** A loaded version with its model.onnx, relative to the repository too (the inspector reads it). */
  servedFile(name: string, version: string): { servable: ServableVersion; path: string; relative: string } {
    const servable = this.resolve(name, version);
    const { record } = this.lookup(name, version);
    return { servable, path: record.modelPath, relative: relative(this.opts.repository, record.modelPath).split(sep).join('/') };
  }

  /** Triton's model metadata: from the default (or named) version, listing every version. */
  metadata(name: string, version?: string): ModelMetadata {
    const servable = this.resolve(name, version);
    const model = this.models.get(name)!;
    return {
      name,
      versions: [...model.versions.values()].filter((v) => v.state !== 'unloaded').map((v) => v.version),
      platform: 'onnxruntime_onnx',
      inputs: servable.inputs,
      outputs: servable.outputs,
    };
  }

  /**
   * Whether a model (or version) exists and can serve: loaded, with a live inference instance
   * (none while a crashed one is being replaced). Throws NotFoundError if it does not exist.
   */
  isReady(name: string, version?: string): boolean {
    const { record } = this.lookup(name, version);
    return live(record);
  }

  index(): RepositoryIndexEntry[] {
    const out: RepositoryIndexEntry[] = [];
    for (const m of this.models.values()) {
      if (m.error && m.versions.size === 0) {
        out.push({ name: m.name, version: '', state: 'UNAVAILABLE', reason: m.error });
        continue;
      }
      for (const v of m.versions.values()) {
        const state = live(v) ? 'READY' : v.state === 'loading' ? 'LOADING' : 'UNAVAILABLE';
        const reason = v.reason ?? (v.state === 'ready' ? (live(v) ? m.lastLoadError : NO_INSTANCE) : m.error);
        out.push({ name: m.name, version: v.version, state, ...(reason ? { reason } : {}) });
      }
    }
    return out;
  }

  status(): ModelStatus[] {
    return [...this.models.values()].map((m) => ({
      name: m.name,
      ...(m.error ? { error: m.error } : {}),
      ...(m.lastLoadError ? { last_load_error: m.lastLoadError } : {}),
      ...(m.defaultVersion ? { default_version: m.defaultVersion } : {}),
      versions: [...m.versions.values()].map((v) => ({
        version: v.version,
        state: v.state,
        ...(v.reason ? { reason: v.reason } : {}),
        ...(v.provider ? { execution_provider: v.provider } : {}),
        ...(v.fallbacks?.length ? { provider_fallbacks: v.fallbacks } : {}),
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
    const closing: Promise<void>[] = [...this.retiring];
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

  /**
   * Triton's explicit load: reads the model's folder again (new versions, a changed config.json or
   * model file, or `configText`) and swaps the changed versions in once they are loaded and warm.
   * Unchanged versions keep serving untouched. If anything fails to load, nothing changes and the
   * error says why.
   */
  load(name: string, options: LoadOptions = {}): Promise<void> {
    this.checkName(name);
    this.checkStarted();
    return this.exclusive(name, () => this.reload(name, options));
  }

  /** Loads and unloads wait for the start-up load (it fills the records they replace). */
  private checkStarted(): void {
    if (this.loading) throw new ModelNotReadyError('the agent is still loading its models; retry shortly', 1);
  }

  /** Triton's unload: the model stops taking requests, those in flight finish, then it is closed. */
  unload(name: string, reason = `unloaded by request`): Promise<void> {
    this.checkName(name);
    this.checkStarted();
    return this.exclusive(name, async () => {
      const model = this.models.get(name);
      if (!model) throw new NotFoundError(`unknown model "${name}"; models in the repository: ${this.known()}`);
      const retired: Promise<void>[] = [];
      for (const v of model.versions.values()) {
        if (v.servable) retired.push(this.retire(v.servable));
        v.servable = undefined;
        if (v.state === 'unloaded') continue;
        v.state = 'unloaded';
        v.reason = reason;
        this.emit('model', { model: name, version: v.version, state: 'unloaded', reason });
      }
      this.opts.logger.info('model unloading', { model: name, reason });
      await Promise.all(retired);
      if (model.features) {
        await model.features.close();
        model.features = undefined;
      }
      this.opts.logger.info('model unloaded', { model: name });
    });
  }

  private async exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const before = this.busy.get(name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    this.busy.set(name, run);
    try {
      return await run;
    } finally {
      if (this.busy.get(name) === run) this.busy.delete(name);
    }
  }

  private checkName(name: string): void {
    if (!isValidModelName(name)) throw new InvalidInputError(`"${name}" is not a valid model name: ${MODEL_NAME_RULE}`);
  }

  private known(): string {
    return [...this.models.keys()].join(', ') || 'none';
  }

  private async reload(name: string, options: LoadOptions): Promise<void> {
    const dir = join(this.opts.repository, name);
    const fingerprint = modelFingerprint(dir);
    if (fingerprint === 'missing') throw new NotFoundError(`no folder ${dir} in the model repository`);
    const entry = readModel(name, dir, this.opts.modelDefaults ?? {}, options.configText);
    const old = this.models.get(name);
    const refuse = (reason: string): never => {
      if (old) old.lastLoadError = reason;
      this.opts.logger.error('model load failed; the serving versions are kept', { model: name, reason });
      throw new ModelLoadError(`failed to load ${name}: ${reason}${old && this.servingVersions(old).length ? '; the versions already loaded keep serving' : ''}`);
    };
    if (entry.error || !entry.config) return refuse(entry.error ?? 'no config');
    const broken = entry.versions.find((v) => v.error);
    if (broken) return refuse(broken.error!);
    const dropped = (options.keepVersions ?? []).filter((v) => !entry.versions.some((e) => e.version === v));
    if (dropped.length) throw new ConflictError(`${name} version ${dropped.join(', ')} is in a running canary and has no folder any more; abort the canary first`);

    const config = entry.config;
    const sameConfig = old?.config !== undefined && JSON.stringify(old.config) === JSON.stringify(config);
    const sameFeatures = old?.config !== undefined && JSON.stringify(old.config.features) === JSON.stringify(config.features);
    const next: ModelRecord = { name, dir, config, versions: new Map(), fingerprint, ...(entry.defaultVersion ? { defaultVersion: entry.defaultVersion } : {}) };
    // The feature cache is kept when its settings did not change (its entries stay warm).
    if (sameFeatures && old?.features) next.features = old.features;
    else this.openFeatures(next);
    if (next.error) return refuse(next.error);

    const unchanged = (v: { version: string; modelPath: string }): VersionRecord | undefined => {
      const prev = old?.versions.get(v.version);
      return sameConfig && prev?.state === 'ready' && prev.servable && prev.fingerprint === fileFingerprint(v.modelPath) ? prev : undefined;
    };
    const built = await Promise.allSettled(
      entry.versions.map(async (v) => {
        const kept = unchanged(v);
        if (kept) return { record: kept, fresh: false };
        const record: VersionRecord = { version: v.version, modelPath: v.modelPath, state: 'loading', fingerprint: fileFingerprint(v.modelPath) };
        const servable = await this.buildServable(next, record);
        return { record: { ...record, state: 'ready' as const, servable, provider: servable.provider, fallbacks: servable.fallbacks }, fresh: true };
      }),
    );
    const failure = built.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failure) {
      await Promise.all(built.flatMap((b) => (b.status === 'fulfilled' && b.value.fresh ? [b.value.record.servable!.pool.close()] : [])));
      if (next.features && next.features !== old?.features) await next.features.close();
      return refuse((failure.reason as Error).message);
    }

    // The swap: from here on new requests resolve to the new versions.
    const fresh: VersionRecord[] = [];
    for (const b of built as PromiseFulfilledResult<{ record: VersionRecord; fresh: boolean }>[]) {
      next.versions.set(b.value.record.version, b.value.record);
      if (b.value.fresh) fresh.push(b.value.record);
    }
    if (old?.defaultPinned && old.defaultVersion && next.versions.has(old.defaultVersion) && config.default_version === undefined) {
      next.defaultVersion = old.defaultVersion;
      next.defaultPinned = true;
    }
    this.models.set(name, next);
    for (const r of fresh) this.announce(next, r);
    // What the new record no longer serves: replaced versions, removed folders, a replaced cache.
    const retired: Promise<void>[] = [];
    for (const prev of old?.versions.values() ?? []) {
      const now = next.versions.get(prev.version);
      if (prev.servable && now?.servable !== prev.servable) retired.push(this.retire(prev.servable));
      if (!now && prev.state !== 'unloaded') {
        // Its folder is gone: it is listed as unloaded, as Triton's index does.
        next.versions.set(prev.version, { version: prev.version, modelPath: prev.modelPath, state: 'unloaded', reason: 'its folder was removed from the repository' });
        this.emit('model', { model: name, version: prev.version, state: 'unloaded', reason: 'its folder was removed from the repository' });
      }
    }
    // The old cache serves the retired versions' last requests: close it after them.
    const oldFeatures = old?.features;
    if (oldFeatures && oldFeatures !== next.features) void Promise.all(retired).then(() => oldFeatures.close());
    this.opts.logger.info('model loaded from the repository', { model: name, reloaded: fresh.map((r) => r.version).join(',') || 'none', kept: [...next.versions.values()].filter((r) => !fresh.includes(r) && r.state === 'ready').map((r) => r.version).join(',') || 'none' });
  }

  private servingVersions(model: ModelRecord): string[] {
    return [...model.versions.values()].filter((v) => v.state === 'ready').map((v) => v.version);
  }

  /** Closes a version once every request that chose it has been answered. */
  private retire(servable: ServableVersion): Promise<void> {
    const done = (async () => {
      await servable.usage.idle();
      await servable.pool.close();
      this.opts.logger.debug('retired model version closed', { model: `${servable.model}/${servable.version}` });
    })();
    this.retiring.add(done);
    void done.finally(() => this.retiring.delete(done));
    return done;
  }

  private lookup(name: string, version?: string): { model: ModelRecord; record: VersionRecord } {
    // The hot path: a known model and version (their names were validated when they were read).
    const known = this.models.get(name);
    const hit = known?.versions.get(version ?? known.defaultVersion ?? '');
    if (known && hit) return { model: known, record: hit };
    this.checkName(name);
    if (version !== undefined && !isValidVersion(version)) {
      throw new InvalidInputError(`"${version}" is not a valid version: ${VERSION_RULE}`);
    }
    const model = this.models.get(name);
    if (!model) throw new NotFoundError(`unknown model "${name}"; models in the repository: ${this.known()}`);
    const wanted = version ?? model.defaultVersion;
    const record = wanted === undefined ? undefined : model.versions.get(wanted);
    if (!record) {
      if (version === undefined) throw new ModelNotReadyError(`model ${name} is not available: ${model.error ?? 'no version'}`);
      const known = [...model.versions.keys()].join(', ') || 'none';
      throw new NotFoundError(`model ${name} has no version ${version}; its versions: ${known}`);
    }
    return { model, record };
  }

  private record(entry: ModelEntry, fingerprint: string): ModelRecord {
    const versions = new Map<string, VersionRecord>();
    for (const v of entry.versions) {
      versions.set(v.version, {
        version: v.version,
        modelPath: v.modelPath,
        state: v.error || entry.error ? 'failed' : 'loading',
        ...(v.error ? { reason: v.error } : {}),
        fingerprint: fileFingerprint(v.modelPath),
      });
    }
    return {
      name: entry.name,
      dir: entry.dir,
      versions,
      fingerprint,
      ...(entry.config ? { config: entry.config } : {}),
      ...(entry.error ? { error: entry.error } : {}),
      ...(entry.defaultVersion ? { defaultVersion: entry.defaultVersion } : {}),
    };
  }

  /** The fingerprint of a model's folder when it was last read (undefined: not known). */
  fingerprintOf(name: string): string | undefined {
    return this.models.get(name)?.fingerprint;
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
    model.defaultPinned = true;
    this.opts.logger.info('default version set', { model: name, version });
  }

  /** Feature caches by model name (for status and invalidation). */
  featureCaches(): Map<string, FeatureCache> {
    const out = new Map<string, FeatureCache>();
    for (const m of this.models.values()) if (m.features) out.set(m.name, m.features);
    return out;
  }

  /** Loads one version of the initial scan into its record. */
  private async loadVersion(model: ModelRecord, v: VersionRecord): Promise<void> {
    const label = `${model.name}/${v.version}`;
    if (v.state === 'failed') {
      this.opts.logger.error('model version failed to load', { model: label, reason: v.reason });
      this.emit('model', { model: model.name, version: v.version, state: 'failed', ...(v.reason ? { reason: v.reason } : {}) });
      return;
    }
    try {
      const servable = await this.buildServable(model, v);
      v.provider = servable.provider;
      v.fallbacks = servable.fallbacks;
      v.servable = servable;
      v.state = 'ready';
      this.announce(model, v);
    } catch (err) {
      v.state = 'failed';
      v.reason = (err as Error).message;
      this.opts.logger.error('model version failed to load', { model: label, reason: v.reason });
      this.emit('model', { model: model.name, version: v.version, state: 'failed', reason: v.reason });
    }
  }

  private announce(model: ModelRecord, v: VersionRecord): void {
    this.emit('servable', v.servable!);
    this.emit('model', { model: model.name, version: v.version, state: 'ready' });
  }

  /** Starts a version's instances, warms them up, and wires its batcher and breaker. */
  private async buildServable(model: ModelRecord, v: VersionRecord): Promise<ServableVersion> {
    const label = `${model.name}/${v.version}`;
    const config = model.config!;
    const started = Date.now();
    const { pool, info, device, fallbacks } = await placeVersion({
      modelPath: v.modelPath,
      providers: providerSpecs(config.execution_providers),
      intraOpThreads: config.intra_op_threads,
      instanceCount: config.instance_count,
      label,
      runTimeoutMs: config.run_timeout_ms,
      workerFile: this.opts.workerFile,
      threads: this.opts.deviceThreads,
      logger: this.opts.logger,
      onBusy: (where, ms) => this.emit('busy', { model: model.name, version: v.version, device: where, seconds: ms / 1000 }),
    });
    let described: { inputs: TensorMetadata[]; outputs: TensorMetadata[] };
    try {
      described = describeModel(info.inputs, info.outputs, config);
    } catch (err) {
      await pool.close();
      throw err;
    }
    const warmed = Date.now();
    const shapes = new ProvenShapes(config.max_batch_size > 0);
    try {
      const done = await warmUp(pool, described.inputs, described.outputs, {
        maxBatchSize: config.max_batch_size,
        instances: config.instance_count,
        maxElements: this.opts.limits?.maxElementsPerInput ?? Number.MAX_SAFE_INTEGER,
        ran: (feeds) => shapes.add(feeds),
      });
      if (done) this.opts.logger.debug('model warmed up', { model: label, ms: Date.now() - warmed });
    } catch (err) {
      if (err instanceof WorkerCrashedError || pool.size < config.instance_count) {
        // A version whose instance dies on zeros (out of memory at max_batch_size, say) would
        // report ready with nothing to run on: the load fails instead, and says why.
        await pool.close();
        throw new Error(`an inference instance crashed while warming up (${(err as Error).message}); lower max_batch_size or check the model`);
      }
      // A model that cannot run zeros may still serve real inputs: warn and go on.
      this.opts.logger.warn('model warm-up failed', { model: label, error: (err as Error).message });
    }
    for (const rejected of fallbacks) {
      this.opts.logger.info('execution provider unavailable, falling back', { model: label, detail: rejected, using: device });
    }
    const batching = config.dynamic_batching;
    const clock = this.opts.clock ?? systemClock;
    const faults = this.opts.faults;
    // Injected latency holds the batch's instance slot, as a slow model would.
    const runner = {
      get size() {
        return pool.size;
      },
      async run(feeds: Parameters<VersionPool['run']>[0], outputNames: string[], maxOutputElements?: number, placed?: Parameters<VersionPool['run']>[3]) {
        const delay = faults.latencyMs(model.name, v.version);
        if (delay > 0) await new Promise<void>((resolve) => clock.setTimer(delay, resolve));
        return pool.run(feeds, outputNames, maxOutputElements, placed);
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
        maxOutputElements: this.opts.limits?.maxElementsPerOutput ?? 0,
      },
      clock,
    );
    const breaker = new CircuitBreaker(label, config.breaker ?? DEFAULT_BREAKER_SETTINGS, clock);
    breaker.on('transition', (t) =>
      this.opts.logger[t.to === 'open' ? 'warn' : 'info']('circuit breaker transition', { model: label, from: t.from, to: t.to, reason: t.reason }),
    );
    const servable: ServableVersion = {
      model: model.name,
      version: v.version,
      config,
      pool,
      batcher,
      breaker,
      provider: info.provider,
      fallbacks,
      ...described,
      ...(model.features ? { features: model.features } : {}),
      usage: new ServableUsage(),
      shapes,
    };
    pool.once('exhausted', (reason) => {
      // The version cannot serve any more: say so everywhere (status, index, readiness), if it is
      // still the one serving.
      const current = this.models.get(model.name)?.versions.get(v.version);
      if (current?.servable !== servable) return;
      current.state = 'failed';
      current.reason = reason;
      this.emit('model', { model: model.name, version: v.version, state: 'failed', reason });
    });
    this.opts.logger.info('model loaded', { model: label, provider: info.provider, instances: pool.size, ms: Date.now() - started });
    return servable;
  }
}

const NO_INSTANCE = 'no inference instance is running (a crashed one is being replaced)';

function live(v: VersionRecord): boolean {
  return v.state === 'ready' && (v.servable?.pool.size ?? 0) > 0;
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
