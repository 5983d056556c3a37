// npm run bench:http — end to end over HTTP: autocannon, 64 connections, the v2 infer route of
// the real agent (digits/2, a real digit), against an express route that parses the same JSON
// body and returns a fixed answer (the HTTP + JSON limit of this machine). Prints the ratio.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '64' } } });
const root = resolve(__dirname, '..');
const body = readFileSync(join(root, 'models', 'digits', 'examples', 'digit-7.json'), 'utf8');

async function startChild(args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, INFERSCOPE_TOKEN: '' } });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  for await (const chunk of proc.stdout!) {
    out += chunk as string;
    if (out.includes('\n')) break;
  }
  return { proc, port: (JSON.parse(out.split('\n')[0]!) as { port: number }).port };
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await fetch(url).then((r) => r.status).catch(() => 0)) === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

async function load(url: string): Promise<autocannon.Result> {
  const run = (seconds: number) =>
    autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections: Number(values.connections),
      duration: seconds,
    });
  await run(2); // warm-up
  return run(Number(values.seconds));
}

async function main(): Promise<void> {
  console.log(`autocannon, ${values.connections} connections, ${values.seconds} s, body ${body.length} bytes (one MNIST digit); ` +
    `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
  const limit = await startChild(['--import', 'tsx', join(root, 'bench', 'lib', 'jsonLimitServer.ts')]);
  const baseline = await load(`http://127.0.0.1:${limit.port}/v2/models/digits/versions/2/infer`);
  limit.proc.kill('SIGTERM');
  await once(limit.proc, 'exit');

  const agent = await startChild([join(root, 'dist', 'agent', 'main.js'), '--port', '0', '--log-level', 'warn']);
  await waitReady(`http://127.0.0.1:${agent.port}/v2/health/ready`);
  const real = await load(`http://127.0.0.1:${agent.port}/v2/models/digits/versions/2/infer`);
  agent.proc.kill('SIGTERM');
  await once(agent.proc, 'exit');

  const row = (name: string, r: autocannon.Result) =>
    `${name.padEnd(34)}${r.requests.average.toFixed(0).padStart(9)}${String(r.latency.p50).padStart(8)}${String(r.latency.p99).padStart(8)}${String(r.non2xx + r.errors).padStart(8)}`;
  console.log(`\n${'target'.padEnd(34)}    req/s  p50 ms  p99 ms  errors`);
  console.log(row('express JSON limit (fixed answer)', baseline));
  console.log(row('inferscope agent (digits/2)', real));
  console.log(`\nagent / limit: ${(real.requests.average / baseline.requests.average).toFixed(2)} of the HTTP + JSON limit`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
