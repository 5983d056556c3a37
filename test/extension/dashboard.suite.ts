// The dashboard (Inferscope: Open Dashboard) in the real extension host: the Metrics webview in the
// editor area, told it is a dashboard — sections in a grid, latency versions side by side, taller
// charts with legends, a 1/5/15 min range that sets every chart's window — fed by the same history
// as the sidebar view, which stays compact and keeps working beside it. A model selected in the
// Models tree reaches both.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RenderedSummary } from '../../common/panelProtocol.js';
import type { LoadSummary } from '../../extension/src/traffic/loadGenerator.js';
import { gridColumns } from '../../webview/src/dashboardLayout.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

export function dashboardSuite(): void {
  suite('dashboard', () => {
    suiteTeardown(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('opens in the editor area with a strict CSP and lays the sections out in a grid, versions side by side', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.openDashboard');
      await waitFor('the dashboard rendered', () => api.dashboard.lastRendered?.mode === 'dashboard' && api.dashboard.lastRendered.agent === 'ready', 30_000);
      assert.equal(api.dashboard.visible, true);
      const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(api.dashboard.html)?.[1] ?? '';
      assert.match(csp, /default-src 'none'; script-src 'nonce-[^']{16,}'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(api.dashboard.html, /<title>Inferscope Dashboard<\/title>/);
      assert.equal(api.services.live.subscribed, true, 'live data flows while the dashboard is visible');
      const versions = api.services.live.latest!.models.find((m) => m.name === 'digits')!.versions.filter((v) => v.state === 'ready').length;
      let r: RenderedSummary | undefined;
      await waitFor('a grid of 2+ columns, latency spanning its versions', () => {
        r = api.dashboard.lastRendered;
        const latency = r?.sections?.find((s) => s.id === 'latency')?.span;
        return (r?.columns ?? 0) >= 2 && r!.columns === gridColumns(r!.width ?? 0) && latency === Math.min(r!.columns!, versions);
      }).catch((err: Error) => {
        throw new Error(`${err.message}; last rendered ${JSON.stringify({ ...r, charts: undefined })}`);
      });
      assert.deepEqual(
        r!.sections!.map((s) => s.id),
        ['agent', 'breakers', 'canary', 'traffic', 'latency', 'batching', 'cache', 'gpu'],
      );
      assert.ok(r!.sections!.filter((s) => s.id !== 'latency').every((s) => s.span === 1));
    });

    test('after traffic the charts carry legends, and the range sets every chart\'s window', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.openDashboard');
      await waitFor('dashboard rendered', () => api.dashboard.lastRendered?.mode === 'dashboard');
      const summary = await vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 150, concurrency: 5 });
      assert.equal(summary?.succeeded, 150);
      let r: RenderedSummary | undefined;
      await waitFor('traffic and latency legends', () => {
        r = api.dashboard.lastRendered;
        const traffic = r?.charts?.find((c) => c.section === 'traffic');
        const latency = r?.charts?.filter((c) => c.section === 'latency') ?? [];
        return !!traffic && traffic.legend.join() === 'digits req/s,digits errors/s' && latency.some((c) => c.legend.join() === 'p50,p95,p99') && latency.some((c) => c.legend.join() === 'queue,compute');
      }).catch((err: Error) => {
        throw new Error(`${err.message}; last charts ${JSON.stringify(r?.charts)}`);
      });
      assert.equal(r!.model, 'digits');
      assert.equal(r!.rangeMinutes, 5, 'the default range');
      assert.ok(r!.charts!.every((c) => c.windowMs === 5 * 60_000), JSON.stringify(r!.charts));
      for (const minutes of [15, 1]) {
        assert.equal(await api.dashboard.click(`range:${minutes}`), true);
        await waitFor(`range ${minutes} min; last ${JSON.stringify(api.dashboard.lastRendered?.charts)}`, () => {
          const now = api.dashboard.lastRendered;
          return now?.rangeMinutes === minutes && (now.charts ?? []).length > 0 && now.charts!.every((c) => c.windowMs === minutes * 60_000);
        });
      }
      // The history the 15 min range reads is kept by the extension (15 min at 1 point/s).
      assert.equal(api.dashboard.history.window.capacity, 900);
    });

    test('the sidebar view works beside it, compact: same numbers, no legends, its own window', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.openDashboard');
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('both visible', () => api.dashboard.visible && api.metrics.visible);
      await vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 60, concurrency: 4 });
      const status = await api.services.client.status();
      const expected: Record<string, string> = {};
      for (const v of status.models.find((m) => m.name === 'digits')!.versions) {
        const t = v.breaker!.totals;
        expected[`digits/${v.version}`] = `${t.successes} ok · ${t.failures} failed · ${t.rejected} rejected`;
      }
      await waitFor(`both show ${JSON.stringify(expected)}`, () =>
        [api.metrics.lastRendered, api.dashboard.lastRendered].every((r) => JSON.stringify(r?.breakerTotals) === JSON.stringify(expected)),
      );
      const side = api.metrics.lastRendered!;
      assert.equal(side.mode, 'sidebar');
      assert.equal(side.columns, 1);
      assert.equal(side.rangeMinutes, undefined, 'no range control in the sidebar');
      assert.ok(side.charts!.every((c) => c.legend.length === 0 && c.windowMs <= 5 * 60_000), JSON.stringify(side.charts));
    });

    test('a model selected in the Models tree is the model both views chart', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.openDashboard');
      await vscode.commands.executeCommand('inferscope.models.focus');
      await waitFor('tree rows', () => api.models.current.length > 0);
      const row = api.models.current.find((m) => m.name === 'digits')!;
      await api.modelsView.reveal(row, { select: true, focus: true });
      await waitFor('selected', () => api.modelsView.selection.length > 0);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('both render digits', () => api.metrics.lastRendered?.model === 'digits' && api.dashboard.lastRendered?.model === 'digits');
      assert.equal(api.metrics.fullState().selectedModel, 'digits');
      assert.equal(api.dashboard.fullState().selectedModel, 'digits');
    });

    test('hidden behind another editor it gets nothing; shown again it renders its history at once', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.openDashboard');
      await waitFor('some history', () => api.dashboard.history.window.times.length >= 3);
      await vscode.commands.executeCommand('workbench.view.explorer'); // the sidebar view hidden too
      await vscode.workspace.openTextDocument({ content: 'cover' }).then((d) => vscode.window.showTextDocument(d, vscode.ViewColumn.Active));
      await waitFor('dashboard hidden', () => !api.dashboard.visible);
      await waitFor('no live subscription while nothing shows metrics', () => !api.services.live.subscribed);
      const posted = api.dashboard.posted;
      await new Promise((r) => setTimeout(r, 1500)); // two snapshot periods: nothing may arrive
      assert.equal(api.dashboard.posted, posted, 'nothing posted to a hidden dashboard');
      api.dashboard.lastRendered = undefined;
      await vscode.commands.executeCommand('inferscope.openDashboard');
      await waitFor('rendered again', () => api.dashboard.visible && api.dashboard.lastRendered?.mode === 'dashboard' && (api.dashboard.lastRendered.charts ?? []).length > 0);
    });
  });
}
