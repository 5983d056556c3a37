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
  /** The execution provider that loaded it ("webgpu", "cpu"), once loaded. */
  execution_provider?: string;
  /** Providers tried before it: "<provider>: <why it could not load the version>". */
  provider_fallbacks?: string[];
  /** CPU: instances running; a GPU provider: batches that may wait on the device at once (0: none running). */
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
/**
 * Why a batch left the queue when it did: `unbatched` (max_batch_size 0: every request alone),
 * `instance_idle` (an instance was free and max_queue_delay_ms is 0), `max_queue_delay` (its
 * oldest request had waited max_queue_delay_ms), `max_batch_size` (full), `preferred_size` (it
 * reached the largest preferred_batch_size), `full_to_busy_instance` (a full batch handed early
 * to an instance still running the previous one), `bisect` (half of a failed batch, run again to
 * find the request at fault).
 */
export type ReleaseReason = 'unbatched' | 'instance_idle' | 'max_queue_delay' | 'max_batch_size' | 'preferred_size' | 'full_to_busy_instance' | 'bisect';

/** Where a request's time went: ms from when the agent received it, each phase's end. */
export interface RequestPhases {
  body_read_ms?: number;
  parsed_ms?: number;
  features_ms?: number;
  admitted_ms?: number;
  enqueued_ms?: number;
  dispatched_ms?: number;
  compute_start_ms?: number;
  compute_end_ms?: number;
  responded_ms?: number;
}

/** One inference request, as the agent recorded it (GET /api/v1/requests). */
export interface RequestRecord {
  /** The agent's id for it (r…); the client's own `id`, when it sent one, is `client_id`. */
  id: string;
  client_id?: string;
  protocol: 'rest' | 'grpc';
  model: string;
  version?: string;
  /** The canary's traffic split chose the version (the request named none). */
  canary_routed: boolean;
  /** Epoch ms. */
  received_at: number;
  duration_ms: number;
  phases: RequestPhases;
  rows?: number;
  /** Entity inference: how the request's ids were found. */
  entities?: { count: number; hits: number; misses: number; stale: number; negative: number };
  /** The version's breaker state when the request was admitted (or refused). */
  breaker?: BreakerState;
  batch_id?: string;
  /** The CPU instance its batch ran on (0-based, its number in the version's instance pool), of `instance_count`. */
  instance?: number;
  instance_count?: number;
  outcome: string;
  /** HTTP status (REST) or the gRPC status code's name. */
  status: number | string;
  error?: string;
}

/** One batch, as the batcher released it (GET /api/v1/batches/{id}). */
export interface BatchRecord {
  id: string;
  model: string;
  version: string;
  rows: number;
  request_ids: string[];
  reason: ReleaseReason;
  /** Where it ran: "cpu", or the GPU execution provider ("webgpu", "cuda", …). */
  device?: string;
  /** Which of the version's CPU instances ran it (0-based; a replacement takes its predecessor's number), of `instance_count`. */
  instance?: number;
  instance_count?: number;
  /** Requests left waiting in the queue when it left. */
  queue_depth: number;
  /** Epoch ms when it was handed to an instance. */
  dispatched_at: number;
  /** Joining the inputs, the run, and splitting the outputs. */
  compute_ms: number;
  ok: boolean;
}

export type AgentEvent =
  | { type: 'breaker'; model: string; version: string; from: BreakerState; to: BreakerState; reason: string; at: number }
  | { type: 'request'; request: RequestRecord; at: number }
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
  /** The ledger's row: what the verdict was decided on (absent on canaries from older agents, and for a metric whose source was unavailable). */
  evidence?: CanaryEvidence;
}

/** How a canary keeps its false-rollback guarantee over repeated checks. */
export type CanaryMethod = 'anytime' | 'bonferroni';

