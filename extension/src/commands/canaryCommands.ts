// Evaluate Canary…, Abort Canary, Show Canary Report. Evaluate takes its choices from quick picks,
// or from an argument (tests, keybindings): { model, candidate, baseline?, steps?, intervalSeconds?,
// checksPerStep?, thresholds? }.
import * as vscode from 'vscode';
import type { Canary, CanaryRequest, CanaryThresholds } from '../../../common/api.js';
import { checkLine, decisionText } from '../canary/canaryReport.js';
import { followCanary } from '../canary/canaryFollower.js';
import type { Services } from '../services.js';
import { readSettings } from '../settings.js';
import { AgentDocuments } from '../views/agentDocuments.js';
import { guarded, requireAgent } from './guard.js';
import { pickModel } from './pickVersion.js';

export interface EvaluateArgs {
  model: string;
  candidate: string;
  baseline?: string;
  steps?: number[];
  intervalSeconds?: number;
  checksPerStep?: number;
  thresholds?: Partial<CanaryThresholds>;
}

export function registerCanaryCommands(s: Services, docs: AgentDocuments): vscode.Disposable[] {
  const showReport = async (arg?: unknown): Promise<string | undefined> => {
    let id = typeof arg === 'string' ? arg : (arg as { id?: string } | undefined)?.id;
    if (!id) {
      requireAgent(s);
      const all = await s.client.canaries();
      if (all.length === 0) {
        void vscode.window.showInformationMessage('No canary has run on this agent in the last hour.');
        return undefined;
      }
      id = (await vscode.window.showQuickPick(all.map((c) => ({ label: `${c.model} ${c.baseline} → ${c.candidate}`, description: decisionText(c), detail: c.started_at, id: c.id }))))?.id;
      if (!id) return undefined;
    }
    const uri = AgentDocuments.canaryUri(id);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, () => vscode.window.showTextDocument(doc));
    return doc.getText();
  };

  const evaluate = async (arg?: EvaluateArgs): Promise<Canary | undefined> => {
    requireAgent(s);
    const request = arg ? fromArgs(arg) : await askForCanary(s);
    if (!request) return undefined;
    const started = await s.client.startCanary(request);
    docs.remember(started);
    s.log.info(`canary ${started.id} started: ${started.model} ${started.baseline} → ${started.candidate}, steps ${started.steps.join(',')}, every ${started.interval_s} s`);
    const final = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Canary ${started.model} ${started.baseline} → ${started.candidate}`, cancellable: true },
      async (progress, cancel) => {
        const abort = new AbortController();
        cancel.onCancellationRequested(() => abort.abort());
        const totalChecks = started.steps.length * started.checks_per_step;
        progress.report({ message: `step 1 at ${started.weight}%…` });
        return followCanary(s.client, started, {
          signal: abort.signal,
          onCheck: (check) => {
            s.log.info(`canary ${started.id} check: ${checkLine(check)}`);
            progress.report({ message: checkLine(check), increment: 100 / totalChecks });
          },
        });
      },
    );
    docs.remember(final);
    await s.live.refresh().catch(() => undefined);
    const text = `Canary ${final.model} ${final.baseline} → ${final.candidate}: ${decisionText(final)}${final.reason ? ` (${final.reason})` : ''}.`;
    s.log.info(text);
    const show = final.state === 'promoted' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(text, 'Show Report').then((pick) => (pick ? showReport(final.id) : undefined));
    return final;
  };

  const abort = async (arg?: unknown): Promise<Canary | undefined> => {
    requireAgent(s);
    let id = typeof arg === 'string' ? arg : (arg as { id?: string } | undefined)?.id;
    if (!id) {
      const running = (await s.client.canaries()).filter((c) => c.state === 'running');
      if (running.length === 0) {
        void vscode.window.showInformationMessage('No canary is running.');
        return undefined;
      }
      id = running.length === 1 ? running[0]!.id : (await vscode.window.showQuickPick(running.map((c) => ({ label: `${c.model} ${c.baseline} → ${c.candidate}`, description: `${c.weight}%`, id: c.id }))))?.id;
      if (!id) return undefined;
    }
    const aborted = await s.client.abortCanary(id);
    docs.remember(aborted);
    await s.live.refresh().catch(() => undefined);
    void vscode.window.showInformationMessage(`Canary ${aborted.model} ${aborted.baseline} → ${aborted.candidate} aborted; all traffic is back on version ${aborted.baseline}.`);
    return aborted;
  };

  return [
    vscode.commands.registerCommand('inferscope.evaluateCanary', guarded(s, 'Evaluate Canary', evaluate)),
    vscode.commands.registerCommand('inferscope.abortCanary', guarded(s, 'Abort Canary', abort)),
    vscode.commands.registerCommand('inferscope.showCanaryReport', guarded(s, 'Show Canary Report', showReport)),
  ];
}

function fromArgs(a: EvaluateArgs): CanaryRequest {
  const defaults = readSettings().canary;
  return {
    model: a.model,
    candidate: a.candidate,
    ...(a.baseline ? { baseline: a.baseline } : {}),
    steps: a.steps ?? defaults.steps,
    interval_s: a.intervalSeconds ?? defaults.intervalSeconds,
    checks_per_step: a.checksPerStep ?? defaults.checksPerStep,
    thresholds: { alpha: defaults.alpha, ...a.thresholds },
  };
}

async function askForCanary(s: Services): Promise<CanaryRequest | undefined> {
  const status = await s.client.status();
  const title = 'Inferscope: Evaluate Canary';
  const model = await pickModel(status, `${title}: model`);
  if (!model) return undefined;
  const m = status.models.find((x) => x.name === model)!;
  const ready = m.versions.filter((v) => v.state === 'ready');
  if (ready.length < 2) {
    void vscode.window.showWarningMessage(`${model} has ${ready.length} ready version(s); a canary needs two.`);
    return undefined;
  }
  const baseline = m.default_version ?? ready[0]!.version;
  const candidates = ready.filter((v) => v.version !== baseline);
  const candidate =
    candidates.length === 1
      ? candidates[0]!.version
      : (await vscode.window.showQuickPick(candidates.map((v) => ({ label: v.version, description: v.execution_provider ?? '' })), { title: `${title}: candidate (baseline is the default, ${baseline})` }))?.label;
  if (!candidate) return undefined;
  const defaults = readSettings().canary;
  const stepPresets = [defaults.steps, [5, 20, 50, 100], [50, 100], [100]].map((st) => st.join(', '));
  const stepsPick = await vscode.window.showQuickPick(
    [...new Set(stepPresets)].map((label, i) => ({ label, description: i === 0 ? 'default (setting inferscope.canary.steps)' : '' })),
    { title: `${title}: candidate weight steps (%)` },
  );
  if (!stepsPick) return undefined;
  const interval = await vscode.window.showInputBox({
    title: `${title}: seconds between checks`,
    value: String(defaults.intervalSeconds),
    validateInput: (v) => (Number(v) >= 0.05 && Number(v) <= 86400 ? undefined : 'expected seconds from 0.05 to 86400'),
  });
  if (interval === undefined) return undefined;
  return {
    model,
    baseline,
    candidate,
    steps: stepsPick.label.split(',').map((x) => Number(x.trim())),
    interval_s: Number(interval),
    checks_per_step: defaults.checksPerStep,
    thresholds: { alpha: defaults.alpha },
  };
}
