// Request files' bodies: read one from the editor's text, shape it for a chosen version, and write
// a new one from a model's metadata. Pure (no `vscode`).
import type { InferRequest, ModelMetadata, RequestInput, TensorMetadata } from '../../../common/api.js';

export type RequestFileBody = InferRequest & { model_name?: string; model_version?: string };

export type ParsedRequest = { ok: true; body: RequestFileBody } | { ok: false; error: string };

/** The body in the file, or what is wrong with it (said before anything is sent). */
export function parseRequestText(text: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `the file is not valid JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'the file must hold one JSON object, an Open Inference Protocol request body' };
  const inputs = (value as { inputs?: unknown }).inputs;
  const entities = (value as { parameters?: { entities?: unknown } }).parameters?.entities;
  if (!Array.isArray(inputs) && !Array.isArray(entities)) return { ok: false, error: 'the body has no "inputs" array (nor parameters.entities)' };
  return { ok: true, body: value as RequestFileBody };
}

/**
 * What is sent: the file's body, less `model_version` (the agent would refuse it unless the URL
 * names the same version; the lens clicked says which version is meant).
 */
export function bodyToSend(body: RequestFileBody): RequestFileBody {
  const { model_version: _ignored, ...rest } = body;
  return rest;
}

/** A variable dimension (-1) becomes 1: one row, the smallest request. */
export function concreteShape(t: TensorMetadata): number[] {
  return t.shape.map((d) => (d < 0 ? 1 : d));
}

function zeros(t: TensorMetadata): RequestInput {
  const shape = concreteShape(t);
  const n = shape.reduce((a, b) => a * b, 1);
  const value = t.datatype === 'BOOL' ? false : t.datatype === 'BYTES' ? '' : 0;
  return { name: t.name, shape, datatype: t.datatype, data: new Array(n).fill(value) };
}

/** An example's input fits when the model has an input of that name and datatype. */
function fits(example: RequestInput, meta: TensorMetadata[]): boolean {
  return meta.some((t) => t.name === example.name && t.datatype === example.datatype && example.shape.length === t.shape.length);
}

/**
 * A new request file's body: the model's inputs with their shapes from the metadata, data from the
 * model's example when one fits (else zeros), and every output named.
 */
export function newRequestBody(model: string, meta: ModelMetadata, example?: InferRequest): RequestFileBody {
  const fromExample = example?.inputs?.every((i) => fits(i, meta.inputs)) ? example.inputs : undefined;
  const inputs = meta.inputs.map((t) => {
    const e = fromExample?.find((i) => i.name === t.name);
    return e ? { name: e.name, shape: e.shape, datatype: e.datatype, data: e.data } : zeros(t);
  });
  return { model_name: model, inputs, outputs: meta.outputs.map((o) => ({ name: o.name })) };
}

/**
 * JSON for people: two-space indents, but an array of numbers, strings or booleans on one line
 * (784 pixels one per line would bury the rest of the file).
 */
export function formatJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
