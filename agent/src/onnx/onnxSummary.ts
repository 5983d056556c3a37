// What an ONNX file says about itself, read from its protobuf: IR version, opsets, producer, the
// operators by type (subgraphs of If/Loop/Scan included) and the parameter count (elements of
// every initializer). Pure: bytes in, summary out. Field numbers are onnx.proto's.
import type { OnnxSummary } from '../../../common/api.js';
import { fields, text, varints, WireError, type WireField } from './protobufWire.js';

// ModelProto
const MODEL = { ir_version: 1, producer_name: 2, producer_version: 3, domain: 4, model_version: 5, doc_string: 6, graph: 7, opset_import: 8 } as const;
// OperatorSetIdProto
const OPSET = { domain: 1, version: 2 } as const;
// GraphProto
const GRAPH = { node: 1, name: 2, initializer: 5, sparse_initializer: 15 } as const;
// NodeProto
const NODE = { op_type: 4, attribute: 5, domain: 7 } as const;
// AttributeProto: a single subgraph (g) or a list of them (graphs)
const ATTRIBUTE = { g: 6, graphs: 11 } as const;
// TensorProto / SparseTensorProto
const TENSOR = { dims: 1, data_location: 14 } as const;
const SPARSE = { values: 1 } as const;

/** Nested subgraphs deeper than this are refused (a crafted file must not exhaust the stack). */
const MAX_DEPTH = 32;

export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
}

interface GraphTally {
  operators: Map<string, number>;
  nodes: number;
  parameters: number;
  initializers: number;
  /** Initializers whose data lives in an external file (their elements still count). */
  external: number;
}

export function summarizeOnnx(buf: Uint8Array): OnnxSummary {
  try {
    return summarize(buf);
  } catch (err) {
    if (err instanceof WireError) throw new OnnxFormatError(`not a readable ONNX file: ${err.message}`);
    throw err;
  }
}

function summarize(buf: Uint8Array): OnnxSummary {
  const out: OnnxSummary = { ir_version: 0, producer_name: '', producer_version: '', domain: '', model_version: 0, doc_string: '', opsets: [], graph_name: '', node_count: 0, operators: {}, parameters: 0, initializers: 0, external_initializers: 0 };
  const tally: GraphTally = { operators: new Map(), nodes: 0, parameters: 0, initializers: 0, external: 0 };
  let sawGraph = false;
  for (const f of fields(buf)) {
    switch (f.field) {
      case MODEL.ir_version:
        out.ir_version = f.int;
        break;
      case MODEL.producer_name:
        out.producer_name = text(f);
        break;
      case MODEL.producer_version:
        out.producer_version = text(f);
        break;
      case MODEL.domain:
        out.domain = text(f);
        break;
      case MODEL.model_version:
        out.model_version = f.int;
        break;
      case MODEL.doc_string:
        out.doc_string = text(f);
        break;
      case MODEL.opset_import:
        out.opsets.push(opset(f));
        break;
      case MODEL.graph:
        sawGraph = true;
        out.graph_name = walkGraph(f.bytes, tally, 0);
        break;
    }
  }
  if (!sawGraph || out.ir_version === 0) throw new OnnxFormatError('not an ONNX model: no graph or IR version');
  out.node_count = tally.nodes;
  // Most frequent first, then by name: the table reads top-down.
  out.operators = Object.fromEntries([...tally.operators].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  out.parameters = tally.parameters;
  out.initializers = tally.initializers;
  out.external_initializers = tally.external;
  return out;
}

function opset(f: WireField): { domain: string; version: number } {
  let domain = '';
  let version = 0;
  for (const g of fields(f.bytes)) {
    if (g.field === OPSET.domain) domain = text(g);
    else if (g.field === OPSET.version) version = g.int;
  }
  // The empty domain is the default one, "ai.onnx".
  return { domain: domain || 'ai.onnx', version };
}

function walkGraph(buf: Uint8Array, tally: GraphTally, depth: number): string {
  if (depth > MAX_DEPTH) throw new OnnxFormatError(`subgraphs nested deeper than ${MAX_DEPTH}`);
  let name = '';
  for (const f of fields(buf)) {
    if (f.field === GRAPH.name) name = text(f);
    else if (f.field === GRAPH.node) walkNode(f.bytes, tally, depth);
    else if (f.field === GRAPH.initializer) countTensor(f.bytes, tally);
    else if (f.field === GRAPH.sparse_initializer) {
      for (const g of fields(f.bytes)) if (g.field === SPARSE.values) countTensor(g.bytes, tally);
    }
  }
  return name;
}

function walkNode(buf: Uint8Array, tally: GraphTally, depth: number): void {
  let op = '';
  let domain = '';
  for (const f of fields(buf)) {
    if (f.field === NODE.op_type) op = text(f);
    else if (f.field === NODE.domain) domain = text(f);
    else if (f.field === NODE.attribute) {
      for (const a of fields(f.bytes)) if (a.field === ATTRIBUTE.g || a.field === ATTRIBUTE.graphs) walkGraph(a.bytes, tally, depth + 1);
    }
  }
  // Custom-domain operators keep their domain: com.microsoft.FusedConv is not ai.onnx's Conv.
  const key = domain && domain !== 'ai.onnx' ? `${domain}.${op}` : op;
  tally.operators.set(key, (tally.operators.get(key) ?? 0) + 1);
  tally.nodes++;
}

function countTensor(buf: Uint8Array, tally: GraphTally): void {
  let elements = 1;
  let external = false;
  for (const f of fields(buf)) {
    if (f.field === TENSOR.dims) for (const d of varints(f)) elements *= d;
    else if (f.field === TENSOR.data_location && f.int === 1) external = true;
  }
  tally.parameters += elements;
  tally.initializers++;
  if (external) tally.external++;
}
