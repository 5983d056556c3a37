// What the .vsix holds (`vsce ls` with the package script's allowlist): the bundles, the demo
// models and this platform's ONNX Runtime binary; no sources, tests, benches, maps or other
// platforms' binaries.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/agentProcess.js';

test('the package is an allowlist: bundles, models and one platform\'s runtime', () => {
  const r = spawnSync(process.execPath, ['scripts/package.mjs', '--list', '--no-build'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const f of ['package.json', 'README.md', 'dist/extension/extension.js', 'dist/agent/main.js', 'dist/agent/inferenceWorker.js', 'dist/agent/parserWorker.js', 'dist/agent/proto/inference.proto', 'dist/agent/proto/triton_extensions.proto', 'dist/webview/main.js', 'dist/webview/panel.css', 'models/digits/config.json', 'models/digits/1/model.onnx', 'models/digits/2/model.onnx', 'models/digits/3/model.onnx', 'resources/inferscope.svg', 'node_modules/onnxruntime-common/dist/cjs/package.json']) {
    assert.ok(files.includes(f), `${f} is packaged`);
  }
  const binding = `node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`;
  assert.ok(files.includes(binding), `${binding} is packaged`);
  const offending = files.filter((f) => /\.(ts|map)$|^(test|bench|scripts|agent|extension|webview|common|\.ci)\//.test(f) || (f.includes('/bin/napi-v6/') && !f.includes(`/napi-v6/${process.platform}/${process.arch}/`)));
  assert.deepEqual(offending, []);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string };
  assert.ok(files.includes(pkg.main.replace(/^\.\//, '')), 'the manifest\'s main is packaged');
});
