// The scenario `npm run screenshot` plays inside the workbench: live traffic, the dashboard, a
// request's waterfall, a request file with its answer and a comparison, a version's inspector, an
// open breaker and a canary in progress, in a dark and a light theme. At each moment it asks the runner (which
// owns the browser page) for a screenshot and waits until the PNG has been written anew.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extensionApi, readyAgent, waitFor } from './hostHelpers.js';

const OUT = process.env.INFERSCOPE_SCREENSHOT_DIR ?? '';

/** When a file was last written (0: it does not exist). */
const writtenAt = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : 0);

async function shot(name: string): Promise<void> {
  const file = join(OUT, `${name}.png`);
  // The PNG of an earlier run is already there: wait for this one, or the next step of the
  // scenario (a breaker reset, say) would be in the picture.
  const before = writtenAt(file);
  console.log(`inferscope-screenshot ${file}`);
  await waitFor(`screenshot ${file}`, () => writtenAt(file) > before, 30_000);
}

async function theme(name: string): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', name, vscode.ConfigurationTarget.Global);
  await new Promise((r) => setTimeout(r, 1500)); // the webview redraws on the theme's class change
}

/** The waterfall of a recent request that rode in a batch with others (issue 17). */
async function waterfallShot(api: Awaited<ReturnType<typeof extensionApi>>): Promise<void> {
  await vscode.commands.executeCommand('inferscope.requests.focus');
  await vscode.commands.executeCommand('inferscope.refreshRequests');
  for (const row of api.requests.current.slice(0, 50)) {
    const r = await api.services.client.recordedRequest(row.id);
    if (!r.batch_id) continue;
    const batch = await api.services.client.batch(r.batch_id).catch(() => undefined);
    if (!batch || batch.request_ids.length < 2) continue;
    await vscode.commands.executeCommand('inferscope.openRequest', row.id);
    await waitFor('waterfall rendered', () => api.waterfall.lastRendered?.requestId === row.id);
    await shot('waterfall-dark');
    break;
  }
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  await vscode.commands.executeCommand('inferscope.metrics.focus');
}

/** The dashboard in the editor area, the sidebar closed so that it has the width (issue 19). */
async function dashboardShot(api: Awaited<ReturnType<typeof extensionApi>>): Promise<void> {
  await vscode.commands.executeCommand('inferscope.openDashboard');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await waitFor('dashboard rendered wide', () => {
    const r = api.dashboard.lastRendered;
    return r?.mode === 'dashboard' && (r.columns ?? 0) >= 2 && (r.charts ?? []).some((c) => c.section === 'traffic' && c.legend.length > 0);
  });
  await new Promise((r) => setTimeout(r, 1000)); // a tick after the resize, so every chart is drawn
  await shot('dashboard-dark');
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  await vscode.commands.executeCommand('inferscope.metrics.focus');
}

/** A request file with its answer beside it, the comparison of two versions, and a version's inspector (issue 19). */
async function requestFileShots(api: Awaited<ReturnType<typeof extensionApi>>): Promise<void> {
  const uri = await vscode.commands.executeCommand<vscode.Uri>('inferscope.newRequestFile', { model: 'digits' });
  let lenses: vscode.CodeLens[] = [];
  await waitFor('the request file has its lenses', async () => {
    lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    return lenses.some((l) => l.command?.title.includes('Send to digits'));
  });
  const send = lenses.find((l) => l.command!.title.includes('Send to digits'))!.command!;
  await vscode.commands.executeCommand(send.command, ...(send.arguments ?? []));
  await new Promise((r) => setTimeout(r, 1000)); // the answer's editor opens beside the file
  await shot('request-file-dark');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.window.showTextDocument(uri!);
  const compare = lenses.find((l) => l.command!.title.includes('Compare'))!.command!;
  await vscode.commands.executeCommand('inferscope.compareRequest', { ...(compare.arguments?.[0] as object), versions: ['1', '2'] });
  await new Promise((r) => setTimeout(r, 1000));
  await shot('request-compare-dark');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  const row = api.models.current.find((m) => m.name === 'digits')!.versions.find((v) => v.version === '2')!;
  await vscode.commands.executeCommand('inferscope.inspectVersion', row);
  await new Promise((r) => setTimeout(r, 1000));
  await shot('inspector-dark');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.commands.executeCommand('inferscope.metrics.focus');
}

export async function run(): Promise<void> {
  const api = await extensionApi();
  await readyAgent(api);
  await vscode.commands.executeCommand('inferscope.metrics.focus');
  await waitFor('panel rendered', () => api.metrics.lastRendered?.agent === 'ready');
  // Live traffic for the rest of the scenario.
  const traffic = vscode.commands.executeCommand('inferscope.sendTestTraffic', { model: 'digits', requests: 40_000, concurrency: 4 });
  await new Promise((r) => setTimeout(r, 12_000));
  for (const [t, suffix] of [['Default Dark Modern', 'dark'], ['Default Light Modern', 'light']] as const) {
    await theme(t);
    await shot(`panel-traffic-${suffix}`);
  }
  await theme('Default Dark Modern');
  await dashboardShot(api);
  await waterfallShot(api);
  await requestFileShots(api);
  await vscode.commands.executeCommand('inferscope.openBreaker', { model: 'digits', version: '2', confirmed: true });
  await waitFor('open card', () => api.metrics.lastRendered?.breakers['digits/2'] === 'open');
  // The sidebar has its charts first: scroll to the breakers, as a user would.
  await api.metrics.reveal('breakers');
  await new Promise((r) => setTimeout(r, 500));
  await shot('panel-breaker-open-dark');
  await vscode.commands.executeCommand('inferscope.resetBreaker', { model: 'digits', version: '2' });
  const canary = vscode.commands.executeCommand('inferscope.evaluateCanary', { model: 'digits', candidate: '2', steps: [20, 50, 100], intervalSeconds: 1.5, checksPerStep: 2, // v2 is measurably slower; for a picture of a canary in progress, latency alone does not decide.
    thresholds: { min_samples: 20, latency_effect_margin: 0.45, max_p99_ratio: 20 },
  });
  await waitFor(
    'canary checks in the panel',
    () => {
      const c = api.services.live.latest?.canaries[0];
      return c !== undefined && (c.check_count >= 3 || c.state !== 'running');
    },
    60_000,
  ).catch(async (err: Error) => {
    console.error(`scenario: ${err.message}; canaries: ${JSON.stringify(api.services.live.latest?.canaries.map((c) => [c.state, c.check_count, c.reason]))}; evaluate → ${JSON.stringify(await Promise.race([canary, new Promise((r) => setTimeout(() => r('pending'), 100))]))}`);
    throw err;
  });
  await api.metrics.reveal('canary');
  await new Promise((r) => setTimeout(r, 1200));
  await shot('panel-canary-dark');
  await theme('Default Light Modern');
  await shot('panel-canary-light');
  await theme('Default Dark Modern');
  if (api.services.live.latest?.canaries.some((c) => c.state === 'running')) await vscode.commands.executeCommand('inferscope.abortCanary');
  await canary;
  await vscode.commands.executeCommand('inferscope.stopAgent');
  void traffic;
}
