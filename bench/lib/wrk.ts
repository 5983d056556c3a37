// wrk (Debian's package) as the load generator of the HTTP benches: a separate process, so the
// server's event loop never carries the load's own work. Also the agent as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  /** Non-2xx answers and socket errors (connect, read, write, timeout). */
  errors: number;
}

export function requireWrk(bench: string): void {
  if (spawnSync('wrk', ['--version']).error) {
    console.error(`${bench} needs wrk (Debian: apt-get install wrk)`);
    process.exit(1);
  }
}

/** A wrk Lua script (written into `dir`) that POSTs `body` with `headers`. */
export function wrkScript(dir: string, name: string, body: Buffer, headers: Record<string, string>): string {
  const bodyFile = join(dir, `${name}.body`);
  writeFileSync(bodyFile, body);
  const script = join(dir, `${name}.lua`);
  writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `local f = io.open(${JSON.stringify(bodyFile)}, "rb"); wrk.body = f:read("*a"); f:close()`,
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
    ].join('\n'),
  );
  return script;
}

const toMs = (v: string) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
};

export function wrk(url: string, script: string, seconds: number, connections: number): WrkResult {
  const out = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const text = out.stdout;
  const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(text)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN), p50ms: pct('50'), p99ms: pct('99'), errors: non2xx + socketErrors };
}

/** Starts `node args…` (or `prefix… node args…`) and resolves with the ports of its first stdout line. */
export async function startChild(args: string[], opts: { prefix?: string[] } = {}): Promise<{ proc: ChildProcess; port: number; grpcPort?: number }> {
  const [cmd, ...rest] = [...(opts.prefix ?? []), process.execPath, ...args];
  const proc = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, INFERSCOPE_TOKEN: '' } });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  for await (const chunk of proc.stdout!) {
    out += chunk as string;
    if (out.includes('\n')) break;
  }
  const line = JSON.parse(out.split('\n')[0]!) as { port: number; grpc_port?: number };
  return { proc, port: line.port, ...(line.grpc_port !== undefined ? { grpcPort: line.grpc_port } : {}) };
}

export async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await once(proc, 'exit');
}

/** Polls `url` every 50 ms until it answers 200; `timeoutMs` (default 20 s) for slow warm-ups. */
export async function waitReady(url: string, timeoutMs = 20_000): Promise<void> {
  for (let i = 0; i < timeoutMs / 50; i++) {
    if ((await fetch(url).then((r) => r.status).catch(() => 0)) === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

/** Resident memory of a process and its peak since start (or since resetPeak), in MiB. */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux: clear_refs 5). */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
