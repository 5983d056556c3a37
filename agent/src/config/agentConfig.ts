// The agent's settings: defaults, then the --config file, then command-line flags.
// The token never comes from a file or a flag: only from INFERSCOPE_TOKEN.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { LOG_LEVELS } from '../log/logger.js';
import { describeZodIssues } from './zodIssues.js';
import { modelDefaultsSchema } from '../repository/modelDefaults.js';
import { endpointProblem } from '../tracing/otlpEndpoint.js';
import { canonicalPrometheusUrl, prometheusUrlProblem } from '../../../common/prometheusUrl.js';

export const agentConfigSchema = z
  .object({
    models: z.string().min(1, 'expected a folder path'),
    host: z.string().min(1, 'expected a host name or IP address'),
    port: z.int().min(0, 'expected a port from 0 to 65535').max(65535, 'expected a port from 0 to 65535'),
    /** The gRPC port (Triton's 8001); 0 picks a free one; "off" serves no gRPC. */
    grpc_port: z.union([z.int().min(0).max(65535), z.literal('off')], 'expected a port from 0 to 65535, or "off"'),
    log_level: z.enum(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`),
    enable_faults: z.boolean(),
    /** Largest request body accepted (413 beyond). */
    body_limit_bytes: z.int().min(1024, 'expected at least 1024').max(1 << 30),
    /** Bytes of request bodies received at once, by all requests together (503 + Retry-After beyond). */
    body_budget_bytes: z.int().min(1024, 'expected at least 1024').max(2 ** 34),
    /** Seconds a client has to send a whole request, body included (408 past it). */
    request_timeout_s: z.number().min(1).max(3600),
    /** Open connections accepted at once (more are closed at once), below the process's file limit. */
    max_connections: z.int().min(1).max(1_000_000),
    /** Seconds between checks of the model repository for changed models (0: never; load them with the API). */
    repository_poll_s: z.number().min(0).max(86_400),
    /** Most inputs in one infer request. */
    max_inputs: z.int().min(1).max(1024),
    /** Most elements in one input tensor. */
    max_elements_per_input: z.int().min(1).max(1 << 28),
    /** Most elements in one output tensor of one request (a larger one is refused, 400). */
    max_elements_per_output: z.int().min(1).max(1 << 28),
    /** Inference requests (and batches) whose records are kept (GET /api/v1/requests); 0 keeps none. */
    record_requests: z.int().min(0).max(1_000_000),
    /** Failed requests kept besides, after the last requests have moved on. */
    record_failures: z.int().min(0).max(1_000_000),
    /** Seconds between GPU samples (nvidia-smi); 0 turns GPU sampling off. */
    gpu_sample_interval_s: z.number().min(0).max(3600),
    /** The nvidia-smi to run. */
    nvidia_smi: z.string().min(1),
    /** Where canaries and promotions are kept across restarts. */
    state_dir: z.string().min(1, 'expected a folder path'),
    /** Host names (besides localhost and the bound address) that clients may use, e.g. a DNS name. */
    allowed_hosts: z.array(z.string().regex(/^[A-Za-z0-9.\-\[\]:]+$/, 'expected host names')),
    /**
     * The Prometheus servers canaries may read (base URLs); no other URL is ever fetched. An entry may
     * carry credentials (http://user:pass@host:9090): sent as Basic auth, never shown or stored.
     * Messages never echo an entry, since it may hold a password.
     */
    prometheus_urls: z
      .array(
        z
          .string()
          .max(2048)
          .superRefine((s, ctx) => {
            const problem = prometheusUrlProblem(s);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
      )
      .max(32)
      .superRefine((list, ctx) => {
        // Two entries for one server (say, with different credentials) would make the choice arbitrary.
        const seen = new Set<string>();
        for (const s of list) {
          if (prometheusUrlProblem(s)) continue;
          const url = canonicalPrometheusUrl(new URL(s));
          if (seen.has(url)) ctx.addIssue({ code: 'custom', message: `lists ${url} twice` });
          seen.add(url);
        }
      }),
    /**
     * OpenTelemetry: the OTLP/HTTP collector that request spans are exported to (a bare address gets
     * /v1/traces); empty: off, unless OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT is set.
     */
    otlp_endpoint: z
      .string()
      .max(2048)
      .superRefine((s, ctx) => {
        const problem = endpointProblem(s);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    /** How exported requests carry their phases: span events on the request span, or child spans. */
    otlp_phases: z.enum(['events', 'spans']),
    /** How long a SIGTERM waits for in-flight requests before closing connections. */
    drain_timeout_s: z.number().min(0).max(3600),
    /** Settings for models whose config.json leaves them out (the extension's batching/cache settings). */
    model_defaults: modelDefaultsSchema,
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema> & { token?: string };

export function defaultAgentConfig(bundledModels: string): AgentConfig {
  return {
    models: bundledModels,
    host: '127.0.0.1',
    port: 8000,
    grpc_port: 8001,
    log_level: 'info',
    enable_faults: false,
    body_limit_bytes: 8 * 1024 * 1024,
    body_budget_bytes: 64 * 1024 * 1024,
    max_connections: 1000,
    request_timeout_s: 30,
    repository_poll_s: 0,
    max_inputs: 64,
    max_elements_per_input: 4 * 1024 * 1024,
    max_elements_per_output: 4 * 1024 * 1024,
    record_requests: 10_000,
    record_failures: 1_000,
    drain_timeout_s: 30,
    otlp_endpoint: '',
    otlp_phases: 'events',
    allowed_hosts: [],
    prometheus_urls: [],
    state_dir: defaultStateDir(),
    gpu_sample_interval_s: 5,
    nvidia_smi: 'nvidia-smi',
    model_defaults: {},
  };
}

/** $XDG_STATE_HOME/inferscope, else ~/.local/state/inferscope. */
export function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'inferscope');
}

/** Reads a JSON config file holding any subset of the settings; errors name the file and field. */
export function readAgentConfigFile(file: string): Partial<AgentConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw === 'object' && raw !== null && 'token' in raw) {
    throw new ConfigError(`--config ${file}: field 'token' is not read from files; set INFERSCOPE_TOKEN in the environment`);
  }
  const parsed = agentConfigSchema.partial().safeParse(raw);
  if (!parsed.success) throw new ConfigError(`--config ${file}: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

/** Validates the merged settings; `source` names where a bad value came from. */
export function finalizeAgentConfig(merged: AgentConfig): AgentConfig {
  const { token: _token, ...settings } = merged;
  const parsed = agentConfigSchema.safeParse(settings);
  if (!parsed.success) throw new ConfigError(`invalid settings: ${describeZodIssues(parsed.error)}`);
  if (parsed.data.body_budget_bytes < parsed.data.body_limit_bytes) {
    throw new ConfigError(`invalid settings: body_budget_bytes (${parsed.data.body_budget_bytes}) must be at least body_limit_bytes (${parsed.data.body_limit_bytes}), or a body within the limit could never be received`);
  }
  if (merged.token !== undefined && merged.token.length < 16) {
    throw new ConfigError('INFERSCOPE_TOKEN is too short: use at least 16 characters (e.g. `openssl rand -hex 32`)');
  }
  if (!isLoopback(merged.host) && !merged.token) {
    throw new ConfigError(
      `refusing to listen on ${merged.host} without a token: anyone on the network could use the agent; ` +
        'set INFERSCOPE_TOKEN, or use --host 127.0.0.1',
    );
  }
  return { ...parsed.data, ...(merged.token ? { token: merged.token } : {}) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
