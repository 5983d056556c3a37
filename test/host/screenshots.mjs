// `npm run screenshot`: opens the workbench with the extension, plays test/extension/
// screenshotScenario.ts (live traffic, the dashboard, a request waterfall, an open breaker, a canary;
// dark and light themes) and saves PNGs of the Inferscope sidebar (the dashboard and the waterfall:
// the editor area) to docs/screenshots/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupHarness } from './setup.mjs';
import { openWorkbench } from './codeServerHost.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = resolve(process.argv[2] ?? join(root, 'docs', 'screenshots'));
mkdirSync(out, { recursive: true });
setupHarness();

let pending = Promise.resolve();
const host = await openWorkbench({
  extensionPath: root,
  extensionTestsPath: join(root, 'dist', 'test', 'extension', 'screenshots.js'),
  env: { INFERSCOPE_SCREENSHOT_DIR: out },
  viewport: { width: 1280, height: 1400 },
  settings: { 'workbench.colorTheme': 'Default Dark Modern', 'workbench.sideBar.location': 'left' },
  onLog: (_type, args) => {
    const text = (Array.isArray(args) ? args : [args]).join(' ');
    const m = /inferscope-screenshot (\S+\.png)/.exec(text);
    if (!m) {
      if (/error|fail/i.test(text) && /inferscope|scenario|Error:/i.test(text)) console.error(text);
      return;
    }
    pending = pending.then(async () => {
      // The waterfall, the dashboard, request files and the inspector open in the editor area; the rest is in the sidebar.
      const part = host.page.locator(/(waterfall|dashboard|request-file|request-compare|inspector)-[^/]*\.png$/.test(m[1]) ? '.part.editor' : '.part.sidebar');
      const png = await part.screenshot();
      writeFileSync(m[1], png);
      console.log(`saved ${m[1]}`);
    });
  },
});
const timer = setTimeout(() => {
  console.error('the screenshot scenario did not finish within 5 minutes');
  void host.close().then(() => process.exit(1));
}, 5 * 60_000);
const code = await host.exitCode;
clearTimeout(timer);
await pending;
await host.close();
console.log(code === 0 ? `screenshots in ${out}` : `the screenshot scenario failed (exit ${code})`);
process.exit(code);
