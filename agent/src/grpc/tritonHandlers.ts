// Triton's extension RPCs (model configuration, statistics, repository): placeholders until their
// messages are restated in triton_extensions.proto.
import { status as Status } from '@grpc/grpc-js';
import type { AppDeps } from '../server/appDeps.js';

export function tritonHandlers(_deps: AppDeps): Record<string, () => never> {
  const unimplemented = () => {
    throw Object.assign(new Error('not implemented yet'), { code: Status.UNIMPLEMENTED });
  };
  return {
    ModelConfig: unimplemented,
    ModelStatistics: unimplemented,
    RepositoryIndex: unimplemented,
    RepositoryModelLoad: unimplemented,
    RepositoryModelUnload: unimplemented,
  };
}
