// Triton's extension RPCs (messages in triton_extensions.proto): model configuration, statistics
// and the model repository, with the data and rules of their REST forms in tritonRoutes.ts. The
// REST bodies of ModelConfig and ModelStatistics are the protobuf JSON mapping of these messages
// (field names, enum names, 64-bit integers as numbers), so the same objects are sent as they are;
// proto-loader encodes them field by field. Load and unload follow ModelControl, as REST does.
import { InvalidInputError } from '../errors.js';
import { ModelControl, type RepositoryParameter } from '../models/modelControl.js';
import { tritonModelConfig } from '../protocol/tritonModelConfig.js';
import type { AppDeps } from '../server/appDeps.js';

interface ModelRequest {
  name: string;
  /** Empty: the default version (ModelConfig), every version (ModelStatistics). */
  version: string;
}

/** A ModelRepositoryParameter as proto-loader decodes it: `parameter_choice` names the field set. */
interface ParameterMessage {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'bytes_param';
  bool_param?: boolean;
  /** 64-bit integers arrive as decimal strings. */
  int64_param?: string;
  string_param?: string;
  bytes_param?: Buffer;
}

interface RepositoryRequest {
  repository_name: string;
  ready: boolean;
  model_name: string;
  parameters: Record<string, ParameterMessage>;
}

export function tritonHandlers(deps: AppDeps) {
  const { models, statistics } = deps;
  const control = new ModelControl(models, deps.canaries);
  const versionOf = (req: ModelRequest) => req.version || undefined;

  return {
    ModelConfig: (req: ModelRequest) => ({ config: tritonModelConfig(models.resolve(req.name, versionOf(req))) }),

    ModelStatistics: (req: ModelRequest) => {
      if (!req.name) {
        if (req.version) throw new InvalidInputError(`version ${req.version} needs a model name`);
        return { model_stats: statistics.snapshot() };
      }
      models.isReady(req.name, versionOf(req)); // NOT_FOUND for unknown models and versions, as REST's 404
      return { model_stats: statistics.snapshot(req.name, versionOf(req)) };
    },

    RepositoryIndex: (req: RepositoryRequest) => {
      oneRepository(req);
      return { models: control.index(req.ready).map((e) => ({ name: e.name, version: e.version, state: e.state, reason: e.reason ?? '' })) };
    },

    RepositoryModelLoad: async (req: RepositoryRequest) => {
      oneRepository(req);
      await control.load(req.model_name, parametersOf(req.parameters));
      return {};
    },

    // Its parameters are read and ignored, as REST does (unload_dependents: no dependents here).
    RepositoryModelUnload: async (req: RepositoryRequest) => {
      oneRepository(req);
      await control.unload(req.model_name);
      return {};
    },
  };
}

/** The agent serves one repository: a name would suggest a choice that does not exist. */
function oneRepository(req: RepositoryRequest): void {
  if (req.repository_name) throw new InvalidInputError(`repository "${req.repository_name}": Inferscope serves one model repository; leave repository_name empty`);
}

function parametersOf(parameters: Record<string, ParameterMessage> | undefined): Record<string, RepositoryParameter> {
  const out: Record<string, RepositoryParameter> = {};
  for (const [name, p] of Object.entries(parameters ?? {})) {
    switch (p.parameter_choice) {
      case 'bool_param':
        out[name] = p.bool_param ?? false;
        break;
      case 'int64_param':
        out[name] = Number(p.int64_param);
        break;
      case 'string_param':
        out[name] = p.string_param ?? '';
        break;
      case 'bytes_param':
        out[name] = p.bytes_param ?? new Uint8Array();
        break;
      default:
        throw new InvalidInputError(`load parameter ${name} has no value`);
    }
  }
  return out;
}
