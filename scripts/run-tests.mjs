// Runs the test files (*.test.ts) under the given folders (default: test/) with node's test
// runner, TypeScript loaded by tsx. Usage: node scripts/run-tests.mjs [folder-or-file ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isFile()) return void (path.endsWith('.test.ts') && out.push(path));
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules') continue;
    collect(join(path, name), out);
  }
}

const roots = process.argv.slice(2);
const files = [];
for (const root of roots.length ? roots : ['test']) collect(root, files);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
