// The CodeLens row above a request file, as data: which actions, their titles and their command
// arguments. Pure (no `vscode`): the provider turns each into a vscode.CodeLens.
import type { AgentStatus } from '../../../common/api.js';
import type { RequestTarget } from './requestTarget.js';

export interface LensSpec {
  title: string;
  tooltip: string;
  command: string;
  /** The command's one argument (the provider adds the document's URI). */
  arg: { model?: string; version?: string; versions?: [string, string] };
}

export interface ServedModel {
  name: string;
  /** Versions that are ready, in the agent's order. */
  versions: string[];
  defaultVersion?: string;
}

export function servedModels(status: AgentStatus | undefined): ServedModel[] {
  return (status?.models ?? []).map((m) => ({
    name: m.name,
    versions: m.versions.filter((v) => v.state === 'ready').map((v) => v.version),
    ...(m.default_version !== undefined ? { defaultVersion: m.default_version } : {}),
  }));
}

export function requestLenses(target: RequestTarget | undefined, models: ServedModel[] | undefined): LensSpec[] {
  if (models === undefined) {
    return [{ title: '$(play) Start the Inferscope agent to send this request', tooltip: 'The agent is not running', command: 'inferscope.startAgent', arg: {} }];
  }
  if (!target) {
    return [{ title: '$(play) Send to a model…', tooltip: 'Name the model with "model_name" in the body, or call the file <model>.infer.json', command: 'inferscope.sendRequest', arg: {} }];
  }
  const { model } = target;
  const served = models.find((m) => m.name === model);
  const lenses: LensSpec[] = [
    {
      title: `$(play) Send to ${model}`,
      tooltip: `POST /v2/models/${model}/infer: the model's routing picks the version (the default, or the canary split). Model from ${target.from === 'model_name' ? 'the body\'s "model_name"' : 'the file name'}.`,
      command: 'inferscope.sendRequest',
      arg: { model },
    },
  ];
  for (const v of served?.versions ?? []) {
    lenses.push({ title: `v${v}${v === served!.defaultVersion ? ' (default)' : ''}`, tooltip: `POST /v2/models/${model}/versions/${v}/infer`, command: 'inferscope.sendRequest', arg: { model, version: v } });
  }
  const versions = served?.versions ?? [];
  if (versions.length === 2) {
    lenses.push({ title: `$(diff) Compare v${versions[0]} ↔ v${versions[1]}`, tooltip: 'Send to both versions; per output, the largest difference and the rows whose argmax differs', command: 'inferscope.compareRequest', arg: { model, versions: [versions[0]!, versions[1]!] } });
  } else if (versions.length > 2) {
    lenses.push({ title: '$(diff) Compare versions…', tooltip: 'Pick two versions; send to both and compare their outputs', command: 'inferscope.compareRequest', arg: { model } });
  }
  return lenses;
}
