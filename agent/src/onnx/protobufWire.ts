// A minimal reader of the protobuf wire format: enough to walk an ONNX file's messages without a
// generated decoder (the agent bundle stays free of onnx-proto's 1 MB of generated code).
// Numbers are JavaScript numbers: exact up to 2^53, which every ONNX count and dimension fits.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export interface WireField {
  field: number;
  wire: number;
  /** The value of a varint field. */
  int: number;
  /** The bytes of a length-delimited field (a view into the buffer, not a copy). */
  bytes: Uint8Array;
}

export class WireError extends Error {
  override readonly name = 'WireError';
}

/** Reads a varint at `pos`; answers the value and the position after it. */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new WireError('truncated varint');
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new WireError('varint longer than 10 bytes');
}

/** The fields of one message, in file order. Groups (wire types 3, 4) are long deprecated: refused. */
export function* fields(buf: Uint8Array): Generator<WireField> {
  let pos = 0;
  const none = new Uint8Array(0);
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new WireError('field number 0');
    switch (wire) {
      case WIRE_VARINT: {
        const [int, next] = readVarint(buf, pos);
        pos = next;
        yield { field, wire, int, bytes: none };
        break;
      }
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const size = wire === WIRE_FIXED64 ? 8 : 4;
        if (pos + size > buf.length) throw new WireError('truncated fixed-width field');
        yield { field, wire, int: 0, bytes: buf.subarray(pos, pos + size) };
        pos += size;
        break;
      }
      case WIRE_BYTES: {
        const [length, start] = readVarint(buf, pos);
        if (start + length > buf.length) throw new WireError(`field ${field} runs past the end of its message`);
        yield { field, wire, int: 0, bytes: buf.subarray(start, start + length) };
        pos = start + length;
        break;
      }
      default:
        throw new WireError(`unsupported wire type ${wire} (field ${field})`);
    }
  }
}

/** A repeated varint field: packed (one length-delimited run) or one varint per occurrence. */
export function varints(f: WireField): number[] {
  if (f.wire === WIRE_VARINT) return [f.int];
  if (f.wire !== WIRE_BYTES) throw new WireError(`field ${f.field}: expected varints`);
  const out: number[] = [];
  let pos = 0;
  while (pos < f.bytes.length) {
    const [v, next] = readVarint(f.bytes, pos);
    out.push(v);
    pos = next;
  }
  return out;
}

const decoder = new TextDecoder('utf-8');

export function text(f: WireField): string {
  if (f.wire !== WIRE_BYTES) throw new WireError(`field ${f.field}: expected a string`);
  return decoder.decode(f.bytes);
}
