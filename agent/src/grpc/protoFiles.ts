// Loads the service definition (agent/proto/*.proto): each method's path and its message codecs,
// for the server, and for tests and benches that build a client from the same files. The bundle
// carries the files in dist/agent/proto.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSync, type MethodDefinition, type Options, type ServiceDefinition } from '@grpc/proto-loader';

/** How messages become JavaScript values: field names as in the .proto, 64-bit integers as strings. */
export const PROTO_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export const SERVICE_NAME = 'inference.GRPCInferenceService';

/** The folder holding inference.proto: next to the bundle, or in the source tree. */
export function protoDir(): string {
  const candidates = [join(__dirname, 'proto'), join(__dirname, '..', '..', 'proto')];
  const dir = candidates.find((d) => existsSync(join(d, 'inference.proto')));
  if (!dir) throw new Error(`inference.proto not found (looked in ${candidates.join(', ')})`);
  return dir;
}

export type InferenceServiceDefinition = ServiceDefinition & Record<string, MethodDefinition<object, object>>;

/** inference.GRPCInferenceService: its methods by name, with `requestDeserialize`/`responseSerialize`. */
export function inferenceServiceDefinition(dir = protoDir()): InferenceServiceDefinition {
  const definition = loadSync('inference.proto', { ...PROTO_OPTIONS, includeDirs: [dir] });
  return definition[SERVICE_NAME] as InferenceServiceDefinition;
}
