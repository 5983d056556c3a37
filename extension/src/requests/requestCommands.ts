// Request-file commands: Send Request (to a model's routing or one version), Compare Versions, and
// New Request File…. The CodeLens row calls the first two with { uri, model, version(s) };
// from the palette they act on the active editor and ask for what is missing.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { InferResponse } from '../../../common/api.js';
import { pickModel } from '../commands/pickVersion.js';
import { guarded, requireAgent } from '../commands/guard.js';
import { AgentHttpError } from '../errors.js';
import type { Services } from '../services.js';
import { exampleBodies } from '../traffic/testInputs.js';
import { compareOutputs } from './compareOutputs.js';
import { inferPath } from './curlExample.js';
import { bodyToSend, formatJson, newRequestBody, parseRequestText, type RequestFileBody } from './requestBody.js';
import { servedModels } from './requestLenses.js';
import { REQUEST_FILE_SUFFIX, requestTarget } from './requestTarget.js';
import { comparisonText, responseText, type Answer } from './responseText.js';
import { ResponseDocuments } from './responseDocuments.js';

export interface RequestArg {
  /** The request file (a URI string from a lens, or a Uri); default: the active editor. */
  uri?: string | vscode.Uri;
  model?: string;
  version?: string;
  versions?: [string, string];
}

async function requestDocument(arg: RequestArg | undefined): Promise<vscode.TextDocument> {
  if (arg?.uri !== undefined) return vscode.workspace.openTextDocument(typeof arg.uri === 'string' ? vscode.Uri.parse(arg.uri) : arg.uri);
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc) throw new Error(`open a request file (*${REQUEST_FILE_SUFFIX}) first`);
  return doc;
}

function readBody(doc: vscode.TextDocument): RequestFileBody {
  const parsed = parseRequestText(doc.getText());
  if (!parsed.ok) throw new Error(`${vscode.workspace.asRelativePath(doc.uri)}: ${parsed.error}`);
  return parsed.body;
}

/** The model: the lens's, else the one the file names, else a quick pick. */
async function modelFor(s: Services, doc: vscode.TextDocument, body: RequestFileBody, arg: RequestArg | undefined): Promise<string | undefined> {
  if (arg?.model) return arg.model;
  const status = await s.client.status();
  return requestTarget(body, doc.uri.path, status.models.map((m) => m.name))?.model ?? pickModel(status, `Send ${basename(doc.uri.path)} to which model?`);
}

/** Sends the body and times the round trip; an error status is an answer too (shown, not thrown). */
async function sendOnce(s: Services, model: string, version: string | undefined, body: RequestFileBody): Promise<{ answer: Answer; ms: number }> {
  const t0 = performance.now();
  try {
    const response = await s.client.inferAt(model, version, bodyToSend(body));
    return { answer: { ok: true, response }, ms: performance.now() - t0 };
  } catch (err) {
    if (!(err instanceof AgentHttpError)) throw err;
    // The client's message starts with "POST /v2/…: 400 "; the document's header says that already.
    return { answer: { ok: false, status: err.status, error: err.message.replace(/^[A-Z]+ \S+: \d+ /, '') }, ms: performance.now() - t0 };
  }
}

/** The request file a command acts on, its body and its model (undefined: the user chose none). */
async function fileToSend(s: Services, arg?: RequestArg) {
  requireAgent(s);
  const doc = await requestDocument(arg);
  const body = readBody(doc);
  const model = await modelFor(s, doc, body, arg);
  return model ? { doc, body, model } : undefined;
}