/** One statistical test of a metric at one check. */
export interface CanaryTestEvidence {
  /** `relative`: candidate vs baseline; `limit`: vs an absolute limit; `shift`: rank test; `mix`: class mix. */
  name: 'relative' | 'limit' | 'shift' | 'mix';
  /** z, or χ² for `mix`. */
  statistic: number;
  /** anytime: the e-process's value (evidence against "no regression"; it fails at ≥ 1/alpha). bonferroni: null. */
  e_value: number | null;
  /** anytime: always-valid p = min(1, 1 / largest e so far); bonferroni: this look's fixed-sample p. */
  p_value: number;
  /** The level the test is judged at: its share of the canary's alpha (anytime), per look (bonferroni). */
  alpha: number;
  /** bonferroni: alpha used by this test's looks so far; anytime: null (looking uses none up). */
  alpha_spent: number | null;
}

export interface CanaryEvidence {
  /** Requests (error rate), successful requests (latency) or scored predictions each version contributed. */
  n: { baseline: number; candidate: number };
  /** `ok`: the tests judge; otherwise why they cannot. */
  gate: 'ok' | 'too_few' | 'no_baseline' | 'not_classifier';
  tests: CanaryTestEvidence[];
  /** The effect estimate and its interval (anytime: an always-valid confidence sequence; bonferroni: 95 %). */
  effect: { estimate: number; low: number | null; high: number | null; unit: string } | null;
  /** The rule's other inputs: rates, p99s, P(slower), Cramér's V, … */
  values: Record<string, number>;
  /** The smallest regression this check could have caught; `sufficient`: at or below the smallest that counts. */
  mde: { effect: number; unit: string; text: string; sufficient: boolean } | null;
  /** Further checks at the current request rate until the smallest regression that counts is visible. */
  eta: { checks: number | null; requests_per_s: number; text: string } | null;
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
  /** bonferroni: the level each test uses at each look (alpha split over all planned tests and looks); anytime: null. */
  alpha_per_test: number | null;
  /** `anytime` (absent on canaries from older agents: `bonferroni`). */
  method?: CanaryMethod;
  /** No planned number of checks: each step is held until the evidence could see the smallest regression that counts. */
  open_ended?: boolean;
  /** The level of each test (`metric.test`): its share of alpha (anytime) or alpha per look (bonferroni). */
  alpha_levels?: Record<string, number>;
  /** Where the samples come from. */
  source: { kind: 'in_process' } | { kind: 'prometheus'; url: string; anchor?: string };
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
  method?: CanaryMethod;
  open_ended?: boolean;
}

/** GET /api/v1/canaries/{id}/ledger[?alpha=]: the recorded evidence, judged again at another alpha. */
export interface CanaryRejudgement {
  canary: string;
  method: CanaryMethod;
  alpha: number;
  /** What the canary would have decided on the recorded evidence; `undecided`: the record ends first. */
  decision: 'promote' | 'rollback' | 'undecided';
  /** 1-based check at which it decides (null: undecided). */
  at_check: number | null;
  reason: string;
  checks: { at: string; step: number; weight: number; decision: CheckDecision; metrics: { name: CanaryMetricName; verdict: Verdict; reason: string }[] }[];
}

// ---- model inspection (GET /api/v1/models/{m}/versions/{v}/inspect) ----

/** What a version's model.onnx says about itself (top-level graph and its subgraphs). */
export interface OnnxSummary {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  domain: string;
  model_version: number;
  doc_string: string;
  /** Operator sets imported; the default domain is named "ai.onnx". */
  opsets: { domain: string; version: number }[];
  graph_name: string;
  node_count: number;
  /** Nodes per operator type, most frequent first; custom domains prefix the type ("com.microsoft.FusedConv"). */
  operators: Record<string, number>;
  /** Elements of every initializer (weights, biases, constants folded in). */
  parameters: number;
  initializers: number;
  /** Initializers whose data is in an external file. */
  external_initializers: number;
}

export interface ModelInspection {
  model: string;
  version: string;
  /** Relative to the model repository: "digits/1/model.onnx". */
  file: string;
  file_bytes: number;
  onnx: OnnxSummary;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  provider: string;
  instances: number;
  /** The version's effective configuration: config.json with every default filled in. */
  config: {
    max_batch_size: number;
    instance_count: number;
    execution_providers: string[];
    dynamic_batching: Record<string, unknown> | null;
    breaker: Record<string, unknown>;
    run_timeout_ms: number;
    intra_op_threads: number;
  };
}
