// The extension's live client against the real agent: the SSE stream delivers snapshots and
// discrete events, survives the agent going away (retrying with backoff) and reopens when an agent
// answers on the same address again.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { test } from 'node:test';
import type { AgentEvent, AgentStatus } from '../../common/api.js';
import { AgentClient } from '../../extension/src/client/agentClient.js';
import { EventStream, reconnectDelayMs, type StreamState } from '../../extension/src/live/eventStream.js';
import { startAgent, waitFor } from '../helpers/agentProcess.js';
import { freePort } from '../helpers/processes.js';

test('snapshots and events arrive; a lost agent is retried with backoff until one answers again', async () => {
  const port = await freePort();
  const token = 'stream-test-token-0123456789';
  let agent = await startAgent({ args: ['--port', String(port)], env: { INFERSCOPE_TOKEN: token } });
  const snapshots: AgentStatus[] = [];
  const events: AgentEvent[] = [];
  const states: { state: StreamState; detail?: string }[] = [];
  const client = new AgentClient(() => ({ url: `http://127.0.0.1:${port}`, token }));
  const stream = new EventStream(client, {
    onSnapshot: (s) => snapshots.push(s),
    onEvent: (e) => events.push(e),
    onState: (state, detail) => states.push({ state, ...(detail !== undefined ? { detail } : {}) }),
  });
  try {
    stream.start();
    await waitFor(async () => snapshots.length >= 1, 10_000);
    assert.equal(snapshots[0]!.agent.pid, agent.proc.pid);
    await client.breaker('digits', '1', 'open');
    await waitFor(async () => events.some((e) => e.type === 'breaker' && e.to === 'open'), 10_000);
    const firstPid = agent.proc.pid;

    await agent.stop('SIGKILL');
    await waitFor(async () => states.some((s) => s.state === 'retrying'), 10_000);
    assert.match(states.find((s) => s.state === 'retrying')!.detail!, /reconnecting in \d/);
    agent = await startAgent({ args: ['--port', String(port)], env: { INFERSCOPE_TOKEN: token } });
    await waitFor(async () => snapshots.some((s) => s.agent.pid === agent.proc.pid), 20_000);
    assert.notEqual(agent.proc.pid, firstPid);
    assert.equal(states.filter((s) => s.state === 'open').length >= 2, true);

    stream.stop();
    assert.equal(states[states.length - 1]!.state, 'idle');
    const seen = snapshots.length;
    await new Promise((r) => setTimeout(r, 1500)); // over one snapshot period: nothing may arrive
    assert.equal(snapshots.length, seen, 'a stopped stream delivers nothing');
  } finally {
    stream.stop();
    await agent.stop();
  }
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(reconnectDelayMs), [500, 1000, 2000, 4000, 8000, 10_000]);
});

test('a stream that goes silent (a dead connection) is dropped and retried', async () => {
  let connections = 0;
  const silent = createHttpServer((_req, res) => {
    connections++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': hello\n\n'); // then nothing, as a connection a load balancer lost
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as { port: number };
  const states: { state: StreamState; detail?: string }[] = [];
  const stream = new EventStream(new AgentClient(() => ({ url: `http://127.0.0.1:${port}`, token: 't' })), {
    onSnapshot: () => undefined,
    onEvent: () => undefined,
    onState: (state, detail) => states.push({ state, ...(detail !== undefined ? { detail } : {}) }),
  }, 300);
  try {
    stream.start();
    await waitFor(async () => connections >= 2, 10_000);
    assert.match(states.find((s) => s.state === 'retrying')!.detail!, /^no data for 0\.3 s; reconnecting in 0\.5 s$/);
  } finally {
    stream.stop();
    silent.closeAllConnections();
    silent.close();
  }
});
