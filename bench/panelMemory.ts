// `npm run bench:panel`: does the Metrics webview's memory stay flat over an hour of updates?
// Loads the real webview bundle in headless Chromium, feeds it the full state and then 3,600 ticks
// (an hour at one per second, as fast as it renders) built from a real agent's snapshot and
// /metrics, and reads the JS heap (after a forced GC) and the DOM size along the way. The baseline
// is the same page after its first 300 ticks (the history window is full from then on).
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AgentStatus } from '../common/api.js';
import type { ExtensionMessage, PanelState } from '../common/panelProtocol.js';
import { MetricsHistory } from '../extension/src/live/metricsHistory.js';
import { startAgent } from '../test/helpers/agentProcess.js';

const ROOT = resolve(__dirname, '..');
const requireHarness = createRequire(join(ROOT, 'test', 'host', 'package.json'));

// playwright-core lives in the harness package (test/host), not in the root one: the few calls used.
interface Page {
  goto(url: string): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  evaluate<R>(fn: () => R | Promise<R>): Promise<R>;
}
interface Browser {
  newPage(opts: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launch(opts: { executablePath: string; args: string[] }): Promise<Browser> };
}

async function main(): Promise<void> {
  const { chromium } = requireHarness('playwright-core') as Playwright;
  const agent = await startAgent();
  const get = async (path: string) => (await fetch(`${agent.url}${path}`)).text();
  // Some real traffic first, so the histograms and counters have content.
  const body = readFileSync(join(ROOT, 'models', 'digits', 'examples', 'digit-3.json'), 'utf8');
  for (let i = 0; i < 50; i++) await fetch(`${agent.url}/v2/models/digits/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const status = JSON.parse(await get('/api/v1/status')) as AgentStatus;
  const metricsText = await get('/metrics');
  await agent.stop();

  const history = new MetricsHistory();
  const tick = (i: number): ExtensionMessage => {
    const s = structuredClone(status);
    s.agent.uptime_s = i;
    for (const m of s.models) for (const v of m.versions) if (v.breaker) v.breaker.totals.successes = i * 50;
    // Requests grow by a varying amount each second; the histograms move with them.
    const text = metricsText.replace(/^(inferscope_inference_requests_total\{[^}]*outcome="success"[^}]*\}) (\d+)/gm, (_m, k: string) => `${k} ${i * (40 + (i % 17))}`);
    const point = history.ingest(s, text, 1_700_000_000_000 + i * 1000);
    return { type: 'tick', point, status: s, batchSizes: history.batchSizes };
  };
  const state: PanelState = { agent: { phase: 'ready' }, status, history: history.window.toJSON(), batchSizes: {}, testMode: false };

  const dir = mkdtempSync(join(tmpdir(), 'inferscope-panel-bench-'));
  const page = join(dir, 'panel.html');
  writeFileSync(
    page,
    `<!DOCTYPE html><html><head><link rel="stylesheet" href="${pathToFileURL(join(ROOT, 'dist', 'webview', 'panel.css'))}"></head><body class="vscode-dark"><main id="app"></main>
<script>window.acquireVsCodeApi = () => ({ postMessage() {}, getState() { return undefined; }, setState() {} });</script>
<script src="${pathToFileURL(join(ROOT, 'dist', 'webview', 'main.js'))}"></script></body></html>`,
  );
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--js-flags=--expose-gc', '--disable-background-networking'] });
  const tab = await browser.newPage({ viewport: { width: 320, height: 2000 } });
  await tab.goto(pathToFileURL(page).toString());
  await tab.evaluate((m: ExtensionMessage) => window.postMessage(m, '*'), { type: 'state', state } as ExtensionMessage);

  const measure = async () =>
    tab.evaluate(async () => {
      (globalThis as unknown as { gc(): void }).gc();
      await new Promise((r) => setTimeout(r, 50));
      (globalThis as unknown as { gc(): void }).gc();
      return { heap: (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize, nodes: document.getElementsByTagName('*').length };
    });
  const rows: { ticks: number; heapMiB: number; nodes: number }[] = [];
  const started = Date.now();
  for (let i = 1; i <= 3600; i++) {
    await tab.evaluate((m: ExtensionMessage) => window.postMessage(m, '*'), tick(i));
    if (i === 300 || i % 900 === 0) {
      const m = await measure();
      rows.push({ ticks: i, heapMiB: m.heap / 2 ** 20, nodes: m.nodes });
    }
  }
  const seconds = (Date.now() - started) / 1000;
  await browser.close();

  const base = rows[0]!;
  console.log('Metrics webview, an hour of 1 Hz updates (3,600 ticks) fed as fast as it renders');
  console.log('ticks   heap MiB   DOM nodes   heap vs 300 ticks');
  for (const r of rows) console.log(`${String(r.ticks).padStart(5)}   ${r.heapMiB.toFixed(2).padStart(8)}   ${String(r.nodes).padStart(9)}   ${(r.heapMiB / base.heapMiB).toFixed(2)}×`);
  console.log(`render + post: ${((seconds * 1000) / 3600).toFixed(1)} ms per tick (the panel gets one per second)`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
