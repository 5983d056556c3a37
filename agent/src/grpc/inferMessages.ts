// ModelInfer messages <-> the agent's inference path. A gRPC request becomes exactly what the REST
// path takes with the binary tensor data extension: the JSON part (names, datatypes, shapes,
// parameters) and the tensors' bytes. Typed `contents` are packed into the same bytes, so one
// parser validates both protocols, and REST and gRPC requests share batches.
import type { Datatype, Parameters } from '../../../common/api.js';
import { InvalidInputError } from '../errors.js';
import { decodeBinaryTensor } from '../protocol/binaryTensors.js';
import type { BuiltResponse } from '../protocol/buildInferResponse.js';
import type { InferPayload } from '../serving/inferenceService.js';

/** InferParameter, as proto-loader gives it (oneofs: true, 64-bit integers as strings). */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

export interface TensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: (string | number)[];
  uint_contents?: number[];
  uint64_contents?: (string | number)[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: { name: string; datatype: string; shape: string[]; parameters: Record<string, InferParameter>; contents?: TensorContents | null }[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Buffer[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  outputs: { name: string; datatype: string; shape: number[]; parameters: Record<string, InferParameter>; contents?: TensorContents }[];
  raw_output_contents: Buffer[];
}

export interface GrpcInfer {
  payload: InferPayload;
  /** Answer in raw_output_contents (the request used raw_input_contents). */
  raw: boolean;
}

function fail(message: string): never {
  throw new InvalidInputError(message);
}

function parameterValue(p: InferParameter, where: string): string | number | boolean {
  switch (p.parameter_choice) {
    case 'bool_param':
      return p.bool_param!;
    case 'string_param':
      return p.string_param!;
    case 'double_param':
      return p.double_param!;
    case 'int64_param':
    case 'uint64_param': {
      const n = Number(p[p.parameter_choice]);
      if (!Number.isSafeInteger(n)) fail(`${where}: ${p[p.parameter_choice]} is too large for the agent`);
      return n;
    }
    default:
      fail(`${where} has no value`);
  }
}

function parametersOf(map: Record<string, InferParameter>, where: string): Parameters | undefined {
  const entries = Object.entries(map);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([k, v]) => [k, parameterValue(v, `${where} parameter '${k}'`)]));
}

function shapeOf(shape: string[], where: string): number[] {
  return shape.map((d) => {
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0) fail(`${where}: shape dimension ${d} is not a size`);
    return n;
  });
}

const INT_RANGES: Partial<Record<Datatype, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

/** A typed `contents` as the binary extension's bytes (little-endian, BYTES length-prefixed). */
export function contentsToBytes(datatype: string, c: TensorContents, name: string): Buffer {
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const ints = (values: number[] | undefined, make: (v: number[]) => ArrayBufferView) => {
    const range = INT_RANGES[datatype as Datatype]!;
    const vs = values ?? [];
    const bad = vs.find((v) => v < range[0] || v > range[1]);
    if (bad !== undefined) fail(`input '${name}': ${bad} is out of range for ${datatype}`);
    return bytes(make(vs));
  };
  const bigs = (values: (string | number)[] | undefined) => (values ?? []).map((v) => BigInt(v));
  switch (datatype) {
    case 'BOOL':
      return Buffer.from((c.bool_contents ?? []).map((b) => (b ? 1 : 0)));
    case 'INT8':
      return ints(c.int_contents, (v) => Int8Array.from(v));
    case 'INT16':
      return ints(c.int_contents, (v) => Int16Array.from(v));
    case 'INT32':
      return ints(c.int_contents, (v) => Int32Array.from(v));
    case 'UINT8':
      return ints(c.uint_contents, (v) => Uint8Array.from(v));
    case 'UINT16':
      return ints(c.uint_contents, (v) => Uint16Array.from(v));
    case 'UINT32':
      return ints(c.uint_contents, (v) => Uint32Array.from(v));
    case 'INT64':
      return bytes(BigInt64Array.from(bigs(c.int64_contents)));
    case 'UINT64':
      return bytes(BigUint64Array.from(bigs(c.uint64_contents)));
    case 'FP32':
      return bytes(Float32Array.from(c.fp32_contents ?? []));
    case 'FP64':
      return bytes(Float64Array.from(c.fp64_contents ?? []));
    case 'BYTES':
      return Buffer.concat(
        (c.bytes_contents ?? []).flatMap((b) => {
          const length = Buffer.alloc(4);
          length.writeUInt32LE(b.length);
          return [length, b];
        }),
      );
    case 'FP16':
      fail(`input '${name}': FP16 has no typed contents field; send it in raw_input_contents`);
    // falls through (fail never returns)
    default:
      fail(`input '${name}': unknown datatype "${datatype}"`);
  }
}

/** ModelInferRequest's field number of `raw_input_contents` (agent/proto/inference.proto). */
const RAW_INPUT_CONTENTS_FIELD = 7;

