// The agent's Prometheus metrics, on a registry of its own (never prom-client's global one, so
// several agents in one process, as in tests, do not collide). Components emit events; this
// module subscribes and turns them into series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram, type CounterHandle, type HistogramHandle } from './hotSeries.js';
import { OPENMETRICS_CONTENT_TYPE, toOpenMetrics } from './openMetrics.js';
import type { VersionState } from '../../../common/api.js';
import type { DynamicBatcher } from '../batching/dynamicBatcher.js';
import type { BreakerState, CircuitBreaker } from '../resilience/circuitBreaker.js';
import type { FeatureCache } from '../features/featureCache.js';
import type { GpuDevice, GpuSampler } from './gpuSampler.js';

/** Seconds; from sub-millisecond CPU runs of small models to multi-second GPU batches. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Rows per batch: powers of two up to well past typical max_batch_size values. */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** inferscope_breaker_state values. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

const VERSION_STATES: VersionState[] = ['loading', 'ready', 'failed', 'unloaded'];

export interface InferenceOutcome {
  model: string;
  version: string;
  /** "success", or the kind of the typed error that ended the request. */
  outcome: string;
  durationS: number;
  /** The request's record id, when requests are recorded (the latency histogram's exemplar). */
  requestId?: string;
  /** The model failed the request (as the breaker counts it); false for client errors too. */
  modelFailure: boolean;
  /** Top-1 class and score per row, for classifiers. */
  classes?: number[];
  confidences?: number[];
  labels?: string[];
}

/** Per-class series per version are bounded: classes beyond this index are counted as "other". */
export const MAX_CLASS_SERIES = 64;
export const CONFIDENCE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

export class AgentMetrics {
  readonly registry = new Registry();
  // The series every request or batch updates are hot series (see hotSeries.ts).
  private readonly requests: HotCounter;
  private readonly duration: HotHistogram;
  private readonly http: HotCounter;
  private readonly grpc: HotCounter;
  private readonly deviceBusy: HotCounter;
  private readonly batchReleases: HotCounter;
  private readonly modelState: Gauge<'model' | 'version' | 'state'>;
  private readonly queueDuration: HotHistogram;
  private readonly computeDuration: HotHistogram;
  private readonly batchSize: HotHistogram;
  private readonly inferenceCount: HotCounter;
  private readonly execCount: HotCounter;
  private readonly rejected: Counter<'model' | 'version' | 'reason'>;
  private readonly breakerTransitions: Counter<'model' | 'version' | 'from' | 'to'>;
  private readonly breakerRejected: Counter<'model' | 'version'>;
  private readonly breakerCalls: HotCounter;
  private readonly modelInfo: Gauge<'model' | 'version' | 'provider'>;
  private readonly gpuErrors: Counter;
  private gpu: GpuSampler | undefined;
  private readonly predictions: HotCounter;
  private readonly confidence: HotHistogram;
  private readonly canaryWeight: Gauge<'model' | 'version'>;
  private readonly canaryChecks: Counter<'model' | 'metric' | 'verdict'>;
  private readonly canaryDecisions: Counter<'model' | 'decision'>;
  private readonly cacheLookups: Counter<'model' | 'result'>;
  private readonly cacheEvictions: Counter<'model' | 'reason'>;
  private readonly sourceFetch: Histogram<'model' | 'source'>;
  private readonly sourceErrors: Counter<'model' | 'source'>;
  private readonly caches = new Map<string, FeatureCache>();
  private readonly breakers = new Map<string, { model: string; version: string; breaker: CircuitBreaker }>();
  private readonly batchers = new Map<string, { model: string; version: string; batcher: DynamicBatcher }>();
  /** Handles of the hot series, by a key of their label values. */
  private readonly handles = new Map<string, CounterHandle & HistogramHandle>();

  private handle<T extends CounterHandle | HistogramHandle>(key: string, make: () => T): T {
    let h = this.handles.get(key) as T | undefined;
    if (!h) this.handles.set(key, (h = make()) as never);
    return h;
  }

