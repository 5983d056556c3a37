// The panel's canary section against the real agent: while a canary runs on steady test traffic,
// the lines of what the last check could see (each metric's smallest detectable regression, and
// the checks to go until the smallest one that counts is visible) are the ones the agent's canary
// API reports for that check, read back from the webview's DOM.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Canary } from '../../common/api.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

/** What the agent says the check could see, per metric with an MDE or ETA, in the panel's order. */
function reported(check: Canary['checks'][number]): { name: string; mde?: string; eta?: string }[] {
  return check.metrics.filter((m) => m.evidence?.mde || m.evidence?.eta).map((m) => ({ name: m.name, mde: m.evidence!.mde?.text, eta: m.evidence!.eta?.text }));
}

/** The panel's format: "<metric>: <MDE> · <ETA>". */
const lines = (agent: ReturnType<typeof reported>) => agent.map((a) => `${a.name}: ${[a.mde, a.eta].filter(Boolean).join(' · ')}`);

export function canarySightSuite(): void {
  suite('canary sight', () => {
    test("the panel's canary section shows the MDE and ETA the agent's canary API reports", async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      // From the default (earlier suites may have promoted another) to another ready version. Versions
      // differ in speed: latency is left out of the critical metrics so the canary keeps checking
      // (its line is still shown); no errors, so the error rate passes at every check.
      const digits = (await api.services.client.status()).models.find((m) => m.name === 'digits')!;
      const baseline = digits.default_version ?? '1';
      const candidate = digits.versions.find((v) => v.state === 'ready' && v.version !== baseline)!.version;
      const started = await api.services.client.startCanary({
        model: 'digits',
        baseline,
        candidate,
        steps: [50, 100],
        interval_s: 2,
        checks_per_step: 400,
        thresholds: { min_samples: 10, max_inconclusive_checks: 100, critical: ['error_rate', 'breaker'] },
      });
      const traffic = new AbortController();
      const sending = vscode.commands.executeCommand('inferscope.sendTestTraffic', { model: 'digits', requests: 1_000_000, concurrency: 1, signal: traffic.signal });
      try {
        let shown: string[] = [];
        let agent: ReturnType<typeof reported> = [];
        const matches = async () => {
          const c = await api.services.client.canary(started.id);
          const last = c.checks.at(-1);
          if (c.state !== 'running' || !last) return false;
          agent = reported(last);
          shown = api.metrics.lastRendered?.canarySight ?? [];
          // A check with traffic in its interval (its ETA has a rate), shown as the agent reported it.
          const busy = (last.metrics.find((m) => m.name === 'error_rate')?.evidence?.eta?.requests_per_s ?? 0) > 0;
          return busy && JSON.stringify(shown) === JSON.stringify(lines(agent));
        };
        await waitFor('the panel shows what the last check could see', matches, 45_000).catch(() => assert.deepEqual(shown, lines(agent), 'the panel and the agent disagree'));
        const error = agent.find((a) => a.name === 'error_rate')!;
        assert.match(error.mde!, /^(can detect [\d.]+× the baseline's error rate|can detect an error rate of [\d.]+%|cannot detect any error rate yet)/);
        assert.match(error.eta!, /^(about \d+ more checks? at [\d.]+ req\/s to see|already sees|not within [\d,]+ checks at)/);
        const latency = agent.find((a) => a.name === 'latency')!;
        assert.match(latency.mde!, /^can detect \+\d+% latency now/);
        assert.deepEqual(shown.map((l) => l.split(':')[0]), agent.map((a) => a.name));
      } finally {
        traffic.abort();
        await sending;
        const c = await api.services.client.canary(started.id);
        if (c.state === 'running') await api.services.client.abortCanary(started.id);
      }
    });
  });
}
