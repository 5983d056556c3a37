// Triton's binary tensor data extension (docs/protocol/extension_binary_data.md): a tensor's
// elements as raw bytes, little-endian, row major, no padding; BOOL one byte each; BYTES elements
// each as a 4-byte little-endian length followed by that many bytes. Pure: bytes <-> typed arrays.
import { endianness } from 'node:os';
import type { Datatype } from '../../../common/api.js';
import type { TensorValues } from '../inference/tensorTypes.js';

// Typed arrays use the host's byte order; the wire is little-endian. Every platform that
// onnxruntime-node ships for (x64, arm64) is little-endian: refuse to start rather than corrupt.
if (endianness() !== 'LE') throw new Error('the binary tensor extension needs a little-endian host');

/** Bytes per element of each fixed-size datatype (BYTES has none). */
export const ELEMENT_BYTES: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

type Ctor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => Exclude<TensorValues, string[]>;
const ARRAYS: Record<Exclude<Datatype, 'BYTES'>, Ctor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  FP16: Uint16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  FP32: Float32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP64: Float64Array,
};

/** Why `bytes` cannot hold `count` elements of `datatype`, or undefined if it can. */
export function binarySizeProblem(datatype: Datatype, bytes: number, count: number): string | undefined {
  if (datatype === 'BYTES') return undefined; // checked while decoding: elements have their own lengths
  const want = count * ELEMENT_BYTES[datatype];
  return bytes === want ? undefined : `binary_data_size is ${bytes} bytes, but its shape needs ${count} × ${datatype} = ${want} bytes`;
}

/**
 * Decodes `count` elements. The bytes are copied into a fresh, aligned buffer (a slice of the
 * request body is neither aligned nor safe to transfer to a worker), unless `owned` says the
 * bytes' buffer belongs to this request alone (gRPC's message buffer, placed so the tensor is
 * aligned): then an aligned slice is used as it is, and goes to the worker with its buffer.
 * Throws a message (string) describing what is wrong, for the caller to attach the input's name to.
 */
export function decodeBinaryTensor(datatype: Datatype, bytes: Uint8Array, count: number, owned = false): TensorValues {
  if (datatype === 'BYTES') return decodeBytesElements(bytes, count);
  const problem = binarySizeProblem(datatype, bytes.byteLength, count);
  if (problem) throw problem;
  const Typed = ARRAYS[datatype];
  let out: Exclude<TensorValues, string[]>;
  if (owned && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset % ELEMENT_BYTES[datatype] === 0) {
    out = new Typed(bytes.buffer, bytes.byteOffset, count);
  } else {
    const buffer = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    out = new Typed(buffer);
  }
  if (datatype === 'BOOL') {
    const b = out as Uint8Array;
    for (let i = 0; i < b.length; i++) if (b[i]! > 1) b[i] = 1;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function decodeBytesElements(bytes: Uint8Array, count: number): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) throw `binary data ends before BYTES element ${i} of ${count}`;
    const len = view.getUint32(at, true);
    at += 4;
    if (at + len > bytes.byteLength) throw `BYTES element ${i} claims ${len} bytes, but only ${bytes.byteLength - at} remain`;
    out[i] = utf8.decode(bytes.subarray(at, at + len));
    at += len;
  }
  if (at !== bytes.byteLength) throw `binary data holds ${bytes.byteLength - at} bytes after its ${count} BYTES elements`;
  return out;
}

/** The wire bytes of a tensor (a view, not a copy, for typed arrays). */
export function encodeBinaryTensor(data: TensorValues): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const parts = data.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}
