// Triton's trace extension settings (GET/POST /v2[/models/{m}]/trace/setting), which set what the
// OpenTelemetry export samples: `trace_level` (["OFF"] or ["TIMESTAMPS"]) and `trace_rate` (trace
// every N-th request), as strings in Triton's format. A model may override the global settings;
// posting null for a setting of a model drops its override (the global one applies again), and
// null for a global setting restores the default. Knows nothing of HTTP or of the SDK.
import { InvalidInputError } from '../errors.js';
import type { ParentContext } from './traceparent.js';

export type TraceLevel = 'OFF' | 'TIMESTAMPS';

export interface TraceSetting {
  level: TraceLevel;
  /** Trace every rate-th request (1: all of them). */
  rate: number;
}

/** What GET answers (Triton's $trace_setting_response). */
export interface TraceSettingResponse {
  trace_level: TraceLevel[];
  trace_rate: string;
  trace_count: string;
  trace_mode: 'opentelemetry';
}

const MAX_RATE = 1_000_000_000;

export class TraceSettings {
  private global: TraceSetting;
  private readonly models = new Map<string, Partial<TraceSetting>>();
  /** Requests seen per model since its settings last changed: every rate-th one is sampled. */
  private readonly seen = new Map<string, number>();

  /**
   * `exporting`: whether the agent exports traces at all (an OTLP endpoint is set); without one
   * the level stays OFF and asking for TIMESTAMPS is refused rather than silently ignored.
   */
  constructor(
    readonly exporting = true,
    private readonly defaults: TraceSetting = { level: exporting ? 'TIMESTAMPS' : 'OFF', rate: 1 },
  ) {
    this.global = { ...defaults };
  }

  /** The settings in force for `model` (the global ones when undefined). */
  effective(model?: string): TraceSetting {
    const own = model === undefined ? undefined : this.models.get(model);
    return { level: own?.level ?? this.global.level, rate: own?.rate ?? this.global.rate };
  }

  view(model?: string): TraceSettingResponse {
    const s = this.effective(model);
    return { trace_level: [s.level], trace_rate: String(s.rate), trace_count: '-1', trace_mode: 'opentelemetry' };
  }

  /** Applies a POST body (Triton's $trace_setting_request); throws InvalidInputError, changing nothing, on a bad one. */
  update(body: unknown, model?: string): TraceSettingResponse {
    const change = parseTraceSettingRequest(body);
    if (change.level === 'TIMESTAMPS' && !this.exporting) {
      throw new InvalidInputError('trace_level TIMESTAMPS needs an OpenTelemetry collector: start the agent with --otlp-endpoint URL (or OTEL_EXPORTER_OTLP_ENDPOINT)');
    }
    if (model === undefined) {
      if ('level' in change) this.global.level = change.level ?? this.defaults.level;
      if ('rate' in change) this.global.rate = change.rate ?? this.defaults.rate;
      this.seen.clear();
    } else {
      const own = { ...this.models.get(model) };
      if ('level' in change) {
        if (change.level === null) delete own.level;
        else own.level = change.level!;
      }
      if ('rate' in change) {
        if (change.rate === null) delete own.rate;
        else own.rate = change.rate!;
      }
      if (own.level === undefined && own.rate === undefined) this.models.delete(model);
      else this.models.set(model, own);
      this.seen.delete(model);
    }
    return this.view(model);
  }

  /**
   * Whether this finished request of `model` is exported. OFF: never. A client's traceparent
   * decides for its request (its sampled flag, as OpenTelemetry's parent-based sampler does);
   * otherwise the 1st, (rate+1)-th, (2·rate+1)-th… request of the model since its settings changed.
   */
  /** Whether any request of `model` can be exported now (its level is not OFF). */
  canExport(model: string): boolean {
    return this.effective(model).level !== 'OFF';
  }

  sample(model: string, parent?: ParentContext): boolean {
    const s = this.effective(model);
    if (s.level === 'OFF') return false;
    if (parent) return parent.sampled;
    const n = this.seen.get(model) ?? 0;
    this.seen.set(model, n + 1 >= s.rate ? 0 : n + 1);
    return n === 0;
  }
}

/** The settings a POST changes: a value, or null to reset. Unknown or unsupported settings are refused. */
export function parseTraceSettingRequest(body: unknown): { level?: TraceLevel | null; rate?: number | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError('the trace setting request must be a JSON object, e.g. {"trace_rate": "10", "trace_level": ["TIMESTAMPS"]}');
  }
  const out: { level?: TraceLevel | null; rate?: number | null } = {};
  for (const [name, value] of Object.entries(body)) {
    switch (name) {
      case 'trace_level':
        out.level = value === null ? null : parseLevel(value);
        break;
      case 'trace_rate':
        out.rate = value === null ? null : parseCount('trace_rate', value, 1);
        break;
      case 'trace_count':
        // Unlimited is all the agent does; Triton's own default is accepted so clients can send it.
        if (value !== null && value !== '-1') throw new InvalidInputError(`trace_count ${JSON.stringify(value)} is not supported: the agent traces without a count limit ("-1")`);
        break;
      case 'trace_mode':
        if (value !== null && value !== 'opentelemetry') throw new InvalidInputError(`trace_mode ${JSON.stringify(value)} is not supported: the agent exports OpenTelemetry traces only`);
        break;
      default:
        throw new InvalidInputError(`unknown or unsupported trace setting '${name}' (supported: trace_level, trace_rate, trace_count, trace_mode)`);
    }
  }
  return out;
}

function parseLevel(value: unknown): TraceLevel {
  // Triton's value is an array of levels; one string is taken too.
  const levels = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(levels) || levels.length === 0 || !levels.every((l) => typeof l === 'string')) {
    throw new InvalidInputError(`trace_level must be an array of strings, e.g. ["TIMESTAMPS"] or ["OFF"]; got ${JSON.stringify(value)}`);
  }
  const wanted = new Set(levels.map((l: string) => l.toUpperCase()));
  for (const l of wanted) {
    if (l === 'TENSORS') throw new InvalidInputError('trace_level TENSORS is not supported: spans carry timestamps and attributes, never tensor data');
    if (l !== 'OFF' && l !== 'TIMESTAMPS') throw new InvalidInputError(`unknown trace_level ${JSON.stringify(l)} (expected OFF or TIMESTAMPS)`);
  }
  if (wanted.has('OFF') && wanted.size > 1) throw new InvalidInputError('trace_level OFF cannot be combined with another level');
  return wanted.has('TIMESTAMPS') ? 'TIMESTAMPS' : 'OFF';
}

function parseCount(name: string, value: unknown, min: number): number {
  // Triton's values are strings; a JSON number is taken too.
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > MAX_RATE) {
    throw new InvalidInputError(`${name} must be a whole number from ${min} to ${MAX_RATE} as a string, e.g. "100"; got ${JSON.stringify(value)}`);
  }
  return Number(text);
}
