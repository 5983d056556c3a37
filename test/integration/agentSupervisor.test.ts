// The extension's agent supervisor under plain Node, against the real agent bundle: readiness,
// crash restarts (backoff timers driven by the test), the crash bound, deliberate stops, start
// failures with the agent's stderr, and the stdin lifeline that ends an orphaned agent.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { AgentSupervisor, type AgentState, type Timers } from '../../extension/src/agent/agentSupervisor.js';
import { agentCommandLine } from '../../extension/src/agent/agentCommandLine.js';
import { AgentStartError } from '../../extension/src/errors.js';
import { AGENT_MAIN, ROOT, waitFor } from '../helpers/agentProcess.js';
import { alive } from '../helpers/processes.js';

/** Timers the test fires by hand: no test sleeps through a backoff. */
class ManualTimers implements Timers {
  t = 0;
  pending: { fn: () => void; ms: number }[] = [];
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const entry = { fn, ms };
    this.pending.push(entry);
    return entry;
  };
  clearTimeout = (h: unknown) => {
    this.pending = this.pending.filter((p) => p !== h);
  };
  fireAll(): number[] {
    const due = this.pending;
    this.pending = [];
    for (const p of due) {
      this.t += p.ms;
      p.fn();
    }
    return due.map((p) => p.ms);
  }
}

const env = { ...process.env, XDG_STATE_HOME: `${ROOT}/.tmp/supervisor-state` };
const supervisors: AgentSupervisor[] = [];
after(async () => {
  for (const s of supervisors) await s.dispose();
});

function supervisor(timers: Timers, spec?: (token: string) => ReturnType<typeof agentCommandLine>): { sup: AgentSupervisor; states: AgentState[] } {
  const sup = new AgentSupervisor({
    spec: spec ?? ((token) => agentCommandLine(ROOT, { nodePath: process.execPath, modelRepository: '', port: 0, logLevel: 'warn', enableFaults: false }, token, env, process.execPath)),
    readyTimeoutMs: 20_000,
    graceMs: 3000,
    timers,
  });
  supervisors.push(sup);
  const states: AgentState[] = [];
  sup.onDidChangeState((s) => states.push(s));
  return { sup, states };
}

test('start waits for readiness; the fresh token guards the control API', async () => {
  const { sup, states } = supervisor(new ManualTimers());
  await sup.start();
  assert.deepEqual(states.map((s) => s.kind), ['starting', 'ready']);
  const ep = sup.endpoint()!;
  assert.equal((await fetch(`${ep.url}/v2/health/ready`)).status, 200);
  assert.equal((await fetch(`${ep.url}/api/v1/status`)).status, 401);
  const ok = await fetch(`${ep.url}/api/v1/status`, { headers: { authorization: `Bearer ${ep.token}` } });
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { agent: { pid: number } }).agent.pid, sup.pid);
  const pid = sup.pid!;
  await sup.stop();
  assert.equal(sup.state.kind, 'stopped');
  assert.equal(alive(pid), false, 'a stopped agent is gone');
});

test('a killed agent is restarted after the backoff; 5 crashes in 3 minutes stop the restarts', async () => {
  const timers = new ManualTimers();
  const { sup, states } = supervisor(timers);
  await sup.start();
  const first = sup.pid!;
  process.kill(first, 'SIGKILL');
  await waitFor(async () => sup.state.kind === 'crashed', 10_000);
  const crashed = sup.state as Extract<AgentState, { kind: 'crashed' }>;
  assert.match(crashed.message, /exited unexpectedly \(SIGKILL\)/);
  assert.equal(crashed.restartInMs, 500);
  assert.deepEqual(timers.fireAll(), [500]);
  await waitFor(async () => sup.state.kind === 'ready', 20_000);
  assert.notEqual(sup.pid, first);

  const delays: number[] = [];
  for (let i = 2; i <= 5; i++) {
    process.kill(sup.pid!, 'SIGKILL');
    await waitFor(async () => sup.state.kind === 'crashed' || sup.state.kind === 'failed', 10_000);
    if (sup.state.kind === 'failed') break;
    delays.push(...timers.fireAll());
    await waitFor(async () => sup.state.kind === 'ready', 20_000);
  }
  assert.deepEqual(delays, [1000, 2000, 4000], 'backoff doubles');
  assert.equal(sup.state.kind, 'failed');
  assert.match((sup.state as { message: string }).message, /crashed 5 times in 3 minutes; it will not be restarted/);
  assert.equal(timers.pending.length, 0, 'no restart scheduled after giving up');
  assert.equal(states.filter((s) => s.kind === 'crashed').length, 4);

  // A user's Start forgives the crashes.
  await sup.start();
  assert.equal(sup.state.kind, 'ready');
  await sup.stop();
});

