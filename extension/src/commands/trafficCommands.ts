// Send Test Traffic…: N requests of real demo inputs at a chosen concurrency, with a cancellable
// progress notification and a summary. Argument form (tests, Evaluate Canary's "Send Test Traffic"):
// { model, requests, concurrency, signal? } (the signal ends the load early, e.g. when the canary decides).
import * as vscode from 'vscode';
import type { InferRequest, ModelMetadata } from '../../../common/api.js';
import type { Services } from '../services.js';
import { readSettings } from '../settings.js';
import { AgentNotRunningError } from '../errors.js';
import { formatSummary, runLoad, type LoadSummary } from '../traffic/loadGenerator.js';
import { exampleBodies, randomBody } from '../traffic/testInputs.js';
import { guarded, requireAgent } from './guard.js';
import { pickModel } from './pickVersion.js';

export interface TrafficArgs {
  model: string;
  requests?: number;
  concurrency?: number;
  /** Ends the load early; its reason says why in the summary. */
  signal?: AbortSignal;
}

export function registerTrafficCommands(s: Services): vscode.Disposable[] {
  const send = async (arg?: TrafficArgs): Promise<LoadSummary | undefined> => {
    requireAgent(s);
    const defaults = readSettings().testTraffic;
    let model = arg?.model;
    let requests = arg?.requests ?? defaults.requests;
    let concurrency = arg?.concurrency ?? defaults.concurrency;
    if (!arg) {
      model = await pickModel(await s.client.status(), 'Inferscope: Send Test Traffic: model');
      if (!model) return undefined;
      const n = await vscode.window.showInputBox({ title: 'Requests to send', value: String(requests), validateInput: positiveInt });
      if (n === undefined) return undefined;
      const c = await vscode.window.showInputBox({ title: 'Concurrency (requests in flight)', value: String(concurrency), validateInput: positiveInt });
      if (c === undefined) return undefined;
      requests = Number(n);
      concurrency = Number(c);
    }
    const bodies = await bodiesFor(s, model!);
    const summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Sending ${requests} requests to ${model}`, cancellable: true },
      async (progress, cancel) => {
        const abort = new AbortController();
        cancel.onCancellationRequested(() => abort.abort());
        const external = arg?.signal;
        const onExternal = () => abort.abort(external?.reason);
        if (external?.aborted) onExternal();
        else external?.addEventListener('abort', onExternal, { once: true });
        // An agent that goes away ends the load at once: every further request would fail.
        const watch = s.agent.onDidChangeState((state) => {
          if (state.kind !== 'ready') abort.abort(state.kind === 'stopped' ? 'the agent stopped' : 'the agent went down');
        });
        let reported = 0;
        return runLoad({
          requests,
          concurrency,
          signal: abort.signal,
          send: async (i, signal) => {
            try {
              await s.client.infer(model!, bodies[i % bodies.length]!, signal);
            } catch (err) {
              // The agent is being stopped (its state changes only once the process has exited).
              if (err instanceof AgentNotRunningError) abort.abort('the agent stopped');
              throw err;
            }
          },
          onProgress: (done, total) => {
            // At most 100 updates, whatever N is.
            const pct = Math.floor((done / total) * 100);
            if (pct > reported) {
              progress.report({ message: `${done}/${total}`, increment: pct - reported });
              reported = pct;
            }
          },
        }).finally(() => {
          watch.dispose();
          external?.removeEventListener('abort', onExternal);
        });
      },
    );
    const text = formatSummary(model!, summary);
    s.log.info(text);
    void (summary.failed ? vscode.window.showWarningMessage(text, 'Show Log').then((p) => p && s.log.show(true)) : vscode.window.showInformationMessage(text));
    return summary;
  };
  return [vscode.commands.registerCommand('inferscope.sendTestTraffic', guarded(s, 'Send Test Traffic', send))];
}

async function bodiesFor(s: Services, model: string): Promise<InferRequest[]> {
  const meta = (await (await s.client.request('GET', `/v2/models/${encodeURIComponent(model)}`)).json()) as ModelMetadata;
  // Examples only where the served model takes the same inputs (a user's model may reuse the name).
  const fits = (b: InferRequest) => b.inputs.every((i) => meta.inputs.some((t) => t.name === i.name && t.datatype === i.datatype));
  const examples = exampleBodies(s.bundledModels, model).filter(fits);
  return examples.length > 0 ? examples : Array.from({ length: 16 }, () => randomBody(meta));
}

function positiveInt(v: string): string | undefined {
  return /^[1-9]\d{0,6}$/.test(v.trim()) ? undefined : 'expected a whole number from 1 to 9999999';
}
