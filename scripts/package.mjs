// `npm run package [-- --target <platform-arch>] [--list] [--no-build]`: builds the bundles and a platform-specific .vsix
// (default: this machine's platform). onnxruntime-node ships native binaries for every platform
// (about 290 MB together); each package carries only its target's, so it stays small.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const i = process.argv.indexOf('--target');
const target = i > 0 ? process.argv[i + 1] : `${process.platform}-${process.arch}`;
const [platform, arch] = target.split('-');
const napi = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
const available = readdirSync(napi).flatMap((p) => readdirSync(join(napi, p)).map((a) => `${p}-${a}`));
if (!available.includes(target)) {
  console.error(`no onnxruntime-node binary for ${target}; available: ${available.join(', ')}`);
  process.exit(2);
}

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!process.argv.includes('--no-build')) run(process.execPath, ['scripts/build.mjs']);

// The allowlist, with onnxruntime-node narrowed to its JavaScript and this target's binaries
// (vsce lets a `!` pattern win over any later exclusion, so the line itself is replaced).
// Only what `require` loads: the CommonJS builds and the binding.
const narrowed = {
  '!node_modules/onnxruntime-node/**': ['package.json', 'LICENSE', 'dist/*.js', `bin/napi-v6/${platform}/${arch}/**`].map((p) => `!node_modules/onnxruntime-node/${p}`),
  '!node_modules/onnxruntime-common/**': ['package.json', 'LICENSE', 'dist/cjs/**/*.js', 'dist/cjs/package.json'].map((p) => `!node_modules/onnxruntime-common/${p}`),
};
let allowlist = readFileSync(join(root, '.vscodeignore'), 'utf8');
for (const [line, lines] of Object.entries(narrowed)) {
  if (!allowlist.includes(line)) throw new Error(`.vscodeignore no longer has "${line}": update scripts/package.mjs`);
  allowlist = allowlist.replace(line, lines.join('\n'));
}
const ignoreFile = join(root, 'dist', '.vscodeignore.package');
writeFileSync(ignoreFile, allowlist);
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
if (process.argv.includes('--list')) {
  // What the package would hold, one path per line (the packaging test reads it).
  run(process.execPath, [vsce, 'ls', '--dependencies', '--ignoreFile', ignoreFile]);
  process.exit(0);
}
mkdirSync(join(root, 'dist', 'package'), { recursive: true });
const out = join('dist', 'package', `${pkg.name}-${target}-${pkg.version}.vsix`);
run(process.execPath, [
  vsce,
  'package',
  '--target', `${platform}-${arch}`,
  '--no-rewrite-relative-links',
  '--ignoreFile', ignoreFile,
  '--out', out,
]);
console.log(`packaged ${out}`);