export function registerRequestCommands(s: Services, docs: ResponseDocuments): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  return [
    reg(
      'inferscope.sendRequest',
      // Resolves with the response document's text (tests read it).
      guarded(s, 'Send Request', async (arg?: RequestArg): Promise<string | undefined> => {
        const target = await fileToSend(s, arg);
        if (!target) return undefined;
        const { doc, body, model } = target;
        const at = new Date();
        const { answer, ms } = await sendOnce(s, model, arg?.version, body);
        const file = vscode.workspace.asRelativePath(doc.uri);
        const text = responseText({ path: inferPath(model, arg?.version), file, ms, at }, answer);
        const name = `${model}${arg?.version !== undefined ? ` v${arg.version}` : ''} response.jsonc`;
        await docs.show(ResponseDocuments.uri(file, name), text);
        return text;
      }),
    ),
    reg(
      'inferscope.compareRequest',
      guarded(s, 'Compare Versions', async (arg?: RequestArg): Promise<string | undefined> => {
        const target = await fileToSend(s, arg);
        if (!target) return undefined;
        const { doc, body, model } = target;
        const versions = arg?.versions ?? (await pickTwoVersions(s, model));
        if (!versions) return undefined;
        const answers: { version: string; ms: number; response: InferResponse }[] = [];
        for (const version of versions) {
          const { answer, ms } = await sendOnce(s, model, version, body);
          if (!answer.ok) throw new AgentHttpError(answer.status, `${model} v${version} refused the request: ${answer.error}`);
          answers.push({ version, ms, response: answer.response });
        }
        const [a, b] = answers as [(typeof answers)[0], (typeof answers)[0]];
        const file = vscode.workspace.asRelativePath(doc.uri);
        const text = comparisonText(file, model, a, b, compareOutputs(a.response, b.response));
        await docs.show(ResponseDocuments.uri(file, `compare ${model} v${a.version} v${b.version}.md`), text);
        return text;
      }),
    ),
    reg(
      'inferscope.newRequestFile',
      // Resolves with the new file's URI. Argument form (tests): { model, folder? }.
      guarded(s, 'New Request File', async (arg?: { model?: string; folder?: string }): Promise<vscode.Uri | undefined> => {
        requireAgent(s);
        const status = await s.client.status();
        const model = arg?.model ?? (await pickModel(status, 'Inferscope: New Request File for which model?'));
        if (!model) return undefined;
        const meta = await s.client.modelMetadata(model);
        // The examples are read from this machine: present for a local agent's repository.
        const example = exampleBodies(status.agent.model_repository, model)[0];
        const text = `${formatJson(newRequestBody(model, meta, example))}\n`;
        const uri = await newFileUri(model, arg?.folder);
        if (!uri) return undefined;
        await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
        s.log.info(`New Request File: ${uri.fsPath} (${example ? 'example data' : 'zeros'}, shapes from ${model}'s metadata)`);
        return uri;
      }),
    ),
  ];
}

async function pickTwoVersions(s: Services, model: string): Promise<[string, string] | undefined> {
  const served = servedModels(await s.client.status()).find((m) => m.name === model);
  const versions = served?.versions ?? [];
  if (versions.length < 2) {
    void vscode.window.showInformationMessage(`Inferscope: ${model} has ${versions.length} ready version(s); comparing needs two.`);
    return undefined;
  }
  if (versions.length === 2) return [versions[0]!, versions[1]!];
  const picked = await vscode.window.showQuickPick(
    versions.map((v) => ({ label: `v${v}`, description: v === served!.defaultVersion ? 'default' : '', version: v })),
    { title: `Compare two versions of ${model}`, canPickMany: true },
  );
  if (!picked) return undefined;
  if (picked.length !== 2) {
    void vscode.window.showWarningMessage('Inferscope: pick exactly two versions to compare.');
    return undefined;
  }
  return [picked[0]!.version, picked[1]!.version];
}

/** `<folder>/<model>.infer.json`, or `<model>.2.infer.json`… if taken; no workspace: a save dialog. */
async function newFileUri(model: string, folder: string | undefined): Promise<vscode.Uri | undefined> {
  const dir = folder ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (dir === undefined) {
    return vscode.window.showSaveDialog({ title: 'Save the request file', defaultUri: vscode.Uri.file(`${model}${REQUEST_FILE_SUFFIX}`), filters: { 'Request files': ['infer.json'] } });
  }
  for (let n = 1; ; n++) {
    const path = join(dir, `${model}${n === 1 ? '' : `.${n}`}${REQUEST_FILE_SUFFIX}`);
    if (!existsSync(path)) return vscode.Uri.file(path);
  }
}