test('a deliberate stop never restarts, even with a restart pending', async () => {
  const timers = new ManualTimers();
  const { sup } = supervisor(timers);
  await sup.start();
  process.kill(sup.pid!, 'SIGKILL');
  await waitFor(async () => sup.state.kind === 'crashed', 10_000);
  await sup.stop();
  assert.equal(timers.pending.length, 0);
  assert.equal(sup.state.kind, 'stopped');
});

test('a Start while a stop is still draining waits for it, then really starts', async () => {
  const { sup } = supervisor(new ManualTimers());
  await sup.start();
  const old = sup.pid!;
  const stopping = sup.stop();
  const starting = sup.start();
  await Promise.all([stopping, starting]);
  assert.equal(sup.state.kind, 'ready');
  assert.notEqual(sup.pid, old);
  assert.equal(alive(old), false);
  await sup.stop();
});

test('a start that fails says why, with the tail of the agent\'s stderr', async () => {
  const { sup } = supervisor(new ManualTimers(), (token) => ({ ...agentCommandLine(ROOT, { nodePath: process.execPath, modelRepository: '/no/such/repository', port: 0, logLevel: 'info', enableFaults: false }, token, env, process.execPath) }));
  await assert.rejects(sup.start(), (err: Error) => {
    assert.ok(err instanceof AgentStartError);
    assert.match(err.message, /exited \(code 2\) before it was ready/);
    assert.match(err.message, /agent stderr[\s\S]*\/no\/such\/repository/);
    return true;
  });
  assert.equal(sup.state.kind, 'failed');
});

test('readiness has a deadline and cancellation; the half-started process is killed', async () => {
  const hang = (token: string) => ({ command: process.execPath, args: ['-e', "console.error('warming up forever'); setInterval(() => {}, 1000)"], env, token });
  const slow = new AgentSupervisor({ spec: hang, readyTimeoutMs: 400, timers: new ManualTimers() });
  supervisors.push(slow);
  await assert.rejects(slow.start(), /not ready within 0\.4 s[\s\S]*warming up forever/);
  const cancelled = new AgentSupervisor({ spec: hang, readyTimeoutMs: 20_000, timers: new ManualTimers() });
  supervisors.push(cancelled);
  const abort = new AbortController();
  const starting = cancelled.start(abort.signal);
  setTimeout(() => abort.abort(), 100);
  await assert.rejects(starting, (err: Error) => err instanceof AgentStartError && err.cancelled);
  assert.equal(cancelled.state.kind, 'stopped');
});

test('--exit-on-stdin-close: an agent whose supervisor vanished drains and exits', async () => {
  const proc = spawn(process.execPath, [AGENT_MAIN, '--port', '0', '--grpc-port', '0', '--exit-on-stdin-close'], { env: { ...env, INFERSCOPE_TOKEN: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await waitFor(async () => out.includes('"listening"'), 20_000);
  proc.stdin.end(); // what the kernel does when the supervisor dies, however it dies
  const [code] = (await once(proc, 'exit')) as [number | null];
  assert.equal(code, 0);
});
