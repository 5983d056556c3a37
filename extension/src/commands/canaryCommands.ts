// Evaluate Canary…, Abort Canary, Show Canary Report. Evaluate asks in a titled flow
// ("Evaluate Canary (3/4): digits 1 → 2"; canaryFlow.ts has its pure parts), or takes an argument
// (tests, keybindings): { model, candidate, baseline?, steps?, intervalSeconds?, checksPerStep?,
// thresholds?, allowDowngrade? }. Its progress says when a check saw no traffic and offers to send
// test traffic (until the canary ends); the end says the outcome once, or what became of the canary
// when the agent stopped.
import * as vscode from 'vscode';
import type { Canary, CanaryRequest, CanaryThresholds } from '../../../common/api.js';
import { checkLine } from '../canary/canaryReport.js';
import { showCanaryReport } from '../canary/showCanaryReport.js';
import { CanaryInterruptedError, followCanary } from '../canary/canaryFollower.js';
import {
  agentStoppedText,
  downgradeQuestion,
  EVALUATE_ANYWAY,
  flowTitle,
  isDowngrade,
  noTraffic,
  noTrafficProgress,
  noTrafficText,
  outcomeText,
  parseSteps,
  parseThresholdEdits,
  SEND_TEST_TRAFFIC,
  settingsProblems,
  stepsProblem,
  THRESHOLD_PRESETS,
} from '../canary/canaryFlow.js';
import type { Services } from '../services.js';
import { readSettings } from '../settings.js';
import { AgentDocuments } from '../views/agentDocuments.js';
import { evaluateOnFleet, type FleetEvaluation } from '../fleet/fleetEvaluate.js';
import { guarded, requireAgent } from './guard.js';
import { type Prompts, windowPrompts } from './prompts.js';

export interface EvaluateArgs {
  model: string;
  candidate: string;
  baseline?: string;
  steps?: number[];
  intervalSeconds?: number;
  checksPerStep?: number;
  thresholds?: Partial<CanaryThresholds>;
  /** A candidate older than the baseline is asked about unless this is true. */
  allowDowngrade?: boolean;
  /** Sends test traffic to the model from the start until the canary ends (the walkthrough's demo). */
  withTestTraffic?: boolean;
}

