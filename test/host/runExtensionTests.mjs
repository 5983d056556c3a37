// The offline runner of the extension-host suites: installs the harness on first use, opens the
// workbench with the extension and its Mocha suite, relays Mocha's report, exits with its code.
// Usage: node test/host/runExtensionTests.mjs [--grep pattern]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupHarness } from './setup.mjs';
import { CHROMIUM, openWorkbench } from './codeServerHost.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const testsPath = join(root, 'dist', 'test', 'extension', 'index.js');
const TIMEOUT_MS = Number(process.env.EXTENSION_TESTS_TIMEOUT_MS ?? 15 * 60_000);

if (!existsSync(CHROMIUM)) {
  // CI installs it (.ci/run); a developer without it gets told, not a silent pass.
  console.error(`extension-host tests need Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}
if (!existsSync(testsPath)) {
  console.error(`${testsPath} is missing: run npm run build first`);
  process.exit(1);
}
setupHarness();

const grep = process.argv.indexOf('--grep') > 0 ? process.argv[process.argv.indexOf('--grep') + 1] : undefined;
// Workbench chatter that is expected offline (marketplace, telemetry, update checks): not relayed.
const NOISE = /marketplace|gallery|telemetry|update\.code|net::ERR|Failed to fetch|ENOTFOUND|EAI_AGAIN|extensionsWorkbenchService|\[Extension Host\] (debugger|Debugger)|webviewElement|Ignoring|Unable to load|No search provider|authentication provider|AccountPolicyGate/i;

/** console.log's own substitutions (%s %d %i %f %o %O %j %c), as Mocha's reporter uses them. */
function formatConsole(args) {
  const str = (a) => (typeof a === 'string' ? a : JSON.stringify(a));
  if (typeof args[0] !== 'string' || !args[0].includes('%')) return args.map(str).join(' ');
  let i = 1;
  const first = args[0].replace(/%([sdifoOjc%])/g, (m, k) => {
    if (k === '%') return '%';
    if (i >= args.length) return m;
    const a = args[i++];
    return k === 'c' ? '' : k === 'd' || k === 'i' ? String(parseInt(a, 10)) : k === 'f' ? String(Number(a)) : str(a);
  });
  return [first, ...args.slice(i).map(str)].join(' ');
}

const started = Date.now();
const host = await openWorkbench({
  extensionPath: root,
  extensionTestsPath: testsPath,
  env: grep ? { INFERSCOPE_TEST_GREP: grep } : {},
  onLog: (type, args) => {
    const text = formatConsole(Array.isArray(args) ? args : [args]);
    if (NOISE.test(text)) return;
    // The extension host's console (Mocha's reporter included) arrives here.
    process.stdout.write(`${text.replace(/%c/g, '')}\n`);
  },
});
const timer = setTimeout(() => {
  console.error(`extension-host tests did not finish within ${TIMEOUT_MS / 1000} s`);
  console.error(host.serverOutput().slice(-4000));
  void host.close().then(() => process.exit(1));
}, TIMEOUT_MS);
let code = await host.exitCode;
clearTimeout(timer);
await host.close();

// Closing VS Code must leave no agent behind: every agent the extension (or a suite) launched runs
// with --exit-on-stdin-close, so it ends once the extension host is gone.
const agentMain = join(root, 'dist', 'agent', 'main.js');
const leftovers = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return cmd.includes(agentMain) && cmd.includes('--exit-on-stdin-close');
      } catch {
        return false;
      }
    });
const graceEnd = Date.now() + 10_000;
while (leftovers().length > 0 && Date.now() < graceEnd) await new Promise((r) => setTimeout(r, 100));
if (leftovers().length > 0) {
  console.error(`agent processes left behind after the workbench closed: pids ${leftovers().join(', ')}`);
  code = code || 1;
} else {
  console.log('no agent process left behind after the workbench closed');
}
console.log(`extension-host tests exited with ${code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(code);
