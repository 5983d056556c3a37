// Command-line flags of `inferscope-agent`. Flags override the --config file, which overrides
// the defaults.
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import type { AgentConfig } from '../config/agentConfig.js';
import { endpointProblem } from '../tracing/otlpEndpoint.js';

export const USAGE = `Usage: inferscope-agent [flags]

Serves the ONNX models of a Triton-style model repository over the Open Inference Protocol v2.

Flags:
  --models DIR        model repository (default: the bundled demo models)
  --host HOST         address to bind (default 127.0.0.1; non-loopback needs INFERSCOPE_TOKEN)
  --port N            port (default 8000; 0 picks a free one)
  --grpc-port N|off   gRPC port (default 8001; 0 picks a free one; off: no gRPC)
  --config FILE       JSON file with settings (flags win over it)
  --log-level LEVEL   ${LOG_LEVELS.join(' | ')} (default info)
  --enable-faults     allow fault injection through /api/v1/faults (demos and tests)
  --state-dir DIR     where canaries and promotions are kept (default ~/.local/state/inferscope)
  --repository-poll-s N
                      reload models whose files changed, checking every N seconds (default 0: off;
                      POST /v2/repository/models/<m>/load reloads one on demand)
  --otlp-endpoint URL export request traces to this OpenTelemetry collector (OTLP/HTTP protobuf,
                      e.g. http://localhost:4318; default: off, or OTEL_EXPORTER_OTLP_ENDPOINT)
  --exit-on-stdin-close
                      stop gracefully when stdin closes (a supervisor that dies, even by SIGKILL,
                      closes the pipe, so no agent is left behind)
  --help, --version

Environment:
  INFERSCOPE_TOKEN    bearer token required on every route except /v2/health/*
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
  OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_EXPORTER=none
                      the usual OpenTelemetry settings of the trace export
`;

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; configFile?: string; exitOnStdinClose: boolean; overrides: Partial<AgentConfig> };

export function parseCliArgs(argv: string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        models: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'grpc-port': { type: 'string' },
        config: { type: 'string' },
        'log-level': { type: 'string' },
        'enable-faults': { type: 'boolean' },
        'state-dir': { type: 'string' },
        'repository-poll-s': { type: 'string' },
        'exit-on-stdin-close': { type: 'boolean' },
        'otlp-endpoint': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    // node's messages name the flag ("Unknown option '--prot'"); add where to look.
    throw new ConfigError(`${(err as Error).message}. Run with --help for the flags.`);
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  const overrides: Partial<AgentConfig> = {};
  if (v.models !== undefined) overrides.models = v.models;
  if (v.host !== undefined) overrides.host = v.host;
  if (v.port !== undefined) {
    const port = Number(v.port);
    if (!/^\d+$/.test(v.port) || port > 65535) throw new ConfigError(`--port ${v.port}: expected a port from 0 to 65535`);
    overrides.port = port;
  }
  if (v['grpc-port'] !== undefined) {
    const g = v['grpc-port'];
    if (g !== 'off' && (!/^\d+$/.test(g) || Number(g) > 65535)) throw new ConfigError(`--grpc-port ${g}: expected a port from 0 to 65535, or off`);
    overrides.grpc_port = g === 'off' ? 'off' : Number(g);
  }
  if (v['log-level'] !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(v['log-level'])) {
      throw new ConfigError(`--log-level ${v['log-level']}: expected one of ${LOG_LEVELS.join(', ')}`);
    }
    overrides.log_level = v['log-level'] as LogLevel;
  }
  if (v['enable-faults']) overrides.enable_faults = true;
  if (v['state-dir'] !== undefined) overrides.state_dir = v['state-dir'];
  if (v['repository-poll-s'] !== undefined) {
    const seconds = Number(v['repository-poll-s']);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(v['repository-poll-s']) || seconds > 86_400) {
      throw new ConfigError(`--repository-poll-s ${v['repository-poll-s']}: expected seconds from 0 (off) to 86400`);
    }
    overrides.repository_poll_s = seconds;
  }
  if (v['otlp-endpoint'] !== undefined) {
    const problem = endpointProblem(v['otlp-endpoint']);
    if (problem) throw new ConfigError(`--otlp-endpoint ${v['otlp-endpoint']}: ${problem}`);
    overrides.otlp_endpoint = v['otlp-endpoint'];
  }
  return { kind: 'run', ...(v.config !== undefined ? { configFile: v.config } : {}), exitOnStdinClose: v['exit-on-stdin-close'] === true, overrides };
}
