// Wires the agent together and owns its lifecycle: listen, load models, drain and stop.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentStatus } from '../../common/api.js';
import type { AgentConfig } from './config/agentConfig.js';
import { ConfigError } from './errors.js';
import type { LevelledLogger } from './log/logger.js';
import { DeviceThreads } from './inference/deviceThread.js';
import { RequestLog } from './tracing/requestLog.js';
import { RequestRecorder } from './tracing/requestRecorder.js';
import { otlpTarget } from './tracing/otlpEndpoint.js';
import { TraceSettings } from './tracing/traceSettings.js';
import { ModelManager } from './models/modelManager.js';
import { RepositoryPoller } from './models/repositoryPoller.js';
import { startGrpcServer } from './grpc/grpcServer.js';
import { createFrontDoor } from './server/app.js';
import type { AppDeps } from './server/appDeps.js';
import { guardConnections, openFileLimit, RESERVED_FILES } from './server/connectionGuard.js';
import { DrainState } from './server/drainState.js';
import { SseHub } from './server/sseHub.js';
import { FaultInjector } from './faults/faultInjector.js';
import { CanaryController } from './canary/canaryController.js';
import { CanaryStore } from './canary/canaryStore.js';
import { headOf, statusCanaries } from './canary/canarySummaries.js';
import { PrometheusAllowlist } from './canary/prometheusUrls.js';
import { systemClock } from './time/clock.js';
import { GpuSampler } from './telemetry/gpuSampler.js';
import { InferenceService } from './serving/inferenceService.js';
import { ParserThread } from './serving/parserThread.js';
import { AgentMetrics } from './telemetry/agentMetrics.js';
import { InferenceStatistics } from './telemetry/inferenceStatistics.js';
import { AGENT_VERSION } from './version.js';

export interface RunningAgent {
  host: string;
  port: number;
  /** Undefined when gRPC is off. */
  grpcPort?: number;
  models: ModelManager;
  /** Resolves when every model has loaded or failed. */
  loaded: Promise<void>;
  /** Stops accepting, finishes in-flight requests (up to drain_timeout_s), unloads models. */
  stop(): Promise<{ drained: number; timedOut: boolean }>;
}

/** The class names a version's predictions are counted under (labels, else indices). */
function classNamesOf(s: { config: { labels?: string[] }; outputs: { datatype: string; shape: number[] }[] }): string[] {
  if (s.config.labels) return s.config.labels;
  const out = s.outputs.find((o) => (o.datatype === 'FP32' || o.datatype === 'FP64') && o.shape.length === 2 && o.shape[1]! > 1);
  return out ? Array.from({ length: out.shape[1]! }, (_, i) => String(i)) : [];
}

/** The bundled thread entry points: inference instances, and the request parser. */
export interface WorkerFiles {
  inference: string;
  /** The device thread of a GPU provider. */
  device: string;
  parser: string;
  /** The OpenTelemetry export thread (started only when export is on). */
  export: string;
}

