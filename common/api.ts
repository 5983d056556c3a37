// Shapes of the agent's HTTP API, shared by the agent, the extension, the webview and the tests.
// The Open Inference Protocol v2 part follows the KServe/Triton REST spec.

/** Tensor datatypes of the Open Inference Protocol. */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export type Parameters = Record<string, string | number | boolean | string[] | undefined>;

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  /** -1 marks a variable dimension. */
  shape: number[];
}

export interface ServerMetadata {
  name: 'inferscope';
  version: string;
  extensions: string[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: 'onnxruntime_onnx';
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export type TensorData = number[] | boolean[] | string[];

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: Datatype;
  parameters?: Parameters;
  /** Flat row-major, or nested to the tensor's shape; absent when parameters.binary_data_size says the bytes follow the JSON. */
  data?: unknown[];
}

export interface RequestOutput {
  name: string;
  parameters?: Parameters & { classification?: number };
}

export interface InferRequest {
  id?: string;
  parameters?: Parameters;
  inputs: RequestInput[];
  outputs?: RequestOutput[];
}

export interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: Datatype;
  parameters?: Parameters;
  /** Absent for a binary output (parameters.binary_data_size says how many of the bytes after the JSON are its). */
  data?: TensorData;
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  /** Scalars only (string, number, boolean), as the protocol allows. */
  parameters?: Record<string, string | number | boolean>;
  outputs: ResponseOutput[];
}

/** Triton's repository index states. */
export type RepositoryState = 'READY' | 'LOADING' | 'UNAVAILABLE';

export interface RepositoryIndexEntry {
  name: string;
  version: string;
  state: RepositoryState;
  reason?: string;
}

export interface ErrorBody {
  error: string;
}

/** The one line the agent prints on stdout once it listens. */
export interface ListeningEvent {
  event: 'listening';
  host: string;
  port: number;
  /** The gRPC port (inference.GRPCInferenceService); absent when gRPC is off. */
  grpc_port?: number;
  pid: number;
}

// ---- control API (/api/v1) ----

export type VersionState = 'loading' | 'ready' | 'failed' | 'unloaded';

export interface VersionStatus {
  version: string;
  state: VersionState;
  /** Why it failed to load, when state is 'failed'. */
  reason?: string;
  /** The execution provider that loaded it ("cuda", "cpu"), once loaded. */
  execution_provider?: string;
  instances: number;
  is_default: boolean;
  batching: BatchingStatus;
  /** Present once the version is loaded. */
  breaker?: BreakerStatus;
  /** Injected fault, when one is set. */
  fault?: { error_rate: number; latency_ms: number };
}

export type BreakerState = 'closed' | 'half_open' | 'open';

export interface BreakerStatus {
  state: BreakerState;
  forced: boolean;
  consecutive_failures: number;
  window: { calls: number; failures: number; slow: number; failure_rate: number; slow_rate: number };
  trips: number;
  /** Epoch ms. */
  opened_at: number | null;
  next_trial_at: number | null;
  last_reason: string | null;
  totals: { successes: number; failures: number; slow: number; rejected: number };
}

export interface BatchingStatus {
  max_batch_size: number;
  /** Requests waiting in the queue. */
  queue_depth: number;
  /** Batches running or handed to an instance. */
  in_flight_batches: number;
  /** Rows of the last batches, oldest first. */
  recent_batch_sizes: number[];
}

export interface ModelStatus {
  name: string;
  /** Set when the model's config.json is unusable: no version can load. */
  error?: string;
  /** Why the last load request (POST /v2/repository/models/{m}/load) failed; the versions shown kept serving. */
  last_load_error?: string;
  default_version?: string;
  versions: VersionStatus[];
}

export interface AgentStatus {
  agent: {
    name: 'inferscope';
    version: string;
    pid: number;
    uptime_s: number;
    address: string;
    /** Every model loaded (strict, as /v2/health/ready). */
    ready: boolean;
    /** No model is loading any more: each loaded or failed. `loaded && !ready`: serving, degraded. */
    loaded: boolean;
    draining: boolean;
    model_repository: string;
  };
  models: ModelStatus[];
  /** Running canaries, and at most the 20 most recent that ended in the last hour. */
  canaries: CanarySummary[];
  gpus: GpuStatus;
  /** Feature caches by model name (models with a feature source). */
  caches: Record<string, CacheStatus>;
}

export interface CacheStatus {
  entries: number;
  bytes: number;
  max_entries: number;
  max_bytes: number;
  hits: number;
  misses: number;
  stale_hits: number;
  negative_hits: number;
  hit_rate: number;
  evictions: { capacity: number; expired: number };
  source: { name: string; kind: string; healthy: boolean; last_error: string | null; fetches: number; errors: number };
}