/**
 * Where the first `raw_input_contents` entry's bytes start in a ModelInferRequest, read from the
 * message's first bytes; undefined when they end before it (or are not protobuf). Encoders write
 * fields in number order, so the tensor comes after the small fields, usually in the first DATA
 * frame: the transport places the message so that it is aligned, and it is used in place.
 */
export function rawContentsOffset(head: Uint8Array): number | undefined {
  let at = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= head.length) return undefined;
      const byte = head[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined; // longer than any length or tag this message holds
  };
  while (at < head.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    switch (tag & 7) {
      case 0:
        if (varint() === undefined) return undefined;
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const length = varint();
        if (length === undefined) return undefined;
        if (tag >>> 3 === RAW_INPUT_CONTENTS_FIELD) return at;
        at += length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

/**
 * The request as the REST path's JSON part and binary part (see the file's comment). `owned`: the
 * request's bytes are its alone (UnaryCall.owned), so one raw input is used in place.
 */
export function toInferPayload(req: ModelInferRequest, owned = false): GrpcInfer {
  const raw = req.raw_input_contents.length > 0;
  if (raw && req.raw_input_contents.length !== req.inputs.length) {
    fail(`raw_input_contents has ${req.raw_input_contents.length} entries, but the request has ${req.inputs.length} inputs; give one per input, in order`);
  }
  const chunks: Buffer[] = [];
  const inputs = req.inputs.map((input, i) => {
    const where = `input '${input.name}'`;
    let bytes: Buffer;
    if (raw) {
      if (input.contents) fail(`${where}: give its data in raw_input_contents or in contents, not both`);
      bytes = req.raw_input_contents[i]!;
    } else {
      if (!input.contents) fail(`${where} has no contents; give its elements in contents or every input in raw_input_contents`);
      bytes = contentsToBytes(input.datatype, input.contents, input.name);
    }
    chunks.push(bytes);
    const parameters = { ...parametersOf(input.parameters, where), binary_data_size: bytes.length };
    return { name: input.name, datatype: input.datatype, shape: shapeOf(input.shape, where), parameters };
  });
  const parameters = parametersOf(req.parameters, 'the request');
  // Every output comes back as bytes; typed answers are unpacked from them (fromBuiltResponse).
  const outputs = req.outputs.map((o) => ({ name: o.name, parameters: { ...parametersOf(o.parameters, `output '${o.name}'`), binary_data: true } }));
  const body = {
    model_name: req.model_name,
    ...(req.model_version ? { model_version: req.model_version } : {}),
    ...(req.id ? { id: req.id } : {}),
    parameters: { ...parameters, binary_data_output: true },
    inputs,
    ...(outputs.length ? { outputs } : {}),
  };
  // One input (the common case) is passed as it is: Buffer.concat would copy it. Owned raw bytes
  // become the tensor itself (no aligned copy), and go to the worker with their buffer.
  if (chunks.length === 1) return { payload: { body, binary: chunks[0]!, ...(owned && raw ? { ownsBinary: true } : {}) }, raw };
  return { payload: { body, binary: Buffer.concat(chunks) }, raw };
}

/** The REST path's answer (JSON part and binary outputs) as a ModelInferResponse. */
export function fromBuiltResponse(built: BuiltResponse, raw: boolean): ModelInferResponse {
  const { response, binary } = built;
  // FP16 has no typed field: a response with an FP16 output is raw throughout.
  const asRaw = raw || response.outputs.some((o) => o.datatype === 'FP16');
  const outputs = response.outputs.map((o, i) => {
    const base = { name: o.name, datatype: o.datatype, shape: o.shape, parameters: {} };
    if (asRaw) return base;
    const count = o.shape.reduce((a, b) => a * b, 1);
    return { ...base, contents: bytesToContents(o.datatype, binary[i]!, count) };
  });
  return {
    model_name: response.model_name,
    model_version: response.model_version ?? '',
    id: response.id ?? '',
    parameters: {},
    outputs,
    raw_output_contents: asRaw ? binary.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)) : [],
  };
}

function bytesToContents(datatype: Datatype, bytes: Uint8Array, count: number): TensorContents {
  const values = decodeBinaryTensor(datatype, bytes, count);
  const numbers = () => Array.from(values as ArrayLike<number>);
  switch (datatype) {
    case 'BOOL':
      return { bool_contents: Array.from(values as Uint8Array, (v) => v !== 0) };
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return { int_contents: numbers() };
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return { uint_contents: numbers() };
    case 'INT64':
      return { int64_contents: Array.from(values as BigInt64Array, String) };
    case 'UINT64':
      return { uint64_contents: Array.from(values as BigUint64Array, String) };
    case 'FP32':
      return { fp32_contents: numbers() };
    case 'FP64':
      return { fp64_contents: numbers() };
    case 'BYTES':
      return { bytes_contents: (values as string[]).map((s) => Buffer.from(s, 'utf8')) };
    default:
      return {};
  }
}