export async function startAgent(config: AgentConfig, logger: LevelledLogger, workers: WorkerFiles): Promise<RunningAgent> {
  const workerFile = workers.inference;
  const startedAt = Date.now();
  const faults = new FaultInjector();
  const deviceThreads = new DeviceThreads(workers.device);
  const models = new ModelManager({
    repository: config.models,
    modelDefaults: config.model_defaults,
    workerFile,
    deviceThreads,
    logger,
    faults,
    limits: { maxElementsPerInput: config.max_elements_per_input, maxElementsPerOutput: config.max_elements_per_output },
  });
  models.scan();
  const store = new CanaryStore(config.state_dir, (message) => logger.warn(message));
  for (const [model, version] of Object.entries(store.defaults)) models.setDefaultVersion(model, version);
  const metrics = new AgentMetrics(AGENT_VERSION);
  const parser = new ParserThread(workers.parser, logger);
  const inference = new InferenceService(
    models,
    { maxInputs: config.max_inputs, maxElements: config.max_elements_per_input },
    faults,
    parser,
  );
  const statistics = new InferenceStatistics();
  inference.on('inference', (o) => {
    metrics.onInference(o);
    statistics.onInference(o);
  });
  const canaries = new CanaryController(models, store, systemClock, logger, Math.random, () => new Date(), new PrometheusAllowlist(config.prometheus_urls));
  canaries.recover();
  inference.router = (model) => canaries.route(model);
  inference.on('inference', (o) => {
    if (o.outcome === 'success' || o.modelFailure) {
      canaries.record({ model: o.model, version: o.version, ok: o.outcome === 'success', latencyMs: o.durationS * 1000, ...(o.classes ? { classes: o.classes, confidences: o.confidences! } : {}) });
    }
  });
  const drain = new DrainState();
  let address = `${config.host}:${config.port}`;
  // `status` is defined below; the hub calls it only once clients connect.
  const events = new SseHub(() => status());
  const requests = new RequestLog(new RequestRecorder({ requests: config.record_requests, failures: config.record_failures, batches: config.record_requests, slowestMinutes: 60 }), (e) => events.publish(e));
  // OpenTelemetry export: the SDK is loaded (and its module evaluated) only when it is on.
  const otlp = otlpTarget(config.otlp_endpoint);
  const traceSettings = new TraceSettings(otlp !== undefined);
  // Spans are built and sent on a thread of their own: the main thread only samples and hands over.
  const otelExport = otlp
    ? new (await import('./tracing/exportThread.js')).ExportThread(workers.export, {
        ...(otlp.url ? { url: otlp.url } : {}),
        serviceVersion: AGENT_VERSION,
        settings: traceSettings,
        phases: config.otlp_phases,
        warn: (message, fields) => logger.warn(message, fields),
      })
    : undefined;
  if (otelExport) {
    requests.exporter = otelExport;
    logger.info('exporting request traces (OTLP/HTTP protobuf)', { endpoint: otlp!.shown });
  }
  const gpu = new GpuSampler({ command: config.nvidia_smi, intervalMs: config.gpu_sample_interval_s * 1000, timeoutMs: 2000 });
  metrics.observeGpu(gpu);
  gpu.on('error', (message) => logger.warn('GPU sample skipped', { error: message }));
  if (config.gpu_sample_interval_s > 0) void gpu.start();
  models.on('servable', (s) => {
    metrics.initVersion(s.model, s.version, classNamesOf(s));
    metrics.onModelInfo(s.model, s.version, s.provider);
    metrics.observeBatcher(s.model, s.version, s.batcher);
    statistics.observeBatcher(s.model, s.version, s.batcher);
    metrics.observeBreaker(s.model, s.version, s.breaker);
    s.batcher.on('batch', (e) => requests.batch(s.model, s.version, e, s.provider));
    s.breaker.on('transition', (t) => events.publish({ type: 'breaker', model: s.model, version: s.version, ...t }));
  });
  models.on('features', (model, cache) => metrics.observeFeatureCache(model, cache));
  models.on('busy', (b) => metrics.onDeviceBusy(b.model, b.version, b.device, b.seconds));
  canaries.on('canary', (c, check) => {
    metrics.onCanary(c, check);
    // The new check only: an event's size must not grow with the canary's checks.
    events.publish({ type: 'canary', canary: headOf(c), ...(check ? { check } : {}), at: Date.now() });
  });
  models.on('model', (e) => {
    if (e.version) metrics.onModelState(e.model, e.version, e.state);
    events.publish({ type: 'model', ...e, at: Date.now() });
  });

  const status = (): AgentStatus => ({
    agent: {
      name: 'inferscope',
      version: AGENT_VERSION,
      pid: process.pid,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      address,
      ready: models.ready,
      loaded: models.settled,
      draining: drain.isDraining,
      model_repository: config.models,
    },
    models: models.status(),
    canaries: statusCanaries(canaries.list(), Date.now()),
    gpus: gpu.status,
    caches: Object.fromEntries([...models.featureCaches()].map(([name, c]) => [name, c.stats()])),
  });

  const deps: AppDeps = {
    version: AGENT_VERSION,
    host: config.host,
    allowedHosts: config.allowed_hosts,
    ...(config.token ? { token: config.token } : {}),
    bodyLimitBytes: config.body_limit_bytes,
    bodyBudgetBytes: config.body_budget_bytes,
    models,
    inference,
    metrics,
    statistics,
    drain,
    events,
    faults,
    faultsEnabled: config.enable_faults,
    canaries,
    requests,
    traceSettings,
    logger,
    status,
  };
  const frontDoor = createFrontDoor(deps);
  // Slow or stalled clients must not hold connections (and a drain) open forever: headers within
  // 10 s, the whole request (its body) within request_timeout_s (30 s), checked every second, and
  // no more connections than the process can hold files for (see connectionGuard.ts).
  const requestTimeoutMs = config.request_timeout_s * 1000;
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, requestTimeoutMs) }, frontDoor);
  server.headersTimeout = Math.min(10_000, requestTimeoutMs);
  server.requestTimeout = requestTimeoutMs;
  server.keepAliveTimeout = 5_000;
  const fileLimit = openFileLimit();
  const maxConnections = fileLimit === undefined ? config.max_connections : Math.max(1, Math.min(config.max_connections, fileLimit - RESERVED_FILES));
  if (maxConnections < config.max_connections) {
    logger.warn('max_connections lowered to fit the open-file limit', { max_connections: maxConnections, configured: config.max_connections, open_file_limit: fileLimit, raise_with: 'ulimit -n' });
  }
  guardConnections(server, maxConnections);
  await listen(server, config.host, config.port);
  const port = (server.address() as AddressInfo).port;
  const grpc =
    config.grpc_port === 'off'
      ? undefined
      : await startGrpcServer(deps, { host: config.host, port: config.grpc_port, maxConnections }).catch((err: Error) => {
          server.close();
          throw /EADDRINUSE|address already in use/i.test(err.message)
            ? new ConfigError(`--grpc-port ${config.grpc_port}: already in use on ${config.host}; pick another port (0 = any free one, off = no gRPC)`)
            : err;
        });
  address = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  const poller =
    config.repository_poll_s > 0
      ? new RepositoryPoller(models, {
          repository: config.models,
          intervalMs: config.repository_poll_s * 1000,
          clock: systemClock,
          logger,
          loadOptions: (model) => {
            const canary = canaries.list().find((c) => c.state === 'running' && c.model === model);
            return canary ? { keepVersions: [canary.baseline, canary.candidate] } : {};
          },
        })
      : undefined;
  const loaded = models.loadAll().then(() => {
    logger.info(models.ready ? 'all models loaded; ready' : 'models loaded with failures; not ready', { models: config.models });
    poller?.start();
  });

  let stopping: Promise<{ drained: number; timedOut: boolean }> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const inFlight = drain.inFlight;
      const deadline = Date.now() + config.drain_timeout_s * 1000;
      logger.info('draining', { in_flight: inFlight });
      events.publish({ type: 'agent', state: 'draining', at: Date.now() });
      events.closeAll();
      server.close();
      server.closeIdleConnections();
      const grpcClosed = grpc?.close();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drain.drain().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), config.drain_timeout_s * 1000);
        }),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      // gRPC answers still being written finish (tryShutdown ends once their sessions close);
      // only a drain that ran out of time cuts them.
      if (grpc && (timedOut || !(await within(grpcClosed!, deadline - Date.now())))) grpc.force();
      // A model still loading (a model file that never ends) must not hold the exit past the
      // drain timeout: its worker threads end with the process.
      const loadWait = await Promise.race([loaded.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())).unref())]);
      if (!loadWait) {
        logger.warn('models still loading at shutdown; not waiting for them');
        canaries.close();
        await store.close(); // what was saved since the last write
        await otelExport?.shutdown().catch((err: Error) => logger.warn('OTLP trace export failed at shutdown', { error: err.message }));
        return { drained: inFlight - drain.inFlight, timedOut: true };
      }
      poller?.stop();
      canaries.close();
      await store.close();
      gpu.stop();
      await Promise.all([models.close(), parser.close(), otelExport?.shutdown().catch((err: Error) => logger.warn('OTLP trace export failed at shutdown', { error: err.message }))]);
      await deviceThreads.close();
      logger.info(timedOut ? 'drain timed out; connections closed' : 'drained', { requests: inFlight - (timedOut ? drain.inFlight : 0) });
      return { drained: inFlight, timedOut };
    })());

  return { host: config.host, port, ...(grpc ? { grpcPort: grpc.port } : {}), models, loaded, stop };
}

/** Whether `p` settles within `ms`. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref();
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ConfigError(`--port ${port}: already in use on ${host}; pick another port (0 = any free one)`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new ConfigError(`--host ${host}: not an address of this machine`));
      else if (err.code === 'EACCES') reject(new ConfigError(`--port ${port}: permission denied (ports below 1024 need privileges)`));
      else reject(err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
