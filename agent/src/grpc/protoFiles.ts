// Loads the service definition (agent/proto/*.proto) for the server, and for tests and benches
// that need a client built from the same files. The bundle carries the files in dist/agent/proto.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/** How messages become JavaScript values: field names as in the .proto, 64-bit integers as strings. */
export const PROTO_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The folder holding inference.proto: next to the bundle, or in the source tree. */
export function protoDir(): string {
  const candidates = [join(__dirname, 'proto'), join(__dirname, '..', '..', 'proto')];
  const dir = candidates.find((d) => existsSync(join(d, 'inference.proto')));
  if (!dir) throw new Error(`inference.proto not found (looked in ${candidates.join(', ')})`);
  return dir;
}

export function loadInferenceService(dir = protoDir()): ServiceClientConstructor {
  const definition = loadSync('inference.proto', { ...PROTO_OPTIONS, includeDirs: [dir] });
  const inference = loadPackageDefinition(definition).inference as GrpcObject;
  return inference.GRPCInferenceService as ServiceClientConstructor;
}