  constructor(agentVersion: string) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client's sums of nodejs_active_{handles,requests,resources} are gauges named *_total,
    // which Prometheus' naming rules (and promtool) reserve for counters; the per-type gauges stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    new Gauge({
      name: 'inferscope_build_info',
      help: 'Always 1; labels say which agent build is running.',
      labelNames: ['version', 'node_version'],
      registers: [this.registry],
    }).set({ version: agentVersion, node_version: process.version }, 1);
    this.requests = new HotCounter('inferscope_inference_requests_total', 'Inference requests that reached a model version, by outcome (success or the error kind).', ['model', 'version', 'outcome'], this.registry);
    this.duration = new HotHistogram('inferscope_inference_request_duration_seconds', 'Time from receiving an inference request to its answer, successful requests only.', ['model', 'version'], LATENCY_BUCKETS, this.registry);
    this.http = new HotCounter('inferscope_http_requests_total', 'HTTP requests by method, route pattern and status code.', ['method', 'route', 'code'], this.registry);
    this.batchReleases = new HotCounter(
      'inferscope_batch_releases_total',
      'Batches released from the queue, by why they left when they did: unbatched, instance_idle, max_queue_delay, max_batch_size, preferred_size, full_to_busy_instance, bisect (half of a failed batch, run again).',
      ['model', 'version', 'reason'],
      this.registry,
    );
    this.deviceBusy = new HotCounter(
      'inferscope_device_busy_seconds_total',
      'Time the device spent running batches of each version (device: cpu or the GPU provider). On a GPU provider the versions share one device, so their rates add up to at most 1 per device; on cpu each instance counts.',
      ['model', 'version', 'device'],
      this.registry,
    );
    this.grpc = new HotCounter('inferscope_grpc_calls_total', 'gRPC calls by method and status code (the gRPC form of inferscope_http_requests_total).', ['rpc', 'code'], this.registry);
    const mv = ['model', 'version'] as const;
    const registers = [this.registry];
    this.queueDuration = new HotHistogram('inferscope_queue_duration_seconds', 'Time a request waited in its version\'s queue before its batch was dispatched.', ['model', 'version'], LATENCY_BUCKETS, this.registry);
    this.computeDuration = new HotHistogram('inferscope_compute_duration_seconds', 'Time to run one batch on an inference instance (including the hand-off to its worker thread).', ['model', 'version'], LATENCY_BUCKETS, this.registry);
    this.batchSize = new HotHistogram('inferscope_batch_size', 'Rows per executed batch.', ['model', 'version'], BATCH_SIZE_BUCKETS, this.registry);
    this.inferenceCount = new HotCounter('inferscope_inference_count_total', 'Rows inferred (Triton nv_inference_count); divided by executions it gives the average batch size.', ['model', 'version'], this.registry);
    this.execCount = new HotCounter('inferscope_inference_exec_count_total', 'Batch executions (Triton nv_inference_exec_count).', ['model', 'version'], this.registry);
    this.rejected = new Counter({
      name: 'inferscope_queue_rejections_total',
      help: 'Requests the queue turned away, by reason (queue_full, timeout, cancelled).',
      labelNames: ['model', 'version', 'reason'],
      registers,
    });
    const batchers = this.batchers;
    new Gauge({
      name: 'inferscope_pending_requests',
      help: 'Requests waiting in the queue of each version.',
      labelNames: mv,
      registers,
      collect() {
        for (const b of batchers.values()) this.set({ model: b.model, version: b.version }, b.batcher.queueDepth);
      },
    });
    const breakers = this.breakers;
    new Gauge({
      name: 'inferscope_breaker_state',
      help: 'Circuit breaker state per version: 0 closed, 1 half-open, 2 open.',
      labelNames: mv,
      registers,
      collect() {
        for (const b of breakers.values()) this.set({ model: b.model, version: b.version }, BREAKER_STATE_VALUE[b.breaker.currentState]);
      },
    });
    this.breakerTransitions = new Counter({
      name: 'inferscope_breaker_transitions_total',
      help: 'Circuit breaker transitions by from and to state.',
      labelNames: ['model', 'version', 'from', 'to'],
      registers,
    });
    this.breakerRejected = new Counter({
      name: 'inferscope_breaker_rejected_requests_total',
      help: 'Requests rejected by an open or half-open circuit breaker.',
      labelNames: mv,
      registers,
    });
    this.breakerCalls = new HotCounter('inferscope_breaker_calls_total', 'Calls recorded by the circuit breaker, by outcome (success, failure; slow counts calls over slow_call_ms, in addition).', ['model', 'version', 'outcome'], this.registry);
    this.modelInfo = new Gauge({
      name: 'inferscope_model_info',
      help: 'Always 1 for each loaded version; provider is the execution provider it actually runs on (webgpu, cuda, cpu, ...), after any fallback.',
      labelNames: ['model', 'version', 'provider'],
      registers,
    });
    // GPU series are rebuilt from the sampler at every scrape: a GPU or a field that is gone has
    // no series, rather than a stale one.
    const gpuDevices = () => (this.gpu?.status.detected ? this.gpu.status.devices : []);
    for (const [name, help, pick] of [
      ['inferscope_gpu_utilization_ratio', 'GPU utilization (0..1) from nvidia-smi.', (d: GpuDevice) => d.utilization],
      ['inferscope_gpu_memory_used_bytes', 'GPU memory in use.', (d: GpuDevice) => d.memory_used_bytes],
      ['inferscope_gpu_memory_total_bytes', 'GPU memory in total.', (d: GpuDevice) => d.memory_total_bytes],
      ['inferscope_gpu_temperature_celsius', 'GPU temperature.', (d: GpuDevice) => d.temperature_celsius],
      ['inferscope_gpu_power_watts', 'GPU power draw.', (d: GpuDevice) => d.power_watts],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ['gpu'],
        registers,
        collect() {
          this.reset();
          for (const d of gpuDevices()) {
            const v = pick(d);
            if (v !== undefined) this.set({ gpu: String(d.index) }, v);
          }
        },
      });
    }
    new Gauge({
      name: 'inferscope_gpu_info',
      help: 'Always 1 per GPU; labels carry its name, UUID and MIG mode.',
      labelNames: ['gpu', 'name', 'uuid', 'mig_mode'],
      registers,
      collect() {
        this.reset();
        for (const d of gpuDevices()) this.set({ gpu: String(d.index), name: d.name, uuid: d.uuid, mig_mode: d.mig_mode ?? 'unknown' }, 1);
      },
    });
    this.gpuErrors = new Counter({
      name: 'inferscope_gpu_sample_errors_total',
      help: 'GPU samples skipped: nvidia-smi failed, hung past its timeout, or printed output that could not be parsed.',
      registers,
    });
    this.predictions = new HotCounter('inferscope_predictions_total', `Predicted (top-1) classes per version; class is the label (or index); classes past index ${MAX_CLASS_SERIES} are counted as "other".`, ['model', 'version', 'class'], this.registry);
    this.confidence = new HotHistogram('inferscope_prediction_confidence', 'Top-1 score of each prediction.', ['model', 'version'], CONFIDENCE_BUCKETS, this.registry);
    this.canaryWeight = new Gauge({
      name: 'inferscope_canary_weight_ratio',
      help: 'Share of a model\'s unversioned traffic each version gets while a canary runs (0..1).',
      labelNames: mv,
      registers,
    });
    this.canaryChecks = new Counter({
      name: 'inferscope_canary_metric_verdicts_total',
      help: 'Canary check results per metric, by verdict (pass, fail, inconclusive).',
      labelNames: ['model', 'metric', 'verdict'],
      registers,
    });
    this.canaryDecisions = new Counter({
      name: 'inferscope_canary_decisions_total',
      help: 'Canary check decisions: continue, next_step, promote, rollback, abort.',
      labelNames: ['model', 'decision'],
      registers,
    });
    this.cacheLookups = new Counter({
      name: 'inferscope_feature_cache_lookups_total',
      help: 'Feature cache look-ups per entity, by result: hit, miss, stale (served past its TTL while refreshing), negative_hit (a cached "not found").',
      labelNames: ['model', 'result'],
      registers,
    });
    this.cacheEvictions = new Counter({
      name: 'inferscope_feature_cache_evictions_total',
      help: 'Feature cache entries removed, by reason: capacity (entries or bytes bound), expired.',
      labelNames: ['model', 'reason'],
      registers,
    });
    const caches = this.caches;
    new Gauge({
      name: 'inferscope_feature_cache_entries',
      help: 'Entries in the feature cache.',
      labelNames: ['model'],
      registers,
      collect() {
        for (const [model, c] of caches) this.set({ model }, c.stats().entries);
      },
    });
    new Gauge({
      name: 'inferscope_feature_cache_bytes',
      help: 'Bytes held by the feature cache (vectors, keys and per-entry overhead).',
      labelNames: ['model'],
      registers,
      collect() {
        for (const [model, c] of caches) this.set({ model }, c.stats().bytes);
      },
    });
    this.sourceFetch = new Histogram({
      name: 'inferscope_feature_source_fetch_duration_seconds',
      help: 'Time of one fetch from the feature source (all of a request\'s missing keys in one round trip).',
      labelNames: ['model', 'source'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.sourceErrors = new Counter({
      name: 'inferscope_feature_source_errors_total',
      help: 'Failed fetches from the feature source.',
      labelNames: ['model', 'source'],
      registers,
    });
    this.modelState = new Gauge({
      name: 'inferscope_model_state',
      help: 'State of each model version (1 for the current state, 0 otherwise).',
      labelNames: ['model', 'version', 'state'],
      registers: [this.registry],
    });
  }

  /** The exposition text, in OpenMetrics format when asked for, else Prometheus text 0.0.4. */
  async expose(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    const text = await this.registry.metrics();
    if (!openMetrics) return { contentType: this.registry.contentType, body: text };
    // The latency histogram's buckets carry the id of their latest request: a dashboard's spike
    // opens GET /api/v1/requests/{id}.
    const exemplars = this.duration.exemplars();
    const prefix = `${this.duration.name}_bucket{`;
    const exemplarOf = (sample: string) => {
      if (exemplars.size === 0 || !sample.startsWith(prefix)) return undefined;
      const labels = Object.fromEntries([...sample.slice(prefix.length, sample.lastIndexOf('}')).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      const e = exemplars.get(`${labels.model}\0${labels.version}\0${labels.le}`);
      return e && `{request_id="${e.id}"} ${e.value} ${e.at.toFixed(3)}`;
    };
    return { contentType: OPENMETRICS_CONTENT_TYPE, body: toOpenMetrics(text, exemplarOf) };
  }

  onInference(o: InferenceOutcome): void {
    const { model, version } = o;
    const mv = `${model}\0${version}`;
    this.handle(`r\0${mv}\0${o.outcome}`, () => this.requests.series(model, version, o.outcome)).inc();
    if (o.outcome !== 'success') return;
    this.handle(`d\0${mv}`, () => this.duration.series(model, version)).observe(o.durationS, o.requestId);
    if (!o.classes) return;
    const confidence = this.handle(`c\0${mv}`, () => this.confidence.series(model, version));
    o.classes.forEach((c, i) => {
      const name = c >= MAX_CLASS_SERIES ? 'other' : (o.labels?.[c] ?? String(c));
      this.handle(`p\0${mv}\0${name}`, () => this.predictions.series(model, version, name)).inc();
      confidence.observe(o.confidences![i]!);
    });
  }

  /** A canary's weights, check results and decisions. */
  onCanary(c: { model: string; baseline: string; candidate: string; weight: number; state: string }, check?: { decision: string; metrics: { name: string; verdict: string }[] }): void {
    const running = c.state === 'running';
    this.canaryWeight.set({ model: c.model, version: c.candidate }, running ? c.weight / 100 : 0);
    this.canaryWeight.set({ model: c.model, version: c.baseline }, running ? 1 - c.weight / 100 : 0);
    for (const m of check?.metrics ?? []) this.canaryChecks.inc({ model: c.model, metric: m.name, verdict: m.verdict });
    if (check) this.canaryDecisions.inc({ model: c.model, decision: check.decision });
    else if (c.state === 'aborted') this.canaryDecisions.inc({ model: c.model, decision: 'abort' });
  }

  /**
   * Creates a version's series at zero as soon as it loads. A counter that first appears with a
   * value loses that first increment in PromQL's increase()/rate(); a canary reading Prometheus
   * would then under-count a new version (the candidate) against an old one.
   */
  initVersion(model: string, version: string, classNames: string[] = []): void {
    for (const outcome of ['success', 'invalid_input', 'execution_failed', 'worker_crashed', 'timeout', 'client_timeout', 'queue_full', 'circuit_open']) {
      this.requests.series(model, version, outcome);
    }
    for (const m of [this.duration, this.queueDuration, this.computeDuration, this.batchSize, this.confidence, this.inferenceCount, this.execCount]) m.series(model, version);
    for (const name of classNames.slice(0, MAX_CLASS_SERIES)) this.predictions.series(model, version, name);
    if (classNames.length > MAX_CLASS_SERIES) this.predictions.series(model, version, 'other');
  }

  /** GPU series come from this sampler (none without one). */
  observeGpu(sampler: GpuSampler): void {
    this.gpu = sampler;
    sampler.on('error', () => this.gpuErrors.inc());
  }

  onModelInfo(model: string, version: string, provider: string): void {
    this.modelInfo.set({ model, version, provider }, 1);
  }

  /** Subscribes to a version's batcher. */
  observeBatcher(model: string, version: string, batcher: DynamicBatcher): void {
    const labels = { model, version };
    this.batchers.set(`${model}/${version}`, { model, version, batcher });
    const queue = this.queueDuration.series(model, version);
    const compute = this.computeDuration.series(model, version);
    const size = this.batchSize.series(model, version);
    const rows = this.inferenceCount.series(model, version);
    const execs = this.execCount.series(model, version);
    batcher.on('dequeued', (s) => queue.observe(s));
    const releases = new Map<string, CounterHandle>();
    batcher.on('batch', (e) => {
      compute.observe(e.computeS);
      let released = releases.get(e.reason);
      if (!released) releases.set(e.reason, (released = this.batchReleases.series(model, version, e.reason)));
      released.inc();
      if (!e.ok) return;
      size.observe(e.rows);
      rows.inc(e.rows);
      execs.inc();
    });
    batcher.on('rejected', (reason) => this.rejected.inc({ ...labels, reason }));
  }

  /** Subscribes to a version's circuit breaker. */
  observeBreaker(model: string, version: string, breaker: CircuitBreaker): void {
    const labels = { model, version };
    this.breakers.set(`${model}/${version}`, { model, version, breaker });
    this.breakerRejected.inc(labels, 0);
    breaker.on('transition', (t) => this.breakerTransitions.inc({ ...labels, from: t.from, to: t.to }));
    breaker.on('rejected', () => this.breakerRejected.inc(labels));
    const calls = new Map(['success', 'failure', 'slow'].map((o) => [o, this.breakerCalls.series(model, version, o)]));
    breaker.on('call', (outcome) => calls.get(outcome)?.inc());
  }

  /** Subscribes to a model's feature cache. */
  observeFeatureCache(model: string, cache: FeatureCache): void {
    this.caches.set(model, cache);
    const source = cache.source.kind;
    for (const result of ['hit', 'miss', 'stale', 'negative_hit']) this.cacheLookups.inc({ model, result }, 0);
    for (const reason of ['capacity', 'expired']) this.cacheEvictions.inc({ model, reason }, 0);
    this.sourceErrors.inc({ model, source }, 0);
    cache.on('lookup', (result, n) => this.cacheLookups.inc({ model, result }, n));
    cache.on('eviction', (reason) => this.cacheEvictions.inc({ model, reason }));
    cache.on('fetch', (s, ok) => {
      this.sourceFetch.observe({ model, source }, s);
      if (!ok) this.sourceErrors.inc({ model, source });
    });
  }

  onHttp(method: string, route: string, code: number): void {
    this.handle(`h\0${method}\0${route}\0${code}`, () => this.http.series(method, route, String(code))).inc();
  }

  onDeviceBusy(model: string, version: string, device: string, seconds: number): void {
    this.handle(`d\0${model}\0${version}\0${device}`, () => this.deviceBusy.series(model, version, device)).inc(seconds);
  }

  onGrpc(rpc: string, code: string): void {
    this.handle(`g\0${rpc}\0${code}`, () => this.grpc.series(rpc, code)).inc();
  }

  onModelState(model: string, version: string, state: VersionState): void {
    for (const s of VERSION_STATES) this.modelState.set({ model, version, state: s }, s === state ? 1 : 0);
  }
}
