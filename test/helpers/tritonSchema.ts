// Triton's field numbers and types for the messages agent/proto/triton_extensions.proto restates,
// written out here independently of that file (from triton-inference-server/common,
// protobuf/grpc_service.proto and protobuf/model_config.proto), so that the tests can (1) compare
// them with what our .proto declares and (2) decode the agent's answers with a schema built from
// this table alone. A typo in either place then fails a test instead of corrupting a field for
// tritonclient or perf_analyzer.
import assert from 'node:assert/strict';
import { Enum, Field, MapField, Namespace, Root, Type, type ReflectionObject } from 'protobufjs';

/** Per message (nested ones as Outer.Inner): field → "<number> [repeated ]<type>" or "<number> map<key,value>". */
export const TRITON_MESSAGES: Record<string, Record<string, string>> = {
  // grpc_service.proto
  ModelConfigRequest: { name: '1 string', version: '2 string' },
  ModelConfigResponse: { config: '1 ModelConfig' },
  ModelStatisticsRequest: { name: '1 string', version: '2 string' },
  ModelStatisticsResponse: { model_stats: '1 repeated ModelStatistics' },
  ModelStatistics: {
    name: '1 string',
    version: '2 string',
    last_inference: '3 uint64',
    inference_count: '4 uint64',
    execution_count: '5 uint64',
    inference_stats: '6 InferStatistics',
    batch_stats: '7 repeated InferBatchStatistics',
  },
  StatisticDuration: { count: '1 uint64', ns: '2 uint64' },
  InferStatistics: {
    success: '1 StatisticDuration',
    fail: '2 StatisticDuration',
    queue: '3 StatisticDuration',
    compute_input: '4 StatisticDuration',
    compute_infer: '5 StatisticDuration',
    compute_output: '6 StatisticDuration',
    cache_hit: '7 StatisticDuration',
    cache_miss: '8 StatisticDuration',
  },
  InferBatchStatistics: { batch_size: '1 uint64', compute_input: '2 StatisticDuration', compute_infer: '3 StatisticDuration', compute_output: '4 StatisticDuration' },
  ModelRepositoryParameter: { bool_param: '1 bool', int64_param: '2 int64', string_param: '3 string', bytes_param: '4 bytes' },
  RepositoryIndexRequest: { repository_name: '1 string', ready: '2 bool' },
  RepositoryIndexResponse: { models: '1 repeated RepositoryIndexResponse.ModelIndex' },
  'RepositoryIndexResponse.ModelIndex': { name: '1 string', version: '2 string', state: '3 string', reason: '4 string' },
  RepositoryModelLoadRequest: { repository_name: '1 string', model_name: '2 string', parameters: '3 map<string,ModelRepositoryParameter>' },
  RepositoryModelLoadResponse: {},
  RepositoryModelUnloadRequest: { repository_name: '1 string', model_name: '2 string', parameters: '3 map<string,ModelRepositoryParameter>' },
  RepositoryModelUnloadResponse: {},
  // model_config.proto
  ModelConfig: {
    name: '1 string',
    platform: '2 string',
    version_policy: '3 ModelVersionPolicy',
    max_batch_size: '4 int32',
    input: '5 repeated ModelInput',
    output: '6 repeated ModelOutput',
    instance_group: '7 repeated ModelInstanceGroup',
    default_model_filename: '8 string',
    cc_model_filenames: '9 map<string,string>',
    metric_tags: '10 map<string,string>',
    dynamic_batching: '11 ModelDynamicBatching',
    parameters: '14 map<string,ModelParameter>',
    backend: '17 string',
  },
  ModelVersionPolicy: { all: '2 ModelVersionPolicy.All' },
  'ModelVersionPolicy.All': {},
  ModelInput: {
    name: '1 string',
    data_type: '2 DataType',
    format: '3 ModelInput.Format',
    dims: '4 repeated int64',
    is_shape_tensor: '6 bool',
    allow_ragged_batch: '7 bool',
    optional: '8 bool',
  },
  ModelOutput: { name: '1 string', data_type: '2 DataType', dims: '3 repeated int64', label_filename: '4 string', is_shape_tensor: '6 bool' },
  ModelInstanceGroup: {
    name: '1 string',
    count: '2 int32',
    gpus: '3 repeated int32',
    kind: '4 ModelInstanceGroup.Kind',
    profile: '5 repeated string',
    passive: '7 bool',
    host_policy: '9 string',
  },
  ModelDynamicBatching: {
    preferred_batch_size: '1 repeated int32',
    max_queue_delay_microseconds: '2 uint64',
    preserve_ordering: '3 bool',
    // uint64 in Triton's current file (uint32 in older ones: the same varint on the wire).
    priority_levels: '4 uint64',
    default_priority_level: '5 uint64',
    default_queue_policy: '6 ModelQueuePolicy',
    priority_queue_policy: '7 map<uint64,ModelQueuePolicy>',
  },
  ModelQueuePolicy: { timeout_action: '1 ModelQueuePolicy.TimeoutAction', default_timeout_microseconds: '2 uint64', allow_timeout_override: '3 bool', max_queue_size: '4 uint32' },
  ModelParameter: { string_value: '1 string' },
};

