// Launches one agent process and waits until it serves: the JSON `listening` line on stdout, then
// the end of its start-up load (the status route). Knows nothing of restarts (the supervisor's
// job) or of VS Code.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ListeningEvent } from '../../../common/api.js';
import { probeAgent } from './remoteProbe.js';
import { AgentStartError } from '../errors.js';
import { listeningAddresses } from './agentAddress.js';

export interface LaunchSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Sent as the bearer token on the readiness check. */
  token: string;
}

export interface LaunchOptions {
  readyTimeoutMs: number;
  signal?: AbortSignal;
  /** Every line the agent writes, as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningAgent {
  pid: number;
  url: string;
  /** `127.0.0.1:40123`, from the listening line's `grpc_port`; undefined when the agent serves no gRPC. */
  grpcAddress?: string;
  exited: Promise<Exit>;
  hasExited(): boolean;
  /** SIGTERM (the agent drains), then SIGKILL to the whole process group after `graceMs`. */
  stop(graceMs: number): Promise<Exit>;
  /** The last lines of stderr, for error messages. */
  stderrTail(): string;
}

const TAIL_LINES = 30;

export async function launchAgent(spec: LaunchSpec, opts: LaunchOptions): Promise<RunningAgent> {
  // Own process group, so the whole tree (nvidia-smi children included) can be killed at once;
  // stdin stays a pipe: the agent runs with --exit-on-stdin-close, so it ends with us however we end.
  const proc = spawn(spec.command, spec.args, {
    env: spec.env,
    cwd: spec.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
  proc.stdin!.on('error', () => undefined); // EPIPE once the agent is gone; its exit says more
  const tail: string[] = [];
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    // 'close' comes once stdout/stderr are drained, so the last stderr lines (the reason) are in
    // the tail; a grandchild holding the pipes open must not delay the answer past a moment.
    proc.once('exit', (code, signal) => {
      const done = () => {
        exit ??= { code, signal };
        resolve(exit);
      };
      proc.once('close', done);
      setTimeout(done, 250).unref();
    });
    proc.once('error', (err) => {
      tail.push(err.message);
      exit = { code: null, signal: null };
      resolve(exit);
    });
  });
  const listening = readLines(proc, tail, opts.onLine);

  const running: RunningAgent = {
    pid: proc.pid ?? -1,
    url: '',
    exited,
    hasExited: () => exit !== undefined,
    stderrTail: () => tail.join('\n'),
    stop: (graceMs) => stopProcess(proc, exited, () => exit !== undefined, graceMs),
  };

  const describe = (why: string) => {
    const stderr = running.stderrTail();
    return `${why}${stderr ? `\n--- agent stderr (last lines) ---\n${stderr}` : ''}`;
  };
  const deadline = Date.now() + opts.readyTimeoutMs;
  try {
    const line = await race(listening, exited, opts, deadline, describe);
    const addresses = listeningAddresses(line);
    running.url = addresses.url;
    if (addresses.grpcAddress) running.grpcAddress = addresses.grpcAddress;
    for (;;) {
      const ready = await race(checkReady(running.url, spec.token), exited, opts, deadline, describe);
      if (ready) return running;
      await race(delay(100), exited, opts, deadline, describe);
    }
  } catch (err) {
    await running.stop(2000);
    throw err;
  }
}

/** Resolves with `work`, or rejects on exit, cancellation or the deadline. */
async function race<T>(work: Promise<T>, exited: Promise<Exit>, opts: LaunchOptions, deadline: number, describe: (why: string) => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      exited.then((e) => {
        throw new AgentStartError(describe(`the agent exited (${e.signal ?? `code ${e.code}`}) before it was ready`));
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AgentStartError(describe(`the agent was not ready within ${opts.readyTimeoutMs / 1000} s`))), Math.max(0, deadline - Date.now()));
      }),
      new Promise<never>((_, reject) => {
        if (!opts.signal) return;
        onAbort = () => reject(new AgentStartError('starting the agent was cancelled', true));
        if (opts.signal.aborted) onAbort();
        else opts.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
}

function readLines(proc: ChildProcess, tail: string[], onLine: LaunchOptions['onLine']): Promise<ListeningEvent> {
  return new Promise((resolve) => {
    let found = false;
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      proc[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          onLine?.(line, stream);
          if (stream === 'stderr') {
            tail.push(line);
            if (tail.length > TAIL_LINES) tail.shift();
          } else if (!found) {
            const event = parseListening(line);
            if (event) {
              found = true;
              resolve(event);
            }
          }
        }
      });
    }
  });
}

export function parseListening(line: string): ListeningEvent | undefined {
  try {
    const v = JSON.parse(line) as Partial<ListeningEvent>;
    if (!v || v.event !== 'listening' || typeof v.port !== 'number' || typeof v.host !== 'string') return undefined;
    // A gRPC port that is not a port is as good as none: the HTTP side still works.
    const event = { ...v } as ListeningEvent;
    if (event.grpc_port !== undefined && !(Number.isInteger(event.grpc_port) && event.grpc_port > 0 && event.grpc_port <= 65535)) delete event.grpc_port;
    return event;
  } catch {
    // a log line, not the listening line
  }
  return undefined;
}

/**
 * Ready to use once the start-up load is over (`agent.loaded`): every model loaded, or some failed
 * and the others serve (degraded; the views show the failed ones with their reasons), instead of
 * waiting out the start timeout for a strict readiness (/v2/health/ready) that a typo in one
 * config.json will never give.
 */
function checkReady(url: string, token: string): Promise<boolean> {
  return probeAgent(url, token, AbortSignal.timeout(2000)).then(
    (agent) => agent.loaded,
    () => false,
  );
}

async function stopProcess(proc: ChildProcess, exited: Promise<Exit>, hasExited: () => boolean, graceMs: number): Promise<Exit> {
  if (hasExited()) return exited;
  signalTree(proc, 'SIGTERM');
  const timer = setTimeout(() => signalTree(proc, 'SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
    // Children the agent started (nvidia-smi) may outlive it by a moment: end the group.
    signalTree(proc, 'SIGKILL');
  }
}

function signalTree(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    if (process.platform === 'win32') proc.kill(signal);
    else process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
