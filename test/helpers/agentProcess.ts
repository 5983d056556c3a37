// Starts the real agent (the built bundle, as users run it) on a free port and talks to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ListeningEvent } from '../../common/api.js';
import { waitFor } from './processes.js';

export { waitFor };

export const ROOT = resolve(__dirname, '..', '..');
export const AGENT_MAIN = join(ROOT, 'dist', 'agent', 'main.js');
export const BUNDLED_MODELS = join(ROOT, 'models');

export interface AgentProcess {
  proc: ChildProcess;
  port: number;
  /** Undefined when the agent serves no gRPC. */
  grpcPort?: number;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /v2/health/ready (default true). */
  waitReady?: boolean;
  timeoutMs?: number;
}

/** Agents started by tests keep their state (canaries, promotions) here unless told otherwise. */
const TEST_STATE_HOME = mkdtempSync(join(tmpdir(), 'inferscope-state-'));

export async function startAgent(opts: StartOptions = {}): Promise<AgentProcess> {
  // gRPC on a free port unless the test names one: agents of one test file run side by side.
  const proc = spawn(process.execPath, [AGENT_MAIN, '--port', '0', '--grpc-port', '0', ...(opts.args ?? [])], {
    env: { ...process.env, INFERSCOPE_TOKEN: '', XDG_STATE_HOME: TEST_STATE_HOME, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const timeoutMs = opts.timeoutMs ?? 20_000;

  const listening = await new Promise<ListeningEvent>((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not print its listening line in ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
    const onData = () => {
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      try {
        resolveLine(JSON.parse(out.slice(0, nl)) as ListeningEvent);
      } catch (e) {
        reject(new Error(`first stdout line is not JSON: ${out.slice(0, nl)}`));
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with code ${code} before listening; stderr:\n${err}`));
    });
  });
  const agent: AgentProcess = {
    proc,
    port: listening.port,
    ...(listening.grpc_port !== undefined ? { grpcPort: listening.grpc_port } : {}),
    url: `http://127.0.0.1:${listening.port}`,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      if (!proc.killed) proc.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
  if (opts.waitReady ?? true) await waitFor(async () => (await fetch(`${agent.url}/v2/health/ready`)).status === 200, timeoutMs, () => err);
  return agent;
}


/** Runs the agent to completion (for flag errors) and returns its exit code and output. */
export async function runAgentToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const grpc = args.includes('--grpc-port') ? [] : ['--grpc-port', '0'];
  const proc = spawn(process.execPath, [AGENT_MAIN, ...grpc, ...args], { env: { ...process.env, INFERSCOPE_TOKEN: '', XDG_STATE_HOME: TEST_STATE_HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // An agent that does not exit (it should have) fails the test instead of hanging it.
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const [code, signal] = (await once(proc, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`agent ${args.join(' ')} did not exit within 20 s; stderr:\n${stderr}`);
  return { code, stdout, stderr };
}
