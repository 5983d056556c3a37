// Validates an Open Inference Protocol v2 infer request against a model's metadata and turns it
// into tensors for ONNX Runtime. Every rejection says what is wrong and what the model expects.
import type { Datatype, Parameters, TensorMetadata } from '../../../common/api.js';
import { InvalidInputError } from '../errors.js';
import { codecFor, isDatatype, ortTypeOf, DATATYPES, type WireTensor } from '../inference/tensorTypes.js';
import { decodeBinaryTensor } from './binaryTensors.js';

export interface InferTarget {
  /** "digits/2", for messages. */
  label: string;
  /** The model and version the URL names; a body's model_name / model_version must agree. */
  url?: { model: string; version?: string };
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** 0: the model has no batch dimension. */
  maxBatchSize: number;
}

export interface RequestLimits {
  maxInputs: number;
  /** Largest number of elements in one input tensor. */
  maxElements: number;
}

export interface RequestedOutput {
  name: string;
  classification?: number;
  /** Sent in the binary part of the response (binary tensor data extension). */
  binary?: boolean;
}

export interface ParsedInferRequest {
  id?: string;
  parameters: Parameters;
  feeds: Record<string, WireTensor>;
  /** Rows along the batch dimension (1 for models without one). */
  batchSize: number;
  /** The outputs to return, in order; all of the model's when the request names none. */
  outputs: RequestedOutput[];
  /** Entity inference: the input comes from these entities' stored feature vectors (feeds empty). */
  entities?: string[];
  /** The client's deadline (Triton's schedule policy `timeout`, sent in microseconds), in ms. */
  timeoutMs?: number;
}

// model_name / model_version: KServe's Python client sends them in the body as well as the URL.
const REQUEST_FIELDS = new Set(['id', 'model_name', 'model_version', 'parameters', 'inputs', 'outputs']);
const INPUT_FIELDS = new Set(['name', 'shape', 'datatype', 'parameters', 'data']);