export const TRITON_ENUMS: Record<string, Record<string, number>> = {
  DataType: {
    TYPE_INVALID: 0,
    TYPE_BOOL: 1,
    TYPE_UINT8: 2,
    TYPE_UINT16: 3,
    TYPE_UINT32: 4,
    TYPE_UINT64: 5,
    TYPE_INT8: 6,
    TYPE_INT16: 7,
    TYPE_INT32: 8,
    TYPE_INT64: 9,
    TYPE_FP16: 10,
    TYPE_FP32: 11,
    TYPE_FP64: 12,
    TYPE_STRING: 13,
  },
  'ModelInstanceGroup.Kind': { KIND_AUTO: 0, KIND_GPU: 1, KIND_CPU: 2 },
  'ModelInput.Format': { FORMAT_NONE: 0 },
  'ModelQueuePolicy.TimeoutAction': { REJECT: 0 },
};

interface FieldSpec {
  id: number;
  repeated: boolean;
  keyType?: string;
  type: string;
}

function parseSpec(spec: string): FieldSpec {
  const map = /^(\d+) map<(\w+),([\w.]+)>$/.exec(spec);
  if (map) return { id: Number(map[1]), repeated: false, keyType: map[2]!, type: map[3]! };
  const plain = /^(\d+) (repeated )?([\w.]+)$/.exec(spec);
  if (!plain) throw new Error(`bad field spec "${spec}"`);
  return { id: Number(plain[1]), repeated: plain[2] !== undefined, type: plain[3]! };
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'uint32', 'int64', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'float', 'double']);
const typeName = (field: Field): string => (field.resolvedType ? field.resolvedType.fullName.replace(/^\.inference\./, '') : field.type);

/**
 * Asserts that `root` (triton_extensions.proto alone) declares exactly the table's messages and
 * enums, with the same fields, numbers, types and cardinality, and the same enum values.
 */
export function assertMatchesTriton(root: Root): void {
  root.resolveAll();
  const declared = { messages: [] as string[], enums: [] as string[] };
  const walk = (ns: Namespace) => {
    for (const child of ns.nestedArray) {
      const name = child.fullName.replace(/^\.inference\./, '');
      if (child instanceof Type) declared.messages.push(name);
      if (child instanceof Enum) declared.enums.push(name);
      if (child instanceof Namespace) walk(child);
    }
  };
  walk(root.lookup('inference') as Namespace);
  assert.deepEqual(declared.messages.sort(), Object.keys(TRITON_MESSAGES).sort(), 'messages declared vs the table');
  assert.deepEqual(declared.enums.sort(), Object.keys(TRITON_ENUMS).sort(), 'enums declared vs the table');
  for (const [message, fields] of Object.entries(TRITON_MESSAGES)) {
    const type = root.lookupType(`inference.${message}`);
    const ours: Record<string, string> = {};
    for (const f of type.fieldsArray) {
      const key = f instanceof MapField ? `${f.id} map<${f.keyType},${typeName(f)}>` : `${f.id} ${f.repeated ? 'repeated ' : ''}${typeName(f)}`;
      ours[f.name] = key;
    }
    assert.deepEqual(ours, fields, `message ${message}: our fields differ from Triton's`);
  }
  for (const [name, values] of Object.entries(TRITON_ENUMS)) {
    assert.deepEqual({ ...root.lookupEnum(`inference.${name}`).values }, values, `enum ${name}: our values differ from Triton's`);
  }
}

