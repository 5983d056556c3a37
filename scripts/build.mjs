// Bundles the three targets with esbuild:
//   dist/agent/main.js, inferenceWorker.js, deviceWorker.js, parserWorker.js, exportWorker.js   Node, onnxruntime-node stays external (native)
//   dist/extension/extension.js                          Node (extension host), `vscode` external
//   dist/webview/main.js, panel.css                      browser (the Metrics webview)
//   dist/webview/waterfall.js, waterfall.css             browser (the request waterfall panel)
//   dist/test/extension/index.js                         the extension-host Mocha suites
// `--agent-only` builds just the agent (what `npm start` needs).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const agentOnly = process.argv.includes('--agent-only');

const common = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
  define: { INFERSCOPE_VERSION: JSON.stringify(pkg.version) },
};

const jobs = [
  build({
    ...common,
    entryPoints: { main: 'agent/src/main.ts', inferenceWorker: 'agent/src/inference/inferenceWorker.ts', deviceWorker: 'agent/src/inference/deviceWorker.ts', parserWorker: 'agent/src/protocol/parserWorker.ts', exportWorker: 'agent/src/tracing/exportWorker.ts' },
    outdir: 'dist/agent',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['onnxruntime-node'],
  }),
];
if (!agentOnly) {
  jobs.push(
    build({
      ...common,
      entryPoints: { extension: 'extension/src/extension.ts' },
      outdir: 'dist/extension',
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['vscode'],
    }),
    build({
      ...common,
      entryPoints: { index: 'test/extension/index.ts', screenshots: 'test/extension/screenshotScenario.ts' },
      outdir: 'dist/test/extension',
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['vscode', 'mocha'],
    }),
    build({
      ...common,
      entryPoints: { main: 'webview/src/main.ts', waterfall: 'webview/src/waterfall.ts' },
      outdir: 'dist/webview',
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
    }),
  );
}
await Promise.all(jobs);
if (!agentOnly) {
  // The webview's stylesheet is served as a file (the CSP allows no inline styles).
  mkdirSync(join(root, 'dist', 'webview'), { recursive: true });
  for (const css of ['panel.css', 'waterfall.css']) copyFileSync(join(root, 'webview', 'media', css), join(root, 'dist', 'webview', css));
}
// The gRPC service definition is read at run time (proto-loader), next to the agent's bundle.
mkdirSync(join(root, 'dist', 'agent', 'proto'), { recursive: true });
for (const file of readdirSync(join(root, 'agent', 'proto'))) {
  if (file.endsWith('.proto')) copyFileSync(join(root, 'agent', 'proto', file), join(root, 'dist', 'agent', 'proto', file));
}
