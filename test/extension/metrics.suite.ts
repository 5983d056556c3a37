// The Metrics webview in the real extension host: it resolves with a strict CSP, renders snapshots
// whose numbers match /api/v1/status, shows a forced-open breaker as an open card, its Reset button
// resets the breaker, and a view shown again gets its history at once.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RenderedSummary } from '../../common/panelProtocol.js';
import type { LoadSummary } from '../../extension/src/traffic/loadGenerator.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

export function metricsSuite(): void {
  suite('metrics panel', () => {
    test('the view resolves with a strict CSP: no unsafe-inline, every script carries the nonce', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('the webview rendered', () => api.metrics.lastRendered?.agent === 'ready', 30_000);
      const html = api.metrics.html;
      const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|data:/);
      // Styles, fonts and images only from the extension's own webview origin.
      for (const d of ['style-src', 'font-src', 'img-src']) assert.ok(csp.includes(`${d} ${api.metrics.cspSource};`) || csp.endsWith(`${d} ${api.metrics.cspSource}`), `${d} is webview.cspSource only: ${csp}`);
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce && nonce.length >= 16, 'a nonce');
      const scripts = [...html.matchAll(/<script\b([^>]*)>/g)];
      assert.ok(scripts.length >= 1);
      for (const s of scripts) assert.match(s[1]!, new RegExp(`nonce="${nonce!.replace(/[+/=]/g, '\\$&')}"`));
      assert.doesNotMatch(html, /style="/);
      assert.equal(api.services.live.subscribed, true, 'live data flows while the panel is visible');
    });

    test('after test traffic the webview shows the numbers of /api/v1/status', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      const summary = await vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 150, concurrency: 5 });
      assert.equal(summary?.succeeded, 150);
      const status = await api.services.client.status();
      const expected: Record<string, string> = {};
      for (const v of status.models.find((m) => m.name === 'digits')!.versions) {
        const t = v.breaker!.totals;
        expected[`digits/${v.version}`] = `${t.successes} ok · ${t.failures} failed · ${t.rejected} rejected`;
      }
      let last: RenderedSummary | undefined;
      await waitFor(`webview totals ${JSON.stringify(expected)}, last rendered ${JSON.stringify(last)}`, () => {
        last = api.metrics.lastRendered;
        return JSON.stringify(last?.breakerTotals) === JSON.stringify(expected);
      });
      // The traffic shows as a request rate once two snapshots bracket it.
      await waitFor('two points in the history', () => api.metrics.history.window.times.length >= 2);
    });

    test('a breaker forced open shows as an open card, and the card\'s Reset button resets it', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      // confirmed: a drill (version 2 may be the default by now: Force Open would ask).
      // The sidebar: charts first, a closed breaker condensed to one line (issue 19).
      await waitFor('closed cards condensed', () => api.metrics.lastRendered?.breakers['digits/2'] === 'closed' && (api.metrics.lastRendered.breakersCondensed ?? []).includes('digits/2'));
      const order = api.metrics.lastRendered!.sections!.map((s) => s.id);
      assert.ok(order.indexOf('latency') < order.indexOf('breakers'), order.join());
      await vscode.commands.executeCommand('inferscope.openBreaker', { model: 'digits', version: '2', confirmed: true });
      await waitFor('open card', () => api.metrics.lastRendered?.breakers['digits/2'] === 'open');
      assert.ok(!api.metrics.lastRendered!.breakersCondensed!.includes('digits/2'), 'an open breaker is shown whole');
      assert.equal(await api.metrics.click('breaker-reset:digits/2'), true);
      await waitFor('breaker closed at the agent', async () => (await api.services.client.status()).models[0]!.versions.find((v) => v.version === '2')!.breaker!.state === 'closed');
      await waitFor('closed card, condensed again', () => api.metrics.lastRendered?.breakers['digits/2'] === 'closed' && api.metrics.lastRendered.breakersCondensed!.includes('digits/2'));
    });

    test('hidden, the panel gets no updates; shown again, it has its history at once', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('some history', () => api.metrics.history.window.times.length >= 3);
      await vscode.commands.executeCommand('workbench.view.explorer');
      await waitFor('hidden', () => !api.metrics.visible);
      await waitFor('no live subscription while hidden', () => !api.services.live.subscribed);
      const posted = api.metrics.posted;
      const points = api.metrics.history.window.times.length;
      await new Promise((r) => setTimeout(r, 1500)); // two snapshot periods: nothing may arrive
      assert.equal(api.metrics.posted, posted, 'nothing posted to a hidden view');
      assert.equal(api.metrics.history.window.times.length, points, 'no scraping for a hidden view');
      api.metrics.lastRendered = undefined;
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('rendered again after being shown', () => api.metrics.lastRendered?.agent === 'ready');
      assert.ok(api.metrics.history.window.times.length >= points);
    });

    test('the status bar and the Traffic section show one request rate (issue 19)', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      const traffic = vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 4000, concurrency: 4 });
      try {
        let seen = '';
        // digits is the only model: the status bar's total is its rate. Both change every snapshot.
        await waitFor(`the same non-zero rate in both; last: ${seen}`, () => {
          const panel = api.metrics.lastRendered?.requestsPerSecond.digits ?? '';
          seen = `status bar "${api.statusBar.text}", panel "${panel}"`;
          return panel !== '' && panel !== '0' && panel !== '–' && api.statusBar.text.endsWith(` · ${panel} req/s`);
        }, 20_000);
      } finally {
        await traffic;
      }
    });

    test('with the agent down: one compact state instead of empty sections, past canaries still listed (issue 19)', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('ready, every section shown', () => api.metrics.lastRendered?.agent === 'ready' && (api.metrics.lastRendered.visibleSections ?? []).length === 8);
      // A canary that ended (aborted at once): the panel shows it while the agent runs…
      const digits = (await api.services.client.status()).models.find((m) => m.name === 'digits')!;
      const baseline = digits.default_version ?? '1';
      const candidate = digits.versions.find((v) => v.state === 'ready' && v.version !== baseline)!.version;
      const started = await api.services.client.startCanary({ model: 'digits', baseline, candidate, steps: [50, 100], interval_s: 60, checks_per_step: 1, thresholds: { alpha: 0.05 } });
      await api.services.client.abortCanary(started.id);
      await waitFor('a snapshot has it aborted', () => api.services.live.latest?.canaries.some((c) => c.id === started.id && c.state === 'aborted') === true);
      const posted = api.metrics.posted;
      await waitFor('two more ticks reached the panel', () => api.metrics.posted >= posted + 2);
      assert.equal(api.metrics.lastRendered?.canary, 'aborted');
      await api.services.agent.stop();
      // …and lists it when the agent is gone.
      await waitFor(`one compact down state; last ${JSON.stringify(api.metrics.lastRendered)}`, () => api.metrics.lastRendered?.down === true);
      const down = api.metrics.lastRendered!;
      assert.equal(down.agent, 'stopped');
      assert.deepEqual(down.visibleSections, [], 'no empty section is shown');
      assert.deepEqual(down.charts, [], 'no empty chart');
      const line = `digits ${baseline} → ${candidate}: aborted`;
      assert.ok(down.pastCanaries?.includes(line), JSON.stringify(down.pastCanaries));
      // Its report opens with the agent gone, though this window never followed it (started through
      // the API): the extension kept it whole when it ended.
      assert.equal(await api.metrics.click(`past-canary-report:${started.id}`), true);
      let report: vscode.TextDocument | undefined;
      await waitFor('the report is open', () => (report = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'inferscope' && d.uri.path.includes(started.id))) !== undefined);
      assert.match(report!.getText(), new RegExp(`digits ${baseline} → ${candidate}`));
      assert.match(report!.getText(), /aborted/i);
      // Hidden and shown again (full state from the extension): still listed.
      await vscode.commands.executeCommand('workbench.view.explorer');
      await waitFor('hidden', () => !api.metrics.visible);
      api.metrics.lastRendered = undefined;
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('rendered again, still down', () => api.metrics.lastRendered?.down === true);
      assert.ok(api.metrics.lastRendered!.pastCanaries?.includes(line));
      // Started again: the sections come back, the down state goes.
      await readyAgent(api);
      await waitFor('sections back', () => api.metrics.lastRendered?.down === false && api.metrics.lastRendered.agent === 'ready' && (api.metrics.lastRendered.visibleSections ?? []).length === 8);
    });
  });
}