function fail(message: string): never {
  throw new InvalidInputError(message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bounds on request parameters: a handful of small values is all the protocol needs. */
const MAX_PARAMETERS = 32;
const MAX_PARAMETER_STRING = 4096;
const MAX_PARAMETER_LIST = 1024;

function checkParameters(value: unknown, where: string): Parameters {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(`${where} 'parameters' must be a JSON object`);
  const entries = Object.entries(value);
  if (entries.length > MAX_PARAMETERS) fail(`${where} has ${entries.length} parameters; at most ${MAX_PARAMETERS} are accepted`);
  for (const [key, v] of entries) {
    if (key.length > 128) fail(`${where} has a parameter name longer than 128 characters`);
    if (typeof v === 'string' && v.length > MAX_PARAMETER_STRING) fail(`${where} parameter '${key}' is longer than ${MAX_PARAMETER_STRING} characters`);
    if (Array.isArray(v) && v.length > MAX_PARAMETER_LIST) fail(`${where} parameter '${key}' has more than ${MAX_PARAMETER_LIST} items`);
    const scalar = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    const stringList = Array.isArray(v) && v.every((s) => typeof s === 'string');
    if (!scalar && !stringList) fail(`${where} parameter '${key}' must be a string, number, boolean or list of strings`);
  }
  return value as Parameters;
}

function formatShape(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * `binary` is the part of the body after the JSON header (binary tensor data extension), when the
 * request had an Inference-Header-Content-Length; inputs with `binary_data_size` take their bytes
 * from it, in order. `ownsBinary`: its buffer is the request's alone, so tensors may be views of it
 * (see decodeBinaryTensor).
 */
export function parseInferRequest(body: unknown, target: InferTarget, limits: RequestLimits, binary?: Uint8Array, ownsBinary = false): ParsedInferRequest {
  if (!isPlainObject(body)) fail(`the request body must be a JSON object with an "inputs" array`);
  for (const key of Object.keys(body)) {
    if (!REQUEST_FIELDS.has(key)) {
      fail(`unknown field '${key}' in the request; allowed fields are ${[...REQUEST_FIELDS].join(', ')}`);
    }
  }
  if (body.id !== undefined && typeof body.id !== 'string') fail(`'id' must be a string`);
  checkNamesAgree(body, target);
  const parameters = checkParameters(body.parameters, 'the request');
  const timeoutMs = requestTimeoutMs(parameters.timeout);
  const binaryOutputs = parameters.binary_data_output;
  if (binaryOutputs !== undefined && typeof binaryOutputs !== 'boolean') fail(`parameter 'binary_data_output' must be true or false`);

  if (parameters.entities !== undefined) {
    if (body.inputs !== undefined) fail(`give either 'inputs' or parameters.entities, not both`);
    const entities = parseEntities(parameters.entities, target);
    return {
      ...(typeof body.id === 'string' ? { id: body.id } : {}),
      parameters,
      feeds: {},
      batchSize: entities.length,
      outputs: parseOutputs(body.outputs, target, binaryOutputs === true),
      entities,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    };
  }

  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    fail(`'inputs' must be a non-empty array; ${target.label} takes: ${describeTensors(target.inputs)}`);
  }
  if (inputs.length > limits.maxInputs) fail(`too many inputs (${inputs.length}); at most ${limits.maxInputs} are accepted`);

  const feeds: Record<string, WireTensor> = {};
  let batchSize: number | undefined;
  const cursor = { binary, at: 0, owned: ownsBinary };
  inputs.forEach((raw, index) => {
    const { name, tensor, rows } = parseInput(raw, index, target, limits, cursor);
    if (feeds[name]) fail(`input '${name}' is given twice`);
    feeds[name] = tensor;
    if (target.maxBatchSize > 0) {
      if (batchSize !== undefined && rows !== batchSize) {
        fail(`inputs disagree on the batch size (first dimension): ${batchSize} vs ${rows} for '${name}'`);
      }
      batchSize = rows;
    }
  });
  const missing = target.inputs.filter((i) => !feeds[i.name]).map((i) => i.name);
  if (missing.length) fail(`missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} for ${target.label}`);
  if (binary && cursor.at !== binary.byteLength) {
    fail(`the body has ${binary.byteLength - cursor.at} bytes of binary data after the inputs' binary_data_size bytes (${cursor.at} of ${binary.byteLength} used)`);
  }

  return {
    ...(typeof body.id === 'string' ? { id: body.id } : {}),
    parameters,
    feeds,
    batchSize: batchSize ?? 1,
    outputs: parseOutputs(body.outputs, target, binaryOutputs === true),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** KServe's client repeats the URL's model (and version) in the body: they must be the same. */
function checkNamesAgree(body: Record<string, unknown>, target: InferTarget): void {
  const { model_name: name, model_version: version } = body;
  if (name !== undefined && (typeof name !== 'string' || (target.url && name !== target.url.model))) {
    fail(`'model_name' in the body is ${JSON.stringify(name)}, but the URL names model "${target.url?.model}"`);
  }
  if (version === undefined || version === '') return;
  if (typeof version !== 'string') fail(`'model_version' must be a string`);
  if (target.url && version !== target.url.version) {
    fail(
      target.url.version === undefined
        ? `'model_version' "${version}" in the body needs the version in the URL too: /v2/models/${target.url.model}/versions/${version}/infer`
        : `'model_version' in the body is "${version}", but the URL names version "${target.url.version}"`,
    );
  }
}

/** Triton's schedule policy: `timeout` in microseconds (0: none); kept in ms for the batcher. */
export const MAX_REQUEST_TIMEOUT_US = 3_600_000_000;

function requestTimeoutMs(value: unknown): number | undefined {
  if (value === undefined || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_REQUEST_TIMEOUT_US) {
    fail(`parameter 'timeout' must be microseconds from 0 (none) to ${MAX_REQUEST_TIMEOUT_US} (as in Triton), got ${JSON.stringify(value)}`);
  }
  return value / 1000;
}

interface BinaryCursor {
  binary: Uint8Array | undefined;
  at: number;
  owned: boolean;
}

function parseInput(
  raw: unknown,
  index: number,
  target: InferTarget,
  limits: RequestLimits,
  cursor: BinaryCursor,
): { name: string; tensor: WireTensor; rows: number } {
  if (!isPlainObject(raw)) fail(`inputs[${index}] must be an object with name, shape, datatype and data`);
  for (const key of Object.keys(raw)) {
    if (!INPUT_FIELDS.has(key)) fail(`unknown field '${key}' in inputs[${index}]; allowed are name, shape, datatype, parameters, data`);
  }
  const { name, shape, datatype, data } = raw;
  if (typeof name !== 'string' || name === '') fail(`inputs[${index}].name must be a non-empty string`);
  const meta = target.inputs.find((i) => i.name === name);
  if (!meta) fail(`${target.label} has no input '${name}'; its inputs are: ${describeTensors(target.inputs)}`);
  const params = checkParameters(raw.parameters, `input '${name}'`);

  if (!isDatatype(datatype)) fail(`input '${name}' has datatype ${JSON.stringify(datatype)}; use one of ${DATATYPES.join(', ')}`);
  if (datatype !== meta.datatype) fail(`input '${name}' of ${target.label} takes datatype ${meta.datatype}, not ${datatype}`);

  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    fail(`input '${name}' needs 'shape' as an array of non-negative integers, e.g. ${formatShape(exampleShape(meta))}`);
  }
  const dims = shape as number[];
  if (dims.length !== meta.shape.length) {
    fail(`input '${name}' of ${target.label} has ${meta.shape.length} dimensions ${formatShape(meta.shape)}; got shape ${formatShape(dims)}`);
  }
  dims.forEach((d, i) => {
    const want = meta.shape[i]!;
    if (want !== -1 && d !== want) {
      fail(`input '${name}' of ${target.label} needs shape ${formatShape(meta.shape)} (-1 = any); got ${formatShape(dims)}`);
    }
  });
  const rows = target.maxBatchSize > 0 ? dims[0]! : 1;
  if (target.maxBatchSize > 0) {
    if (rows < 1) fail(`input '${name}': the batch dimension (first) must be at least 1`);
    if (rows > target.maxBatchSize) {
      fail(`input '${name}': batch of ${rows} exceeds max_batch_size ${target.maxBatchSize} of ${target.label}; split the request`);
    }
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > limits.maxElements) fail(`input '${name}' has ${count} elements; at most ${limits.maxElements} are accepted per input`);
  // Each dimension is bounded too, not only their product: [0, 2^53] has no elements but is no
  // shape a model takes (ONNX Runtime refuses it, which would count against the version's breaker).
  const big = dims.find((d) => d > limits.maxElements);
  if (big !== undefined) fail(`input '${name}' has a dimension of ${big}; at most ${limits.maxElements} is accepted`);

  if (params.binary_data_size !== undefined) {
    if (data !== undefined) fail(`input '${name}' has both 'data' and parameters.binary_data_size; send one`);
    const values = takeBinary(params.binary_data_size, cursor, datatype, count, name);
    return { name, tensor: { type: ortTypeOf(datatype), dims, data: values }, rows };
  }
  if (!Array.isArray(data)) fail(`input '${name}' needs 'data' as an array (flat row-major, or nested to the shape)`);
  // Cheap checks before the tensor is allocated (a tiny body must not make a huge allocation).
  if (data.length > 0 && !Array.isArray(data[0])) {
    if (data.length !== count) fail(`input '${name}' has ${data.length} values in 'data', but its shape needs ${count}`);
  } else if (data.length !== (dims[0] ?? 0) && !(dims.length === 0 && data.length === 1)) {
    fail(`input '${name}': nested 'data' has ${data.length} rows at the top, but the shape's first dimension is ${dims[0]}`);
  }
  const values = flattenInto(data, datatype, count, dims.length, name);
  return { name, tensor: { type: ortTypeOf(datatype), dims, data: values }, rows };
}

function takeBinary(size: unknown, cursor: BinaryCursor, datatype: Datatype, count: number, name: string): WireTensor['data'] {
  if (!cursor.binary) {
    fail(`input '${name}' has parameters.binary_data_size, but the request has no Inference-Header-Content-Length header to say where its binary data starts`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail(`input '${name}': binary_data_size must be a non-negative integer`);
  const left = cursor.binary.byteLength - cursor.at;
  if (size > left) fail(`input '${name}': binary_data_size is ${size} bytes, but only ${left} bytes of binary data are left in the body`);
  const bytes = cursor.binary.subarray(cursor.at, cursor.at + size);
  cursor.at += size;
  try {
    return decodeBinaryTensor(datatype, bytes, count, cursor.owned);
  } catch (problem) {
    if (typeof problem === 'string') fail(`input '${name}': ${problem} (shape and datatype decide the size)`);
    throw problem;
  }
}

/** Flattens nested `data` (depth at most the tensor's rank) into a typed array, checking each element. */
function flattenInto(data: unknown[], datatype: Datatype, count: number, rank: number, name: string): WireTensor['data'] {
  if ((datatype === 'FP32' || datatype === 'FP64') && data.length === count) {
    // The common case, flat float data: one tight loop (a per-element codec call costs more here
    // than the conversion itself). Anything else takes the general path below, with its messages.
    const out = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
    let i = 0;
    for (; i < count; i++) {
      const v = data[i];
      if (typeof v !== 'number') break;
      out[i] = v;
    }
    if (i === count) return out;
  }
  const codec = codecFor(datatype);
  const out = codec.allocate(count);
  let n = 0;
  const visit = (items: unknown[], depth: number): void => {
    for (const item of items) {
      if (Array.isArray(item)) {
        if (depth >= rank) fail(`input '${name}': 'data' is nested deeper than the tensor's ${rank} dimensions`);
        visit(item, depth + 1);
        continue;
      }
      if (n >= count) {
        n++;
        continue; // keep counting to report the real length
      }
      const problem = codec.store(out, n, item);
      if (problem) fail(`input '${name}': data element ${n} is ${describeValue(item)}; ${datatype} needs ${problem}`);
      n++;
    }
  };
  visit(data, 1);
  if (n !== count) fail(`input '${name}' has ${n} values in 'data', but its shape needs ${count}`);
  return out;
}

function parseEntities(raw: unknown, target: InferTarget): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((e) => typeof e === 'string' && e.length > 0 && e.length <= 256)) {
    fail(`parameters.entities must be a non-empty list of entity ids (strings of 1-256 characters), e.g. ["digit-17"]`);
  }
  const limit = target.maxBatchSize > 0 ? target.maxBatchSize : 1;
  if (raw.length > limit) fail(`${raw.length} entities exceed the ${limit} rows ${target.label} takes per request`);
  return raw as string[];
}

function parseOutputs(raw: unknown, target: InferTarget, binaryByDefault: boolean): RequestedOutput[] {
  const flag = binaryByDefault ? { binary: true } : {};
  if (raw === undefined) return target.outputs.map((o) => ({ name: o.name, ...flag }));
  if (!Array.isArray(raw) || raw.length === 0) fail(`'outputs', when given, must be a non-empty array of {"name": ...}`);
  const seen = new Set<string>();
  return raw.map((o, index) => {
    if (!isPlainObject(o) || typeof o.name !== 'string') fail(`outputs[${index}] must be an object with a 'name'`);
    const meta = target.outputs.find((m) => m.name === o.name);
    if (!meta) fail(`${target.label} has no output '${o.name}'; its outputs are: ${describeTensors(target.outputs)}`);
    if (seen.has(o.name)) fail(`output '${o.name}' is requested twice`);
    seen.add(o.name);
    const params = checkParameters(o.parameters, `output '${o.name}'`);
    if (params.binary_data !== undefined && typeof params.binary_data !== 'boolean') fail(`output '${o.name}': 'binary_data' must be true or false`);
    // Triton: the output's own binary_data wins over the request's binary_data_output.
    const binary = (params.binary_data ?? binaryByDefault) ? { binary: true } : {};
    const k = params.classification;
    if (k === undefined) return { name: o.name, ...binary };
    const classes = meta.shape[meta.shape.length - 1]!;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) fail(`output '${o.name}': 'classification' must be a positive integer`);
    if (meta.datatype === 'BYTES' || meta.datatype === 'BOOL') fail(`output '${o.name}' is ${meta.datatype}; classification needs a numeric output`);
    if (classes !== -1 && k > classes) fail(`output '${o.name}' has ${classes} classes; 'classification' must be at most ${classes}`);
    return { name: o.name, classification: k, ...binary };
  });
}

/** A short description of a JSON value for messages; never throws (deeply nested objects). */
function describeValue(v: unknown): string {
  if (v === null || typeof v !== 'object') return (JSON.stringify(v) ?? String(v)).slice(0, 40);
  return Array.isArray(v) ? 'an array' : 'an object';
}

function describeTensors(tensors: TensorMetadata[]): string {
  return tensors.map((t) => `${t.name} ${t.datatype} ${formatShape(t.shape)}`).join(', ');
}

function exampleShape(meta: TensorMetadata): number[] {
  return meta.shape.map((d) => (d === -1 ? 1 : d));
}
