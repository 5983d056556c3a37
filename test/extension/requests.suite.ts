// Request files, Copy curl Example / Copy Token, the model inspector, the raw metrics document and
// the walkthrough, in the real extension host against the real agent: the CodeLens row is read back
// with vscode.executeCodeLensProvider and its commands executed; what they open is read back.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { InferRequest, InferResponse } from '../../common/api.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/** The JSON below a response document's `//` header lines. */
function responseBody<T>(text: string): T {
  return JSON.parse(text.split('\n').filter((l) => !l.startsWith('//')).join('\n')) as T;
}

async function lensesOf(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  let lenses: vscode.CodeLens[] = [];
  // The provider answers from the agent's snapshot; the first call may come before one arrived.
  await waitFor('the request file has its Send lenses', async () => {
    lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    return lenses.some((l) => l.command?.title.includes('Send to digits'));
  }).catch((err: Error) => {
    throw new Error(`${err.message}; lenses of ${uri.toString()}: ${lenses.map((l) => l.command?.title).join(' | ') || 'none'}`);
  });
  return lenses;
}

async function run(lens: vscode.CodeLens): Promise<string> {
  const c = lens.command!;
  return (await vscode.commands.executeCommand<string>(c.command, ...(c.arguments ?? []))) ?? '';
}