/** A schema built from the table alone (package inference), to decode the agent's bytes with. */
export function tritonRoot(): Root {
  const root = new Root();
  const pkg = root.define('inference');
  const parentOf = (name: string): Namespace => {
    const dot = name.lastIndexOf('.');
    return dot < 0 ? pkg : (pkg.lookup(name.slice(0, dot)) as Namespace);
  };
  const local = (name: string) => name.slice(name.lastIndexOf('.') + 1);
  // Outer messages before the ones nested in them.
  const byDepth = (a: string, b: string) => a.split('.').length - b.split('.').length;
  for (const name of Object.keys(TRITON_MESSAGES).sort(byDepth)) parentOf(name).add(new Type(local(name)));
  for (const name of Object.keys(TRITON_ENUMS)) parentOf(name).add(new Enum(local(name), TRITON_ENUMS[name]));
  for (const [message, fields] of Object.entries(TRITON_MESSAGES)) {
    const type = pkg.lookup(message) as Type;
    for (const [field, spec] of Object.entries(fields)) {
      const s = parseSpec(spec);
      const ref = SCALARS.has(s.type) ? s.type : `.inference.${s.type}`;
      const f: ReflectionObject = s.keyType ? new MapField(field, s.id, s.keyType, ref) : new Field(field, s.id, ref, s.repeated ? 'repeated' : undefined);
      type.add(f);
    }
  }
  root.resolveAll();
  return root;
}

/** Decodes bytes of `message` with the table's schema, in proto-loader's form (names as declared, 64-bit as strings). */
export function decodeWithTriton(message: string, bytes: Uint8Array): Record<string, any> {
  const type = tritonRoot().lookupType(`inference.${message}`);
  return type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true, arrays: true, objects: true }) as Record<string, any>;
}

/** proto3 leaves these off the wire: a JSON field missing from a message must hold one of them. */
export function isProtoDefault(v: unknown): boolean {
  if (v === '' || v === 0 || v === false || v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/**
 * Asserts that `decoded` (a message as decoded, 64-bit integers as strings) carries every field of
 * `json` (the REST answer, the JSON mapping of the same message) with the same value; a JSON field
 * the message does not declare must be empty (it never reaches the wire). Returns the JSON paths
 * left out that way, for the caller to check.
 */
export function assertSameAsJson(decoded: unknown, json: unknown, path = '$', leftOut: string[] = []): string[] {
  if (Array.isArray(json)) {
    assert.ok(Array.isArray(decoded), `${path}: expected an array, got ${JSON.stringify(decoded)}`);
    assert.equal(decoded.length, json.length, `${path}: length`);
    json.forEach((item, i) => assertSameAsJson(decoded[i], item, `${path}[${i}]`, leftOut));
  } else if (json !== null && typeof json === 'object') {
    assert.ok(decoded !== null && typeof decoded === 'object', `${path}: expected an object, got ${JSON.stringify(decoded)}`);
    for (const [key, value] of Object.entries(json)) {
      const d = (decoded as Record<string, unknown>)[key];
      if (d === undefined) {
        assert.ok(isProtoDefault(value), `${path}.${key} = ${JSON.stringify(value)} is not in the message`);
        leftOut.push(`${path}.${key}`);
      } else assertSameAsJson(d, value, `${path}.${key}`, leftOut);
    }
  } else if (typeof json === 'number') {
    assert.equal(Number(decoded), json, `${path}`);
  } else {
    assert.equal(decoded, json, `${path}`);
  }
  return leftOut;
}
