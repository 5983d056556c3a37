// Evaluate Canary… as a user meets it, against the real agent: the titled flow (quick picks answered
// through Services.prompts, as a user would answer them) with a downgrade asked about and accepted,
// typed weights and a threshold preset, Abort giving one notification; a canary with no traffic
// saying so and its "Send Test Traffic" button feeding the canary; and an agent stopped mid-canary
// saying what became of the canary (rolled back when the agent starts again).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Canary } from '../../common/api.js';
import { type PickOptions, type Prompts, windowPrompts } from '../../extension/src/commands/prompts.js';
import type { InferscopeApi } from '../../extension/src/extension.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

interface Said {
  kind: string;
  text: string;
  modal: boolean;
  buttons: string[];
}

/** Answers every question with `answer` and records what was asked. */
function scripted(answer: { pick?(items: readonly vscode.QuickPickItem[], o: PickOptions<vscode.QuickPickItem>): vscode.QuickPickItem | undefined; message?(m: Said): string | undefined }) {
  const titles: string[] = [];
  const said: Said[] = [];
  const prompts: Prompts = {
    pick: async (items, o) => {
      titles.push(o.title);
      return answer.pick?.(items, o as PickOptions<vscode.QuickPickItem>) as never;
    },
    input: async (o) => {
      titles.push(o.title);
      return undefined;
    },
    message: async (kind, text, options, ...buttons) => {
      const m = { kind, text, modal: options.modal === true, buttons };
      said.push(m);
      return answer.message?.(m);
    },
  };
  return { prompts, titles, said };
}

async function runningCanary(api: InferscopeApi, model: string): Promise<Canary> {
  let found: Canary | undefined;
  await waitFor(`a running canary on ${model}`, async () => {
    found = (await api.services.client.canaries()).find((c) => c.state === 'running' && c.model === model) as Canary | undefined;
    return found !== undefined;
  });
  return found!;
}

const served = async (api: InferscopeApi) =>
  (await api.services.client.status()).models.find((m) => m.name === 'digits')!.versions.reduce((n, v) => n + (v.breaker?.totals.successes ?? 0), 0);