/** Discrete events on GET /api/v1/events (besides the `snapshot` event, an AgentStatus). */
export type AgentEvent =
  | { type: 'breaker'; model: string; version: string; from: BreakerState; to: BreakerState; reason: string; at: number }
  | { type: 'model'; model: string; version?: string; state: VersionState; reason?: string; at: number }
  | { type: 'agent'; state: 'draining'; at: number }
  /** A check or a decision: the canary without checks, and the new check if there is one. */
  | { type: 'canary'; canary: CanaryHead; check?: CanaryCheck; at: number };

export type BreakerAction = 'reset' | 'open';

// ---- canaries (/api/v1/canaries) ----

export type CanaryState = 'running' | 'promoted' | 'rolled_back' | 'aborted';
export type Verdict = 'pass' | 'fail' | 'inconclusive';
export type CheckDecision = 'continue' | 'next_step' | 'promote' | 'rollback';
export type CanaryMetricName = 'error_rate' | 'latency' | 'predictions' | 'confidence' | 'breaker';

export interface CanaryMetricResult {
  name: CanaryMetricName;
  baseline: number | null;
  candidate: number | null;
  statistic: number | null;
  p_value: number | null;
  verdict: Verdict;
  reason: string;
}

export interface CanaryCheck {
  at: string;
  step: number;
  weight: number;
  /** Requests each version served in this step so far. */
  samples: { baseline: number; candidate: number };
  decision: CheckDecision;
  metrics: CanaryMetricResult[];
}

export interface CanaryThresholds {
  /** False-rollback rate allowed over the whole canary (all its checks). */
  alpha: number;
  max_error_rate: number;
  /** A significant error-rate increase counts only if the candidate's rate is at least this × baseline's. */
  min_error_ratio: number;
  max_p99_ms: number;
  max_p99_ratio: number;
  /** Latency: P(candidate slower) must exceed 0.5 + this to count as a regression. */
  latency_effect_margin: number;
  /** Confidence: P(candidate less confident) must exceed 0.5 + this. */
  confidence_effect_margin: number;
  /** Predictions: Cramér's V at least this to count as answering differently. */
  min_cramers_v: number;
  /** Per version, per step, before a metric can pass or fail. */
  min_samples: number;
  /** Inconclusive checks (too little traffic) tolerated before rolling back. */
  max_inconclusive_checks: number;
  critical: CanaryMetricName[];
}

export interface Canary {
  id: string;
  model: string;
  baseline: string;
  candidate: string;
  state: CanaryState;
  /** Current share of the model's unversioned traffic sent to the candidate, in %. */
  weight: number;
  steps: number[];
  step: number;
  interval_s: number;
  checks_per_step: number;
  thresholds: CanaryThresholds;
  /** Significance level each single test uses (alpha split over all planned tests). */
  alpha_per_test: number;
  /** Where the samples come from. */
  source: { kind: 'in_process' } | { kind: 'prometheus'; url: string };
  started_at: string;
  ended_at: string | null;
  checks: CanaryCheck[];
  decision: 'promote' | 'rollback' | 'abort' | null;
  reason: string | null;
}

/** A canary without its checks, so its size does not grow with them (events, GET /api/v1/canaries). */
export interface CanaryHead extends Omit<Canary, 'checks'> {
  check_count: number;
}

/** A canary in /api/v1/status: its head and its last checks. */
export interface CanarySummary extends CanaryHead {
  /**
   * Oldest first, at most the last 12 (what the panel shows), for a running canary and for each
   * model's latest one; empty for older ones. GET /api/v1/canaries/{id} has every check.
   */
  recent_checks: CanaryCheck[];
}

export interface GpuStatus {
  detected: boolean;
  /** "no GPU detected (…)" or "1 GPU: NVIDIA H200". */
  message: string;
  devices: {
    index: number;
    uuid: string;
    name: string;
    /** 0..1 */
    utilization?: number;
    memory_used_bytes?: number;
    memory_total_bytes?: number;
    temperature_celsius?: number;
    power_watts?: number;
    mig_mode?: string;
  }[];
  sampled_at: number | null;
  errors: number;
  last_error: string | null;
}

/** Body of POST /api/v1/canaries (the agent fills in what is left out). */
export interface CanaryRequest {
  model: string;
  baseline?: string;
  candidate: string;
  steps?: number[];
  interval_s?: number;
  checks_per_step?: number;
  thresholds?: Partial<CanaryThresholds>;
}
