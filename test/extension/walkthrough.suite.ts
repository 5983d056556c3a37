// The walkthrough followed as a new user would, timed: each step's button (the command link in the
// contributed walkthrough, with its arguments) is executed in order against the real agent, from a
// stopped agent to the demo canary's decision. The goal is a canary decision within five
// minutes; the test asserts the decision and that the canary's plan fits in that time, and prints
// the time it took (no timing threshold: the machines are shared).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Canary } from '../../common/api.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

interface Step {
  id: string;
  description: string;
}
interface Button {
  title: string;
  command: string;
  args: unknown[];
}

/** The command links of a step's description, in order, with their JSON arguments decoded. */
function buttons(step: Step): Button[] {
  return [...step.description.matchAll(/\[([^\]]+)\]\(command:([\w.]+)(?:\?([^)]*))?\)/g)].map((m) => {
    const decoded = m[3] ? (JSON.parse(decodeURIComponent(m[3])) as unknown) : undefined;
    return { title: m[1]!, command: m[2]!, args: decoded === undefined ? [] : Array.isArray(decoded) ? decoded : [decoded] };
  });
}

export function walkthroughSuite(): void {
  suite('walkthrough, followed (issue 19)', () => {
    test('from a stopped agent to the demo canary promoting version 3, by the walkthrough\'s own buttons', async function () {
      this.timeout(300_000);
      const api = await extensionApi();
      const ext = vscode.extensions.getExtension('inferscope.inferscope')!;
      const steps = (ext.packageJSON.contributes.walkthroughs as { steps: Step[] }[])[0]!.steps;
      const byId = new Map(steps.map((s) => [s.id, s]));
      const t0 = Date.now();
      const lap: string[] = [];
      const mark = (what: string) => lap.push(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      // 1. Start the agent (stopped first: a new user's agent is not running).
      if (api.services.agent.state.kind !== 'stopped') await api.services.agent.stop();
      const start = buttons(byId.get('startAgent')!)[0]!;
      assert.equal(start.command, 'inferscope.startAgent');
      await vscode.commands.executeCommand(start.command, ...start.args);
      await readyAgent(api);
      mark('agent ready');

      // 2. A request file, sent from its CodeLens (the model named: a new user picks it from the list).
      const newFile = buttons(byId.get('sendRequest')!)[0]!;
      assert.equal(newFile.command, 'inferscope.newRequestFile');
      const uri = await vscode.commands.executeCommand<vscode.Uri>(newFile.command, { model: 'digits' });
      let send: vscode.CodeLens | undefined;
      await waitFor('Send to digits lens', async () => {
        const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
        return (send = lenses.find((l) => l.command?.title.includes('Send to digits'))) !== undefined;
      });
      const answer = await vscode.commands.executeCommand<string>(send!.command!.command, ...(send!.command!.arguments ?? []));
      assert.match(answer ?? '', /^\/\/ 200: answered by digits version \d+$/m);
      mark('request answered');

      // 3. Test traffic while the Metrics view shows it.
      const traffic = buttons(byId.get('watchMetrics')!)[0]!;
      assert.equal(traffic.command, 'inferscope.sendTestTraffic');
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await vscode.commands.executeCommand(traffic.command, { model: 'digits', requests: 300 });
      await waitFor('the panel shows a request rate', () => {
        const rps = api.metrics.lastRendered?.requestsPerSecond.digits;
        return rps !== undefined && rps !== '0' && rps !== '–' && rps !== 'NaN';
      });
      mark('metrics moving');

      // 4. The demo canary, from its button, with the arguments the walkthrough gives it.
      const demo = buttons(byId.get('runCanary')!)[0]!;
      assert.equal(demo.command, 'inferscope.evaluateCanary');
      const plan = demo.args[0] as { steps: number[]; intervalSeconds: number; checksPerStep: number; candidate: string; withTestTraffic?: boolean };
      const plannedS = plan.steps.length * plan.checksPerStep * plan.intervalSeconds;
      assert.ok(plannedS <= 120, `the demo's plan (${plannedS} s of checks) leaves room in five minutes`);
      assert.equal(plan.withTestTraffic, true, 'the demo sends its own traffic: a canary without traffic cannot decide');
      const canary = await vscode.commands.executeCommand<Canary>(demo.command, ...demo.args);
      mark(`canary ${canary?.state}`);
      const elapsedS = (Date.now() - t0) / 1000;
      console.log(`  walkthrough, timed: ${lap.join(', ')}`);
      assert.equal(canary?.state, 'promoted', `${canary?.reason}`);
      assert.equal(canary.candidate, plan.candidate);
      assert.equal(canary.checks.length, plannedS / plan.intervalSeconds, 'every planned check ran, none inconclusive');
      const status = await api.services.client.status();
      assert.equal(status.models.find((m) => m.name === 'digits')!.default_version, plan.candidate);
      assert.ok(elapsedS > plannedS * 0.9, 'the canary really ran its checks');
    });
  });
}