export function canaryFlowSuite(): void {
  suite('canary flow', () => {
    let api: InferscopeApi;
    const canary = () => vscode.workspace.getConfiguration('inferscope.canary');
    suiteSetup(async () => {
      api = await extensionApi();
      await canary().update('intervalSeconds', 0.5, vscode.ConfigurationTarget.Global);
    });
    suiteTeardown(async () => {
      api.services.prompts = undefined;
      await canary().update('intervalSeconds', undefined, vscode.ConfigurationTarget.Global);
    });
    teardown(async () => {
      api.services.prompts = undefined;
      if (api.services.agent.state.kind !== 'ready') return;
      for (const c of await api.services.client.canaries()) if (c.state === 'running') await api.services.client.abortCanary(c.id);
    });

    test("the flow's picker that takes typed weights is a real quick pick: Enter takes the item, Escape nothing", async () => {
      const items = [{ label: '10, 25, 50, 100', steps: [10, 25, 50, 100] }, { label: '50, 100', steps: [50, 100] }];
      const typed = (v: string) => ({ label: v, steps: [] as number[] });
      const taking = windowPrompts.pick(items, { title: 'Evaluate Canary (3/4): digits 1 → 2', typed });
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      assert.deepEqual((await taking)?.steps, [10, 25, 50, 100]);
      const leaving = windowPrompts.pick(items, { title: 'Evaluate Canary (3/4): digits 1 → 2', typed });
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      assert.equal(await leaving, undefined);
    });

    test('Evaluate Canary: titled steps, a candidate older than the default asked about, typed weights, a preset; Abort says it once', async () => {
      await readyAgent(api);
      // digits with version 2 as its default (the file says 1), so candidate 1 is a downgrade.
      const config = JSON.parse(readFileSync(join(api.services.bundledModels, 'digits', 'config.json'), 'utf8')) as Record<string, unknown>;
      await api.services.client.request('POST', '/v2/repository/models/digits/load', { parameters: { config: JSON.stringify({ ...config, default_version: '2' }) } });
      try {
        await waitFor('digits default is 2', async () => (await api.services.client.status()).models.find((m) => m.name === 'digits')?.default_version === '2');
        const { prompts, titles, said } = scripted({
          pick: (items, o) => {
            if (o.title === 'Evaluate Canary (1/4)') return items.find((i) => i.label === 'digits');
            if (o.title.startsWith('Evaluate Canary (2/4)')) return items.find((i) => i.label === '1');
            if (o.title.startsWith('Evaluate Canary (3/4)')) {
              assert.ok('error' in o.typed!('50,10')!, 'decreasing weights are refused in the picker');
              return o.typed!('50, 100') as vscode.QuickPickItem;
            }
            return items.find((i) => i.label === 'Quick (demo traffic)');
          },
          message: (m) => (m.text.includes('older than the default') ? 'Evaluate Anyway' : undefined),
        });
        api.services.prompts = prompts;
        const evaluating = vscode.commands.executeCommand<Canary>('inferscope.evaluateCanary');
        const running = await runningCanary(api, 'digits');
        assert.deepEqual([running.baseline, running.candidate, running.steps], ['2', '1', [50, 100]]);
        assert.equal(running.thresholds.min_samples, 10, 'the Quick preset reached the agent');
        assert.equal(running.interval_s, 0.5);
        const downgrade = said.find((m) => m.text === 'Candidate 1 is older than the default 2 — evaluate anyway?');
        assert.ok(downgrade, JSON.stringify(said));
        assert.equal(downgrade.modal, true);
        // Step 1 is asked only when more than one model is ready.
        assert.deepEqual(titles.filter((t) => !t.startsWith('Evaluate Canary (1/4)')), ['Evaluate Canary (2/4): digits', 'Evaluate Canary (3/4): digits 2 → 1', 'Evaluate Canary (4/4): digits 2 → 1']);

        const aborted = await vscode.commands.executeCommand<Canary>('inferscope.abortCanary', running.id);
        assert.equal(aborted?.state, 'aborted');
        const final = await evaluating;
        assert.equal(final?.state, 'aborted');
        const about = said.filter((m) => /aborted/.test(m.text));
        assert.deepEqual(about.map((m) => m.text), ['Canary digits 2 → 1: aborted; all traffic is back on version 2.']);
      } finally {
        await api.services.client.loadModel('digits'); // the file again: default 1
        await waitFor('digits default is 1 again', async () => (await api.services.client.status()).models.find((m) => m.name === 'digits')?.default_version === '1');
      }
    });

    test('weights from the settings are checked before anything is sent; the error names the setting', async () => {
      await readyAgent(api);
      const { prompts, said } = scripted({});
      api.services.prompts = prompts;
      await canary().update('steps', [50, 20], vscode.ConfigurationTarget.Global);
      try {
        const before = (await api.services.client.canaries()).length;
        assert.equal(await vscode.commands.executeCommand('inferscope.evaluateCanary', { model: 'digits', candidate: '2' }), undefined);
        assert.deepEqual(said.map((m) => [m.kind, m.text, m.buttons]), [
          ['error', 'Evaluate Canary: setting inferscope.canary.steps ([50,20]): expected increasing weights, got 50 then 20.', ['Open Settings']],
        ]);
        assert.equal((await api.services.client.canaries()).length, before, 'no canary was started');
      } finally {
        await canary().update('steps', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    test('a canary with no traffic says so and its Send Test Traffic button feeds the canary', async () => {
      await readyAgent(api);
      const { prompts, said } = scripted({ message: (m) => (/no requests in the last check/.test(m.text) ? 'Send Test Traffic' : undefined) });
      api.services.prompts = prompts;
      const before = await served(api);
      const evaluating = vscode.commands.executeCommand<Canary>('inferscope.evaluateCanary', {
        model: 'digits',
        candidate: '2',
        steps: [50, 100],
        intervalSeconds: 0.5,
        checksPerStep: 50,
        thresholds: { min_samples: 10, max_inconclusive_checks: 100 },
      });
      const running = await runningCanary(api, 'digits');
      await waitFor('the no-traffic offer', () => said.some((m) => /no requests in the last check/.test(m.text)));
      const offer = said.find((m) => /no requests in the last check/.test(m.text))!;
      assert.equal(offer.text, 'Canary digits 1 → 2: no requests in the last check — send test traffic?');
      assert.deepEqual(offer.buttons, ['Send Test Traffic']);
      // The button started test traffic: the agent serves it, and the canary's checks see it.
      await waitFor('the agent serves test traffic', async () => (await served(api)) > before + 20);
      await waitFor('a check with samples', async () => {
        const c = await api.services.client.canary(running.id);
        return c.state !== 'running' || c.checks.some((k) => k.samples.baseline + k.samples.candidate > 0);
      });
      if ((await api.services.client.canary(running.id)).state === 'running') await api.services.client.abortCanary(running.id);
      const final = await evaluating;
      assert.ok(final && final.state !== 'running');
      assert.ok(final.checks.some((k) => k.samples.baseline + k.samples.candidate > 0), 'the canary saw the test traffic');
      assert.equal(said.filter((m) => /no requests in the last check/.test(m.text)).length, 1, 'offered once');
      // Evaluate returns once the load it started has ended with the canary.
      const after = await served(api);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await served(api), after, 'no test traffic after the canary ended');
    });

    test('stopping the agent during a canary says what became of it; the agent records it rolled back when it starts again', async () => {
      await readyAgent(api);
      const { prompts, said } = scripted({});
      api.services.prompts = prompts;
      const evaluating = vscode.commands.executeCommand<Canary>('inferscope.evaluateCanary', { model: 'digits', candidate: '2', steps: [50, 100], intervalSeconds: 0.5, checksPerStep: 50, thresholds: { max_inconclusive_checks: 100 } });
      const running = await runningCanary(api, 'digits');
      await api.services.agent.stop();
      const last = await evaluating;
      assert.equal(last?.id, running.id);
      const told = said.find((m) => /the agent stopped/.test(m.text));
      assert.ok(told, JSON.stringify(said));
      assert.match(told.text, /^Canary digits 1 → 2 ended undecided at 50% \(step 1 of 2, \d+ checks?\): the agent stopped\. .*rolled back and version 1 serves all traffic\.$/);
      assert.deepEqual(told.buttons, ['Start Agent']);
      await readyAgent(api);
      const after = await api.services.client.canary(running.id);
      assert.equal(after.state, 'rolled_back');
    });
  });
}