export function requestsSuite(): void {
  suite('request files, copy, inspector, walkthrough', () => {
    let requestUri: vscode.Uri;

    test('New Request File writes digits.infer.json with the input shapes from the metadata and a demo digit as data', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const uri = await vscode.commands.executeCommand<vscode.Uri>('inferscope.newRequestFile', { model: 'digits' });
      assert.ok(uri, 'a file was written');
      assert.match(uri.path, /\/digits(\.\d+)?\.infer\.json$/);
      requestUri = uri;
      const body = JSON.parse(readFileSync(uri.fsPath, 'utf8')) as InferRequest & { model_name: string };
      assert.equal(body.model_name, 'digits');
      assert.deepEqual(body.inputs.map((i) => [i.name, i.datatype, i.shape]), [['pixels', 'FP32', [1, 784]]]);
      // The data is the first of the model's examples (real pixels, not zeros).
      const examples = join(api.services.bundledModels, 'digits', 'examples');
      const first = JSON.parse(readFileSync(join(examples, 'classify-7.json'), 'utf8')) as InferRequest;
      assert.deepEqual(body.inputs[0]!.data, first.inputs[0]!.data);
      assert.deepEqual(body.outputs, [{ name: 'probs' }]);
      assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString());
    });

    test('the CodeLens row sends the file to the model and to each version; the answer opens beside it with timing and the version', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      // Another suite's canary may have promoted version 2: the default is what the agent says.
      const def = (await api.services.client.status()).models.find((m) => m.name === 'digits')!.default_version!;
      const lenses = await lensesOf(requestUri);
      const titles = lenses.map((l) => l.command!.title);
      assert.equal(titles[0], '$(play) Send to digits');
      assert.ok(titles.includes(`v${def} (default)`) && titles.some((t) => /^v[12]$/.test(t)), titles.join(' | '));
      assert.ok(titles.some((t) => t.includes('Compare')), titles.join(' | '));

      const text = await run(lenses[0]!);
      assert.match(text, /^\/\/ .*digits(\.\d+)?\.infer\.json → POST \/v2\/models\/digits\/infer$/m);
      assert.match(text, /answered in \d+(\.\d+)? (ms|s) \(round trip\)/);
      assert.match(text, new RegExp(`^// 200: answered by digits version ${def}$`, 'm'));
      const answer = responseBody<InferResponse>(text);
      assert.deepEqual(answer.outputs[0]!.shape, [1, 10]);
      assert.equal(argmax(answer.outputs[0]!.data as number[]), 7);
      // Opened beside the request file, read-only, with that text.
      const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'inferscope-response');
      assert.ok(shown, 'the response is shown');
      assert.equal(shown.document.getText(), text);
      assert.ok(vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === requestUri.toString()), 'the request file stays open');

      const v2 = await run(lenses.find((l) => /^v2( \(default\))?$/.test(l.command!.title))!);
      assert.match(v2, /POST \/v2\/models\/digits\/versions\/2\/infer/);
      assert.match(v2, /^\/\/ 200: answered by digits version 2$/m);
    });

    test('Compare sends to two versions and shows, per output, the largest difference and the argmax flips', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const compare = (await lensesOf(requestUri)).find((l) => l.command!.title.includes('Compare'))!;
      // With two ready versions the lens names them; with more it asks, so the test names them.
      const arg = compare.command!.arguments![0] as { versions?: string[] };
      const text = arg.versions
        ? await run(compare)
        : ((await vscode.commands.executeCommand<string>('inferscope.compareRequest', { ...arg, versions: ['1', '2'] })) ?? '');
      assert.match(text, /^# digits: version 1 vs version 2$/m);
      assert.match(text, /v1 answered in .+, v2 in /);
      const row = /^\| probs \| \[1, 10\] \| ([0-9.e-]+) \| ([0-9.e-]+) \| (\d) of 1 row \|$/m.exec(text);
      assert.ok(row, text);
      // Two different models: their probabilities differ, and both read the demo 7 as a 7.
      assert.ok(Number(row[1]) > 0, `max abs difference ${row[1]}`);
      assert.equal(row[3], '0');
      assert.ok(vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === 'inferscope-response' && e.document.getText() === text));
    });

    test('a request the agent refuses opens its error beside the file instead of a notification', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const uri = vscode.Uri.file(join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'digits.bad.infer.json'));
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(JSON.stringify({ inputs: [{ name: 'pixels', shape: [1, 3], datatype: 'FP32', data: [0, 0, 0] }] })));
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      // The model comes from the file name here (no model_name in the body).
      const send = (await lensesOf(uri))[0]!;
      assert.deepEqual(send.command!.arguments![0], { model: 'digits', uri: uri.toString() });
      const text = await run(send);
      assert.match(text, /^\/\/ 400: the agent refused the request$/m);
      assert.match(responseBody<{ error: string }>(text).error, /784/);
    });

    test('Copy curl Example copies a command with the token that a real curl runs against the agent; Copy Token copies the token', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const endpoint = api.services.agent.endpoint()!;
      // A version row of the Models tree is the argument from its context menu.
      const row = api.models.current.find((m) => m.name === 'digits')!.versions.find((v) => v.version === '2')!;
      const curl = await vscode.commands.executeCommand<string>('inferscope.copyCurlExample', row);
      assert.equal(await vscode.env.clipboard.readText(), curl);
      assert.ok(curl?.startsWith(`curl -sS -X POST '${endpoint.url}/v2/models/digits/versions/2/infer' -H 'Authorization: Bearer ${endpoint.token}'`), curl);
      const out = await new Promise<string>((resolve, reject) => execFile('bash', ['-c', curl!], { maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
      const answer = JSON.parse(out) as InferResponse;
      assert.equal(answer.model_version, '2');
      assert.equal(argmax(answer.outputs[0]!.data as number[]), 7);
      // A model row: the model's routing (no version in the path).
      const modelCurl = await vscode.commands.executeCommand<string>('inferscope.copyCurlExample', { name: 'digits' });
      assert.match(modelCurl!, /\/v2\/models\/digits\/infer'/);

      const token = await vscode.commands.executeCommand<string>('inferscope.copyToken');
      assert.equal(token, endpoint.token);
      assert.equal(await vscode.env.clipboard.readText(), endpoint.token);
    });

    test('Inspect Model Version shows opset, producer, operators, parameters, file size, provider, instances, batching and breaker', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const row = api.models.current.find((m) => m.name === 'digits')!.versions.find((v) => v.version === '1')!;
      const text = (await vscode.commands.executeCommand<string>('inferscope.inspectVersion', row)) ?? '';
      assert.match(text, /^# digits v1$/m);
      assert.match(text, /^\| file \| `digits\/1\/model\.onnx` \(\d+\.\d+ KiB\) \|$/m);
      assert.match(text, /^\| producer \| inferscope-train 1 \|$/m);
      assert.match(text, /^\| opset \| ai\.onnx 17 \|$/m);
      assert.match(text, /^\| parameters \| 7,850 in 2 initializers \|$/m);
      assert.match(text, /^\| MatMul \| 1 \|$/m);
      assert.match(text, /^\| input \| `pixels` \| FP32 \| \[-1, 784\] \|$/m);
      assert.match(text, /Execution provider \*\*cpu\*\*.*1 instance running/);
      assert.match(text, /^\| `max_batch_size` \| 64 \|$/m);
      assert.match(text, /^\| `consecutive_failures` \| 5 \|$/m);
      assert.match(text, /^- Breaker: closed/m);
      const editor = vscode.window.activeTextEditor;
      assert.equal(editor?.document.uri.toString(), 'inferscope-model:/digits/v1.md');
      assert.equal(editor?.document.languageId, 'markdown');
    });

    test('Open Raw Prometheus Metrics puts the inferscope_* series first', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      const text = (await vscode.commands.executeCommand<string>('inferscope.openMetrics')) ?? '';
      const families = [...text.matchAll(/^# HELP (\S+)/gm)].map((m) => m[1]!);
      const firstOther = families.findIndex((f) => !f.startsWith('inferscope_'));
      assert.ok(firstOther > 0, families.slice(0, 3).join(', '));
      assert.ok(families.slice(firstOther).every((f) => !f.startsWith('inferscope_')), 'no inferscope_ family after the others');
      assert.ok(families.some((f) => f.startsWith('process_')) && families.some((f) => f.startsWith('nodejs_')));
      const ext = vscode.extensions.getExtension('inferscope.inferscope')!;
      const title = (ext.packageJSON.contributes.commands as { command: string; title: string }[]).find((c) => c.command === 'inferscope.openMetrics')!.title;
      assert.equal(title, 'Open Raw Prometheus Metrics');
    });

    test('the walkthrough is contributed: four steps, each with a command button and a completion event', async () => {
      const ext = vscode.extensions.getExtension('inferscope.inferscope')!;
      const walkthroughs = ext.packageJSON.contributes.walkthroughs as { id: string; steps: { id: string; description: string; media: { markdown: string }; completionEvents: string[] }[] }[];
      assert.equal(walkthroughs.length, 1);
      const steps = walkthroughs[0]!.steps;
      assert.deepEqual(steps.map((s) => s.id), ['startAgent', 'sendRequest', 'watchMetrics', 'runCanary']);
      const registered = new Set(await vscode.commands.getCommands(true));
      for (const step of steps) {
        const button = /\(command:([\w.]+)\)/.exec(step.description);
        assert.ok(button && registered.has(button[1]!), `${step.id}: a button for a registered command`);
        const onCommand = step.completionEvents.map((e) => /^onCommand:(.+)$/.exec(e)?.[1]).filter((c): c is string => !!c);
        assert.ok(onCommand.length > 0 && onCommand.every((c) => registered.has(c)), `${step.id}: completes on a registered command`);
        assert.ok(existsSync(join(ext.extensionPath, step.media.markdown)), `${step.id}: ${step.media.markdown} exists`);
      }
      // The walkthrough opens (VS Code resolves it by <publisher>.<name>#<id>).
      await vscode.commands.executeCommand('workbench.action.openWalkthrough', 'inferscope.inferscope#gettingStarted', false);
    });
  });
}
