// Evaluate Canary… on a fleet: the canary asked for in the usual flow is started on every replica
// Prometheus lists (at each replica's own address, with the agent's token), judged from the fleet's
// Prometheus (setting inferscope.fleet.canarySource), and followed together in one progress
// notification ("2 replicas: 3 checks, running on 2/2 at 50%"); one notification at the end says
// the decisions and names every replica that did not start it or was lost on the way.
import * as vscode from 'vscode';
import type { Canary, CanaryRequest } from '../../../common/api.js';
import type { Prompts } from '../commands/prompts.js';
import type { Services } from '../services.js';
import { readSettings } from '../settings.js';
import { fleetOutcomeText, followFleet, startOnFleet, type FleetCanaryRequest, type ReplicaFailure, type ReplicaOutcome } from './fleetCanary.js';
import type { FleetWatcher } from './fleetWatcher.js';

/** How the question before the token leaves the editor begins (tests answer it). */
export const FLEET_QUESTION = 'Start the canary on the';

export interface FleetEvaluation {
  kind: 'fleet';
  request: FleetCanaryRequest;
  /** Each replica's canary as it ended (or was last seen). */
  outcomes: ReplicaOutcome[];
  failed: ReplicaFailure[];
  /** The progress lines shown, in order (tests read them). */
  progress: string[];
  text: string;
}

export async function evaluateOnFleet(s: Services, fleet: FleetWatcher, prompts: Prompts, request: CanaryRequest, remember: (c: Canary) => void): Promise<FleetEvaluation | undefined> {
  const view = await fleet.refresh();
  if (!view) throw new Error(`cannot read the fleet's replicas from ${fleet.prometheus?.url}: ${fleet.error ?? 'no answer'}`);
  if (view.replicas.length === 0) throw new Error(`${view.prometheusUrl} scrapes no Inferscope replica`);
  // The replicas are whatever Prometheus scrapes: the token goes to none of them before the user
  // has seen where it goes.
  const origins = view.replicas.map((r) => r.url);
  const go = `Start on ${origins.length} Replica${origins.length === 1 ? '' : 's'}`;
  const question = `${FLEET_QUESTION} ${origins.length} replica${origins.length === 1 ? '' : 's'} that ${view.prometheusUrl} lists? The agent's token is sent to each: ${origins.join(', ')}.`;
  if ((await prompts.message('warning', question, { modal: true }, go)) !== go) return undefined;
  // One anchor for every replica: their checks then read the same Prometheus windows and decide alike.
  const source = { kind: 'prometheus' as const, url: view.prometheusUrl, anchor: new Date(await fleetNow(fleet)).toISOString() };
  const body: FleetCanaryRequest = { ...request, ...(readSettings().fleet.canarySource === 'prometheus' ? { source } : {}) };
  const token = s.agent.endpoint()?.token ?? '';
  const start = await startOnFleet(view.replicas, token, body);
  for (const r of start.started) {
    remember(r.canary);
    s.log.info(`canary ${r.canary.id} started on ${r.replica.name} (${r.replica.url}): ${r.canary.model} ${r.canary.baseline} → ${r.canary.candidate}, source ${r.canary.source.kind}`);
  }
  for (const f of start.failed) s.log.warn(`canary not started on ${f.replica.name} (${f.replica.url}): ${f.error}`);
  if (start.started.length === 0) {
    const text = fleetOutcomeText(request, [], start.failed);
    void prompts.message('error', text, {});
    return { kind: 'fleet', request: body, outcomes: [], failed: start.failed, progress: [], text };
  }
  if (start.failed.length) {
    void prompts.message('warning', `Canary ${request.model} → ${request.candidate}: not started on ${start.failed.map((f) => `${f.replica.name} (${f.error})`).join('; ')}. Following it on ${start.started.length} of ${view.replicas.length} replicas.`, {});
  }
  const first = start.started[0]!.canary;
  const shown: string[] = [];
  const outcomes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Canary ${first.model} ${first.baseline} → ${first.candidate} on ${start.started.length} replicas`, cancellable: true },
    async (progress, cancel) => {
      const abort = new AbortController();
      cancel.onCancellationRequested(() => abort.abort());
      progress.report({ message: `${start.started.length} replicas: step 1 at ${first.weight}%…` });
      return followFleet(start.started, {
        signal: abort.signal,
        onProgress: (text) => {
          if (text === shown.at(-1)) return;
          shown.push(text);
          progress.report({ message: text });
        },
      });
    },
  );
  for (const o of outcomes) remember(o.canary);
  await s.live.refresh().catch(() => undefined);
  const text = fleetOutcomeText(request, outcomes, start.failed);
  s.log.info(text);
  const agreed = outcomes.every((o) => !o.lost && o.canary.state === 'promoted');
  void prompts.message(agreed && start.failed.length === 0 ? 'info' : 'warning', text, {});
  return { kind: 'fleet', request: body, outcomes, failed: start.failed, progress: shown, text };
}

/**
 * Now, by the fleet's Prometheus clock (whose scrape times the windows are compared with), not this
 * editor's, which may run seconds apart from the replicas'; a second back, as replicas accept an
 * anchor a little behind their clock but hardly any ahead. This machine's clock if Prometheus does
 * not say.
 */
async function fleetNow(fleet: FleetWatcher): Promise<number> {
  const said = await fleet.prometheus?.query('vector(time())').catch(() => undefined);
  const seconds = said?.[0]?.value;
  return (seconds !== undefined && Number.isFinite(seconds) ? seconds * 1000 : Date.now()) - 1000;
}
