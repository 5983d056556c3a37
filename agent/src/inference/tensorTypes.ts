// Mapping between Open Inference Protocol datatypes and ONNX Runtime tensor types.
import type { Datatype } from '../../../common/api.js';

export type OrtType =
  | 'bool'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'string';

export type TensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

/** A tensor as it crosses the worker boundary: plain data, transferable buffers. */
export interface WireTensor {
  type: OrtType;
  dims: number[];
  data: TensorValues;
}

const V2_TO_ORT: Record<Datatype, OrtType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const ORT_TO_V2 = Object.fromEntries(Object.entries(V2_TO_ORT).map(([v2, o]) => [o, v2])) as Record<OrtType, Datatype>;

export function ortTypeOf(datatype: Datatype): OrtType {
  return V2_TO_ORT[datatype];
}

/** undefined for ONNX types the protocol cannot carry (e.g. complex). */
export function datatypeOf(ortType: string): Datatype | undefined {
  return (ORT_TO_V2 as Record<string, Datatype | undefined>)[ortType];
}

export const DATATYPES = Object.keys(V2_TO_ORT) as Datatype[];

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && value in V2_TO_ORT;
}

/** Per-datatype conversion of one JSON element, and the typed array that holds it. */
interface ElementCodec {
  allocate(n: number): TensorValues;
  /** Returns an error description, or undefined when stored. */
  store(target: TensorValues, index: number, value: unknown): string | undefined;
}

function integerCodec(
  Ctor: new (n: number) => Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array,
  min: number,
  max: number,
): ElementCodec {
  return {
    allocate: (n) => new Ctor(n),
    store(target, i, v) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return `an integer in [${min}, ${max}]`;
      (target as Int32Array)[i] = v;
      return undefined;
    },
  };
}

function bigIntCodec(Ctor: typeof BigInt64Array | typeof BigUint64Array, unsigned: boolean): ElementCodec {
  return {
    allocate: (n) => new Ctor(n),
    store(target, i, v) {
      // JSON numbers are exact only up to 2^53; larger values must come as decimal strings.
      let big: bigint;
      if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
      else if (typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v)) big = BigInt(v);
      else return 'an integer (a JSON number up to 2^53, or a decimal string)';
      const min = unsigned ? 0n : -(2n ** 63n);
      const max = unsigned ? 2n ** 64n - 1n : 2n ** 63n - 1n;
      if (big < min || big > max) return `an integer in [${min}, ${max}]`;
      (target as BigInt64Array)[i] = big;
      return undefined;
    },
  };
}

function floatCodec(Ctor: typeof Float32Array | typeof Float64Array): ElementCodec {
  return {
    allocate: (n) => new Ctor(n),
    store(target, i, v) {
      if (typeof v !== 'number') return 'a number';
      (target as Float32Array)[i] = v;
      return undefined;
    },
  };
}

const FLOAT16_CODEC: ElementCodec = {
  allocate: (n) => new Uint16Array(n),
  store(target, i, v) {
    if (typeof v !== 'number') return 'a number';
    (target as Uint16Array)[i] = toFloat16Bits(v);
    return undefined;
  },
};

const CODECS: Record<Datatype, ElementCodec> = {
  BOOL: {
    allocate: (n) => new Uint8Array(n),
    store(target, i, v) {
      if (typeof v !== 'boolean') return 'true or false';
      (target as Uint8Array)[i] = v ? 1 : 0;
      return undefined;
    },
  },
  UINT8: integerCodec(Uint8Array, 0, 255),
  UINT16: integerCodec(Uint16Array, 0, 65535),
  UINT32: integerCodec(Uint32Array, 0, 4294967295),
  UINT64: bigIntCodec(BigUint64Array, true),
  INT8: integerCodec(Int8Array, -128, 127),
  INT16: integerCodec(Int16Array, -32768, 32767),
  INT32: integerCodec(Int32Array, -2147483648, 2147483647),
  INT64: bigIntCodec(BigInt64Array, false),
  FP16: FLOAT16_CODEC,
  FP32: floatCodec(Float32Array),
  FP64: floatCodec(Float64Array),
  BYTES: {
    allocate: (n) => new Array<string>(n).fill(''),
    store(target, i, v) {
      if (typeof v !== 'string') return 'a string';
      (target as string[])[i] = v;
      return undefined;
    },
  },
};

export function codecFor(datatype: Datatype): ElementCodec {
  return CODECS[datatype];
}

/** Converts tensor values to JSON-ready values for a response. */
export function toJsonValues(datatype: Datatype, data: TensorValues): number[] | boolean[] | string[] {
  if (Array.isArray(data)) return data;
  switch (datatype) {
    case 'BOOL':
      return Array.from(data as Uint8Array, (v) => v !== 0);
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array, (v) => Number(v));
    case 'FP16':
      return Array.from(data as Uint16Array, fromFloat16Bits);
    default:
      return Array.from(data as Float32Array);
  }
}

// IEEE 754 half precision, round-to-nearest-even.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - e);
    if (mant & 0x1000 && mant & 0x2fff) mant += 0x2000;
    return sign | (mant >>> 13);
  }
  if (mant & 0x1000 && mant & 0x2fff) {
    mant += 0x2000;
    if (mant & 0x800000) {
      mant = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | (mant >>> 13);
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