export function registerCanaryCommands(s: Services, docs: AgentDocuments): vscode.Disposable[] {
  // Show Canary Report… lives in canary/showCanaryReport.ts (titled picker, newest first, local times, readable tab).
  const showReport = (arg?: unknown): Promise<string | undefined> => showCanaryReport(s, docs, arg);

  // Canaries this extension aborted (Abort Canary): their Evaluate says nothing more, Abort said it.
  const abortedHere = new Set<string>();

  const evaluate = async (arg?: EvaluateArgs): Promise<Canary | FleetEvaluation | undefined> => {
    requireAgent(s);
    const prompts = s.prompts ?? windowPrompts;
    const request = arg ? await fromArgs(s, prompts, arg) : await askForCanary(s, prompts);
    if (!request) return undefined;
    // A fleet (inferscope.fleet.prometheusUrl): the canary runs on every replica, followed together.
    if (s.fleet?.enabled) {
      // Test traffic goes to the agent URL, the fleet's load balancer, which spreads it over the replicas.
      const fleetTraffic = new AbortController();
      const sending = arg?.withTestTraffic
        ? trafficUntil(request.model, fleetTraffic.signal)
        : undefined;
      try {
        return await evaluateOnFleet(s, s.fleet, prompts, request, (c) => docs.remember(c));
      } finally {
        fleetTraffic.abort('the canary ended');
        await sending?.then(undefined, () => undefined);
      }
    }
    const started = await s.client.startCanary(request);
    docs.remember(started);
    s.log.info(`canary ${started.id} started: ${started.model} ${started.baseline} → ${started.candidate}, steps ${started.steps.join(',')}, every ${started.interval_s} s`);
    // Test traffic started from the no-traffic offer; it ends with the canary.
    const traffic = new AbortController();
    let sending: Thenable<unknown> | undefined;
    let offered = false;
    const sendTraffic = () => {
      if (sending || traffic.signal.aborted) return;
      s.log.info(`canary ${started.id}: sending test traffic to ${started.model} until the canary decides`);
      sending = trafficUntil(started.model, traffic.signal);
    };
    const offerTraffic = () => {
      if (offered || sending) return;
      offered = true;
      void prompts.message('warning', noTrafficText(started), {}, SEND_TEST_TRAFFIC).then((pick) => {
        if (pick === SEND_TEST_TRAFFIC) sendTraffic();
      });
    };
    if (arg?.withTestTraffic) sendTraffic();
    let final: Canary;
    try {
      final = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Canary ${started.model} ${started.baseline} → ${started.candidate}`, cancellable: true },
        async (progress, cancel) => {
          const abort = new AbortController();
          cancel.onCancellationRequested(() => abort.abort());
          const gone = new AbortController();
          const watch = s.agent.onDidChangeState((state) => state.kind !== 'ready' && gone.abort());
          const totalChecks = started.steps.length * started.checks_per_step;
          progress.report({ message: `step 1 at ${started.weight}%…` });
          try {
            return await followCanary(s.client, started, {
              signal: abort.signal,
              agentGone: gone.signal,
              onCheck: (check, canary) => {
                s.log.info(`canary ${started.id} check: ${checkLine(check)}`);
                const idle = canary.state === 'running' && noTraffic(check);
                progress.report({ message: idle ? noTrafficProgress(check) : checkLine(check), increment: 100 / totalChecks });
                if (idle) offerTraffic();
              },
            });
          } finally {
            watch.dispose();
          }
        },
      );
    } catch (err) {
      if (!(err instanceof CanaryInterruptedError)) throw err;
      const text = agentStoppedText(err.canary, err.how);
      s.log.warn(text);
      void prompts.message('warning', text, {}, ...(err.how === 'stopped' ? [s.agent.mode.kind === 'remote' ? 'Connect' : 'Start Agent'] : [])).then((pick) => (pick ? s.startAgent() : undefined));
      return err.canary;
    } finally {
      traffic.abort('the canary ended');
      await sending?.then(undefined, () => undefined);
    }
    docs.remember(final);
    await s.live.refresh().catch(() => undefined);
    const text = outcomeText(final);
    s.log.info(text);
    if (final.state === 'aborted' && abortedHere.has(final.id)) return final; // Abort Canary said it
    void prompts.message(final.state === 'promoted' ? 'info' : 'warning', text, {}, 'Show Report').then((pick) => (pick ? showReport(final.id) : undefined));
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
    abortedHere.add(id);
    const aborted = await s.client.abortCanary(id);
    docs.remember(aborted);
    await s.live.refresh().catch(() => undefined);
    void (s.prompts ?? windowPrompts).message('info', outcomeText(aborted), {});
    return aborted;
  };

  return [
    vscode.commands.registerCommand('inferscope.evaluateCanary', guarded(s, 'Evaluate Canary', evaluate)),
    vscode.commands.registerCommand('inferscope.abortCanary', guarded(s, 'Abort Canary', abort)),
    vscode.commands.registerCommand('inferscope.showCanaryReport', guarded(s, 'Show Canary Report', showReport)),
  ];
}

/** Requests the no-traffic offer sends at most; the load ends when the canary does. */
const TRAFFIC_CAP = 100_000;

/** Test traffic to `model` (the settings' concurrency) until `signal` aborts: the canary ended. */
function trafficUntil(model: string, signal: AbortSignal): Thenable<unknown> {
  return vscode.commands.executeCommand('inferscope.sendTestTraffic', { model, requests: TRAFFIC_CAP, concurrency: readSettings().testTraffic.concurrency, signal });
}

/** The settings' problems as one error that names them, with Open Settings; true if there were any. */
async function settingsRejected(prompts: Prompts, problems: string[]): Promise<boolean> {
  if (problems.length === 0) return false;
  const pick = await prompts.message('error', `Evaluate Canary: ${problems.join('; ')}.`, {}, 'Open Settings');
  if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'inferscope.canary');
  return true;
}

/** Never a silent downgrade: a candidate older than the baseline is asked about (modal). */
async function downgradeConfirmed(prompts: Prompts, candidate: string, baseline: string): Promise<boolean> {
  if (!isDowngrade(candidate, baseline)) return true;
  return (await prompts.message('warning', downgradeQuestion(candidate, baseline), { modal: true }, EVALUATE_ANYWAY)) === EVALUATE_ANYWAY;
}

async function fromArgs(s: Services, prompts: Prompts, a: EvaluateArgs): Promise<CanaryRequest | undefined> {
  const defaults = readSettings().canary;
  // Only the settings this canary takes are checked.
  const used = settingsProblems({
    steps: a.steps ?? defaults.steps,
    intervalSeconds: a.intervalSeconds ?? defaults.intervalSeconds,
    checksPerStep: a.checksPerStep ?? defaults.checksPerStep,
    alpha: a.thresholds?.alpha ?? defaults.alpha,
  }).filter((p) => {
    const name = /inferscope\.canary\.(\w+)/.exec(p)?.[1];
    return !(name === 'steps' ? a.steps : name === 'intervalSeconds' ? a.intervalSeconds : name === 'checksPerStep' ? a.checksPerStep : a.thresholds?.alpha);
  });
  if (await settingsRejected(prompts, used)) return undefined;
  if (a.steps) {
    const problem = stepsProblem(a.steps);
    if (problem) throw new Error(`steps ${JSON.stringify(a.steps)}: ${problem}`);
  }
  const baseline = a.baseline ?? (await s.client.status()).models.find((m) => m.name === a.model)?.default_version;
  if (baseline && !a.allowDowngrade && !(await downgradeConfirmed(prompts, a.candidate, baseline))) return undefined;
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

type StepsItem = vscode.QuickPickItem & { steps: number[] };
type ThresholdsItem = vscode.QuickPickItem & { thresholds?: Partial<CanaryThresholds> };

/** The titled flow: (1/4) model, (2/4) candidate, (3/4) weight steps (typed or picked), (4/4) thresholds. */
async function askForCanary(s: Services, prompts: Prompts): Promise<CanaryRequest | undefined> {
  const defaults = readSettings().canary;
  const problems = settingsProblems(defaults);
  const stepsSettingProblem = problems.find((p) => p.startsWith('setting inferscope.canary.steps'));
  // Bad weights in the settings leave their item out (the user picks or types others); the rest stop here.
  if (await settingsRejected(prompts, problems.filter((p) => p !== stepsSettingProblem))) return undefined;

  const status = await s.client.status();
  const models = status.models.filter((m) => m.versions.some((v) => v.state === 'ready'));
  if (models.length === 0) {
    void prompts.message('info', 'Evaluate Canary: no model has a ready version.', {});
    return undefined;
  }
  const model =
    models.length === 1
      ? models[0]!.name
      : (await prompts.pick(models.map((m) => ({ label: m.name, description: `${m.versions.filter((v) => v.state === 'ready').length} ready version(s), default ${m.default_version ?? '–'}` })), { title: flowTitle(1), placeholder: 'The model whose new version to evaluate' }))?.label;
  if (!model) return undefined;
  const m = status.models.find((x) => x.name === model)!;
  const ready = m.versions.filter((v) => v.state === 'ready');
  if (ready.length < 2) {
    void prompts.message('warning', `${model} has ${ready.length} ready version(s); a canary needs two.`, {});
    return undefined;
  }
  const baseline = m.default_version ?? ready[0]!.version;
  const candidates = ready.filter((v) => v.version !== baseline);
  const candidate =
    candidates.length === 1
      ? candidates[0]!.version
      : (
          await prompts.pick(
            candidates.map((v) => ({ label: v.version, description: [isDowngrade(v.version, baseline) ? `older than the default ${baseline}` : '', v.execution_provider ?? ''].filter(Boolean).join(' · ') })),
            { title: flowTitle(2, { model }), placeholder: `The candidate version (the baseline is the default, ${baseline})` },
          )
        )?.label;
  if (!candidate) return undefined;
  if (!(await downgradeConfirmed(prompts, candidate, baseline))) return undefined;
  const sel = { model, baseline, candidate };

  const presets: StepsItem[] = [];
  const add = (steps: number[], description: string) => {
    if (!presets.some((p) => p.steps.join() === steps.join())) presets.push({ label: steps.join(', '), description, steps });
  };
  if (!stepsSettingProblem) add(defaults.steps, 'default (setting inferscope.canary.steps)');
  add([5, 20, 50, 100], '');
  add([50, 100], '');
  add([100], 'all traffic at once');
  const stepsPick = await prompts.pick<StepsItem>(presets, {
    title: flowTitle(3, sel),
    placeholder: `${stepsSettingProblem ? `${stepsSettingProblem} — ` : ''}Candidate weights in %: pick, or type your own (e.g. 10,50,100)`,
    typed: (value) => {
      const parsed = parseSteps(value);
      return 'error' in parsed ? parsed : { label: parsed.steps.join(', '), description: 'typed', steps: parsed.steps };
    },
  });
  if (!stepsPick) return undefined;

  const EDIT = 'Edit thresholds…';
  const thresholdItems: ThresholdsItem[] = [
    ...THRESHOLD_PRESETS.map((p) => ({ label: p.label, detail: p.detail, thresholds: p.thresholds })),
    { label: EDIT, detail: 'name=value pairs, e.g. min_samples=10, max_p99_ratio=2' },
  ];
  const thresholdsPick = await prompts.pick(thresholdItems, { title: flowTitle(4, sel), placeholder: `Thresholds (α ${defaults.alpha} over the whole canary, checks every ${defaults.intervalSeconds} s, ${defaults.checksPerStep} per step: settings inferscope.canary.*)` });
  if (!thresholdsPick) return undefined;
  let thresholds = thresholdsPick.thresholds;
  if (thresholdsPick.label === EDIT) {
    const typed = await prompts.input({
      title: `${flowTitle(4, sel)}: edit thresholds`,
      prompt: 'name=value pairs: alpha, max_error_rate, min_error_ratio, max_p99_ms, max_p99_ratio, latency_effect_margin, confidence_effect_margin, min_cramers_v, min_samples, max_inconclusive_checks',
      placeHolder: 'min_samples=10, max_p99_ratio=2',
      validateInput: (v) => {
        const r = parseThresholdEdits(v);
        return 'error' in r ? r.error : undefined;
      },
    });
    if (typed === undefined) return undefined;
    const parsed = parseThresholdEdits(typed);
    if ('error' in parsed) return undefined;
    thresholds = parsed.thresholds;
  }
  return {
    model,
    baseline,
    candidate,
    steps: stepsPick.steps,
    interval_s: defaults.intervalSeconds,
    checks_per_step: defaults.checksPerStep,
    thresholds: { alpha: defaults.alpha, ...thresholds },
  };
}
