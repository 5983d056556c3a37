// Copy curl Example and Copy Token: so a user can reach the extension's agent from a terminal
// (its port is random and its token made per launch). From a Models tree row (model or version) or
// the palette. Both resolve with the copied text (tests).
import * as vscode from 'vscode';
import { curlExample } from '../requests/curlExample.js';
import { newRequestBody } from '../requests/requestBody.js';
import type { Services } from '../services.js';
import { exampleBodies } from '../traffic/testInputs.js';
import { guarded, requireAgent } from './guard.js';
import { pickModel } from './pickVersion.js';

interface CopyArg {
  /** A model row has `name`; a version row and the argument form have `model`. */
  name?: string;
  model?: string;
  version?: string;
}

export function registerCopyCommands(s: Services): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  return [
    reg(
      'inferscope.copyCurlExample',
      guarded(s, 'Copy curl Example', async (arg?: CopyArg): Promise<string | undefined> => {
        requireAgent(s);
        const endpoint = s.agent.endpoint()!;
        const status = await s.client.status();
        const model = arg?.model ?? arg?.name ?? (await pickModel(status, 'Inferscope: Copy curl Example for which model?'));
        if (!model) return undefined;
        const meta = await s.client.modelMetadata(model, arg?.version);
        const body = newRequestBody(model, meta, exampleBodies(status.agent.model_repository, model)[0]);
        // Triton's shape of a request: inputs only; the agent answers every output.
        const text = curlExample({ url: endpoint.url, model, ...(arg?.version !== undefined ? { version: arg.version } : {}), token: endpoint.token, body: { inputs: body.inputs } });
        await vscode.env.clipboard.writeText(text);
        void vscode.window.showInformationMessage(`Inferscope: copied a curl command for ${model}${arg?.version !== undefined ? ` v${arg.version}` : ''}${endpoint.token ? " (it holds the agent's token: keep it to yourself)" : ''}.`);
        return text;
      }),
    ),
    reg(
      'inferscope.copyToken',
      guarded(s, 'Copy Token', async (): Promise<string | undefined> => {
        requireAgent(s);
        const { token } = s.agent.endpoint()!;
        if (!token) {
          void vscode.window.showInformationMessage('Inferscope: the agent takes no token (requests need no Authorization header).');
          return undefined;
        }
        await vscode.env.clipboard.writeText(token);
        void vscode.window.showInformationMessage('Inferscope: copied the agent token (send it as "Authorization: Bearer <token>").');
        return token;
      }),
    ),
  ];
}
