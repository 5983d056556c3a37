// The Requests view and the request waterfall (issue 17) in the real extension host against the real
// agent: test traffic shows up in the view through the live stream; a row's own command opens the
// waterfall panel, whose webview reads back from its DOM the phase bars and the batch-mate lanes,
// compared with what the agent reports; a request refused by an open breaker shows as failed; the
// filter and the sort change the rows.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RequestRecord } from '../../common/api.js';
import { SERIES } from '../../common/panelProtocol.js';
import { PHASES } from '../../extension/src/requestsView/waterfallModel.js';
import { exampleBodies } from '../../extension/src/traffic/testInputs.js';
import type { LoadSummary } from '../../extension/src/traffic/loadGenerator.js';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

export function requestsViewSuite(): void {
  suite('requests view and waterfall', () => {
    test('test traffic appears in the Requests view; opening a row shows its phases and batch-mates in the waterfall webview', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.requests.focus');
      await waitFor('live data flows while the Requests view is visible', () => api.services.live.subscribed);
      const started = Date.now();
      const summary = await vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 200, concurrency: 16 });
      assert.equal(summary?.succeeded, 200);
      // No explicit refresh: the stream's `request` events and the next snapshot bring them in.
      const fresh = () => api.requests.current.filter((r) => r.label.startsWith('digits/')).length;
      await waitFor(`the view lists the new requests (has ${fresh()})`, () => fresh() >= 150);

      // A burst sent at once rides in shared batches whatever the machine's speed (the generator's
      // 16 in flight may be answered one by one on a fast, quiet machine).
      const client = api.services.client;
      const body = exampleBodies(api.services.bundledModels, 'digits')[0]!;
      await Promise.all(Array.from({ length: 32 }, () => client.inferAt('digits', undefined, body)));
      // A listed row whose batch carried other requests (the view refreshes from the stream).
      let chosen: { record: RequestRecord; batch: Awaited<ReturnType<typeof client.batch>> } | undefined;
      const seen = new Set<string>();
      await waitFor('a listed request rode in a batch with others', async () => {
        for (const row of api.requests.current) {
          if (seen.has(row.id)) continue;
          seen.add(row.id);
          const record = await client.recordedRequest(row.id);
          if (record.received_at < started - 1000 || !record.batch_id) continue;
          const batch = await client.batch(record.batch_id);
          if (batch.request_ids.length >= 2 && batch.requests.length === batch.request_ids.length) {
            chosen = { record, batch };
            return true;
          }
        }
        return false;
      });
      assert.ok(chosen, 'some request rode in a batch with others');
      const { record, batch } = chosen;
      const row = api.requests.current.find((r) => r.id === record.id)!;
      const item = api.requests.getTreeItem(row);
      assert.equal(item.command?.command, 'inferscope.openRequest');
      assert.match(String(item.description), /ms · success/);

      api.waterfall.lastRendered = undefined;
      const model = await vscode.commands.executeCommand<{ requestId: string }>(item.command!.command, ...(item.command!.arguments ?? []));
      assert.equal(model?.requestId, record.id);
      await waitFor('the waterfall webview rendered the request', () => api.waterfall.lastRendered?.requestId === record.id);
      const shown = api.waterfall.lastRendered!;
      // The phase bars in the DOM are the phases the agent reported, in order.
      const reported = PHASES.filter((p) => record.phases[p.key] !== undefined).map((p) => p.phase);
      assert.deepEqual(shown.phases, reported);
      assert.ok(shown.phases.includes('queue') && shown.phases.includes('compute'), shown.phases.join());
      // One lane per batch-mate: the batch's requests but this one; each test request is one row.
      assert.equal(shown.mates, batch.request_ids.length - 1);
      assert.equal(shown.mates + 1, batch.rows);
      assert.ok(batch.request_ids.includes(record.id));
      // Which instance ran it: the bundled digits has one CPU instance (1 of 1; the agent counts from 0).
      assert.deepEqual([batch.instance, batch.instance_count, record.instance], [0, 1, 0]);
      assert.match(shown.batchText, new RegExp(`^Batch ${batch.id} on instance 1 of 1, cpu: ${batch.rows} rows from ${batch.request_ids.length} requests; left `));
      assert.equal(api.waterfall.current!.facts.find((f) => f.label === 'Ran on')?.value, 'instance 1 of 1, cpu');
      // Every bar takes keyboard focus: this request's phases, the batch's compute, the mates' phases.
      const bars = api.waterfall.current!.lanes.reduce((n, l) => n + l.bars.length, 0);
      assert.equal(shown.focusable, bars);
      // The panel's page: strict CSP, scripts by nonce only, no inline styles.
      const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(api.waterfall.html)?.[1] ?? '';
      assert.match(csp, new RegExp(`^default-src 'none'; script-src 'nonce-[^']{16,}'; style-src ${api.waterfall.cspSource.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')};`));
      assert.doesNotMatch(api.waterfall.html, /style="|unsafe-inline/);
    });

    test('clicking a point of the latency chart lists the slowest requests of that second, as the agent reports them', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await waitFor('the Metrics webview rendered', () => api.metrics.lastRendered?.agent === 'ready');
      const version = api.services.live.latest!.models.find((m) => m.name === 'digits')!.default_version!;
      const label = `digits version ${version} latency quantiles`;
      const p99 = SERIES.latencyMs('p99', 'digits', version);
      const history = api.metrics.history.window;
      const startedAt = Date.now();
      // A second in the middle of the traffic: a point with a p99 after another with one, both taken
      // after the traffic began (so the traffic ran through the whole second).
      const busy = () => {
        const values = history.get(p99);
        for (let j = history.times.length - 1; j >= 1 && history.times[j - 1]! > startedAt; j--) {
          if ((values[j] ?? null) !== null && (values[j - 1] ?? null) !== null) return history.times[j]!;
        }
        return undefined;
      };
      // Traffic until the history has such a second (a fixed count can be over within one snapshot).
      const stopTraffic = new AbortController();
      const sending = vscode.commands.executeCommand<LoadSummary>('inferscope.sendTestTraffic', { model: 'digits', requests: 100_000, concurrency: 8, signal: stopTraffic.signal });
      try {
        await waitFor('a second of the traffic in the chart\'s history', () => busy() !== undefined);
      } finally {
        stopTraffic.abort();
      }
      const summary = await sending;
      assert.ok((summary?.succeeded ?? 0) > 0, JSON.stringify(summary));
      const at = busy()!;
      await waitFor('the webview drew the chart', () => (api.metrics.lastRendered?.charts ?? []).some((c) => c.label === label));
      await vscode.commands.executeCommand('inferscope.filterRequests', {});

      // The click goes through the webview: a real click event at the point's x on the canvas.
      assert.equal(await api.metrics.clickChart(label, at), true);
      await waitFor('the Requests view shows that second', () => api.requests.filter.until === at);
      assert.deepEqual(api.requests.filter, { model: 'digits', version, since: at - 1000, until: at });
      assert.equal(api.requests.sort, 'duration');

      // What the agent holds for that second, read without the window (the route's since/until and
      // sort are checked by what the view got, not used to compute the expectation).
      const all = await api.services.client.recordedRequests(`model=digits&version=${version}&limit=10000`);
      const expected = all.filter((r) => r.received_at >= at - 1000 && r.received_at < at).sort((a, b) => b.duration_ms - a.duration_ms || b.received_at - a.received_at);
      assert.ok(expected.length > 0, 'requests were received in that second');
      await waitFor('the view lists them', () => api.requests.current.length === Math.min(expected.length, 200));
      assert.deepEqual(api.requests.current.map((r) => r.id), expected.slice(0, 200).map((r) => r.id), 'the second\'s requests, slowest first');
      const durations = api.requests.current.map((r) => r.durationMs);
      assert.deepEqual(durations, [...durations].sort((a, b) => b - a));
      assert.match(api.requests.view!.description ?? '', new RegExp(`^digits/${version} · \\d\\d:\\d\\d:\\d\\d(\\.\\d)?–\\d\\d:\\d\\d:\\d\\d(\\.\\d)? · slowest first$`));
      // The first row opens the slowest request's waterfall.
      api.waterfall.lastRendered = undefined;
      const first = api.requests.getTreeItem(api.requests.current[0]!);
      await vscode.commands.executeCommand(first.command!.command, ...(first.command!.arguments ?? []));
      await waitFor('the slowest request\'s waterfall', () => api.waterfall.lastRendered?.requestId === expected[0]!.id);

      // The keyboard does the same: End (the last point), ← (the one before it), Enter.
      await vscode.commands.executeCommand('inferscope.metrics.focus');
      await vscode.commands.executeCommand('inferscope.filterRequests', {});
      assert.equal(await api.metrics.keysOnChart(label, ['End', 'ArrowLeft', 'Enter']), true);
      await waitFor('Enter on a chosen point shows its second', () => api.requests.filter.until !== undefined);
      const picked = api.requests.filter.until!;
      const withValue = history.times.filter((_, j) => (history.get(p99)[j] ?? null) !== null);
      assert.ok(withValue.includes(picked), 'a point with a value');
      assert.ok(picked < withValue[withValue.length - 1]!, 'the one before the last');
      assert.equal(api.requests.filter.since, picked - 1000);
      await vscode.commands.executeCommand('inferscope.sortRequestsByTime');
      await vscode.commands.executeCommand('inferscope.filterRequests', {});
    });

    test('a request refused by an open breaker is marked failed, the filter and the sort change the rows', async () => {
      const api = await extensionApi();
      await readyAgent(api);
      await vscode.commands.executeCommand('inferscope.requests.focus');
      const body = exampleBodies(api.services.bundledModels, 'digits')[0]!;
      await vscode.commands.executeCommand('inferscope.openBreaker', { model: 'digits', version: '2', confirmed: true });
      try {
        await assert.rejects(api.services.client.inferAt('digits', '2', body), /503/);
      } finally {
        await vscode.commands.executeCommand('inferscope.resetBreaker', { model: 'digits', version: '2' });
      }
      await vscode.commands.executeCommand('inferscope.filterRequests', { outcome: 'failed' });
      assert.ok(api.requests.current.length >= 1, 'the refused request is listed');
      assert.ok(api.requests.current.every((r) => r.failed && r.icon.id === 'error'));
      const refused = api.requests.current[0]!;
      assert.equal(refused.label, 'digits/2');
      api.waterfall.lastRendered = undefined;
      await vscode.commands.executeCommand('inferscope.openRequest', refused.id);
      await waitFor('the refused request rendered', () => api.waterfall.lastRendered?.requestId === refused.id);
      assert.equal(api.waterfall.lastRendered!.mates, 0);
      assert.ok(!api.waterfall.lastRendered!.phases.includes('compute'), 'refused before compute');
      assert.match(api.waterfall.current!.facts.find((f) => f.label === 'Breaker')!.value, /open/);

      await vscode.commands.executeCommand('inferscope.filterRequests', { model: 'digits', version: '1' });
      assert.ok(api.requests.current.length > 0 && api.requests.current.every((r) => r.label === 'digits/1'));
      await vscode.commands.executeCommand('inferscope.sortRequestsByDuration');
      const durations = api.requests.current.map((r) => r.durationMs);
      assert.deepEqual(durations, [...durations].sort((a, b) => b - a), 'slowest first');
      assert.match(api.requests.view!.description ?? '', /digits\/1 · slowest first/);
      await vscode.commands.executeCommand('inferscope.sortRequestsByTime');
      await vscode.commands.executeCommand('inferscope.filterRequests', {});
      assert.equal(api.requests.view!.description, '');
    });
  });
}
