// The extension's pure parts, under plain Node: the SSE parser, the status bar's text for each
// state, the Models tree rows, the canary report, the load generator, the webview's HTML/CSP and
// the agent command line, the agent's addresses from its listening line and what Copy … answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentStatus, Canary, CanarySummary } from '../../common/api.js';
import { SseParser, type SseEvent } from '../../common/sseParser.js';
import { connectHost, copyAnswer, describeAddresses, GRPC_UNKNOWN_REMOTE, listeningAddresses } from '../../extension/src/agent/agentAddress.js';
import { agentCommandLine } from '../../extension/src/agent/agentCommandLine.js';
import { parseListening } from '../../extension/src/agent/agentLaunch.js';
import { CrashBudget, restartDelayMs } from '../../extension/src/agent/crashBudget.js';
import { canaryReport, checkLine } from '../../extension/src/canary/canaryReport.js';
import { RequestRate } from '../../extension/src/live/requestRate.js';
import { nearestRank } from '../../common/nearestRank.js';
import { formatSummary, runLoad } from '../../extension/src/traffic/loadGenerator.js';
import { randomBody } from '../../extension/src/traffic/testInputs.js';
import { modelRows, trafficWeights } from '../../extension/src/views/modelRows.js';
import { panelHtml } from '../../extension/src/views/panelHtml.js';
import { configProblems } from '../../extension/src/views/configProblems.js';
import { formatRate, statusBarView } from '../../extension/src/views/statusBarText.js';
import { forceOpenQuestion } from '../../extension/src/commands/forceOpenQuestion.js';
import { formatNumber } from '../../common/formatNumber.js';

test('SseParser handles chunks split anywhere, CRLF, comments, multi-line data and ids', () => {
  const text = ': keep-alive\r\nevent: snapshot\r\ndata: {"a":1}\r\n\r\nretry: 2000\n\nevent: breaker\ndata: line1\ndata: line2\nid: 7\n\ndata: plain\n\n';
  for (const size of [1, 2, 3, 7, text.length]) {
    const got: SseEvent[] = [];
    const p = new SseParser((e) => got.push(e));
    for (let i = 0; i < text.length; i += size) p.feed(text.slice(i, i + size));
    assert.deepEqual(got, [
      { event: 'snapshot', data: '{"a":1}' },
      { event: 'breaker', data: 'line1\nline2', id: '7' },
      { event: 'message', data: 'plain', id: '7' },
    ], `chunk size ${size}`);
  }
});

/** status() without its failed version 3: nothing to report. */
function healthy(): AgentStatus {
  const s = status('closed');
  s.models[0]!.versions = s.models[0]!.versions.filter((v) => v.state !== 'failed');
  return s;
}

function status(breaker: 'closed' | 'open', canaries: CanarySummary[] = []): AgentStatus {
  const b = { state: breaker, forced: breaker === 'open', consecutive_failures: 0, window: { calls: 4, failures: 1, slow: 0, failure_rate: 0.25, slow_rate: 0 }, trips: breaker === 'open' ? 1 : 0, opened_at: breaker === 'open' ? 1_700_000_000_000 : null, next_trial_at: null, last_reason: breaker === 'open' ? 'opened by hand' : null, totals: { successes: 10, failures: 2, slow: 0, rejected: 3 } };
  const batching = { max_batch_size: 64, queue_depth: 0, in_flight_batches: 0, recent_batch_sizes: [] };
  return {
    agent: { name: 'inferscope', version: '0.1.0', pid: 42, uptime_s: 5, address: 'http://127.0.0.1:8000', ready: true, loaded: true, draining: false, model_repository: '/m' },
    models: [{ name: 'digits', default_version: '1', versions: [
      { version: '1', state: 'ready', execution_provider: 'cpu', instances: 1, is_default: true, batching, breaker: b },
      { version: '2', state: 'ready', execution_provider: 'cuda', instances: 1, is_default: false, batching, breaker: { ...b, state: 'closed', forced: false, totals: { ...b.totals } } },
      { version: '3', state: 'failed', reason: 'bad onnx', instances: 0, is_default: false, batching },
    ] }],
    canaries,
    gpus: { detected: false, message: 'no GPU detected', devices: [], sampled_at: null, errors: 0, last_error: null },
    caches: {},
  };
}

test('the status bar says each state, with colours for degraded and down', () => {
  assert.equal(statusBarView({ kind: 'stopped' }, undefined, undefined, undefined).text, '$(circle-slash) Inferscope: stopped');
  assert.match(statusBarView({ kind: 'starting', attempt: 1 }, undefined, undefined, undefined).text, /loading~spin.*starting/);
  assert.match(statusBarView({ kind: 'starting', attempt: 1 }, 'http://h:1', undefined, undefined).text, /connecting/);
  const ready = statusBarView({ kind: 'ready', url: 'http://127.0.0.1:1', pid: 9 }, undefined, healthy(), 12.345);
  assert.equal(ready.text, '$(pulse) Inferscope: ready · 12.3 req/s');
  assert.equal(ready.severity, 'normal');
  const degraded = statusBarView({ kind: 'ready', url: 'u', pid: 9 }, undefined, status('open'), undefined);
  assert.equal(degraded.severity, 'warning');
  assert.match(degraded.summary, /Circuit breaker open: digits\/1/);
  // A model that failed to load: the agent serves the others, degraded, and says which and why.
  const withFailure = healthy();
  withFailure.models.push({ name: 'typo', error: "config.json: unknown field 'max_batch_sise'\nmore", versions: [] });
  withFailure.models[0]!.versions.push({ ...withFailure.models[0]!.versions[0]!, version: '3', state: 'failed', reason: 'model.onnx is not an ONNX model' });
  const failed = statusBarView({ kind: 'ready', url: 'u', pid: 9 }, undefined, withFailure, undefined);
  assert.equal(failed.text, '$(warning) Inferscope: degraded');
  assert.equal(failed.severity, 'warning');
  assert.equal(failed.summary, "Not serving: digits/3 (model.onnx is not an ONNX model); typo (config.json: unknown field 'max_batch_sise').");
  const crashed = statusBarView({ kind: 'crashed', message: 'exited (SIGKILL)\nstderr…', restartInMs: 1000 }, undefined, undefined, undefined);
  assert.equal(crashed.severity, 'error');
  assert.equal(crashed.summary, 'exited (SIGKILL) Restarting in 1.0 s.');
  assert.equal(statusBarView({ kind: 'failed', message: 'gave up' }, undefined, undefined, undefined).text, '$(error) Inferscope: down');
});

test('the status bar says when the agent is remote, and writes its rate as the panel does', () => {
  const ready = { kind: 'ready', url: 'https://gpu-box:8000', pid: 0 } as const;
  assert.equal(statusBarView(ready, 'https://gpu-box:8000', healthy(), 0.5).text, '$(pulse) Inferscope: ready (remote) · 0.50 req/s');
  assert.equal(statusBarView(ready, 'https://gpu-box:8000', status('open'), 1500).text, '$(warning) Inferscope: degraded (remote) · 1.5k req/s');
  assert.equal(statusBarView({ kind: 'stopped' }, 'https://gpu-box:8000', undefined, undefined).text, '$(circle-slash) Inferscope: stopped (remote)');
  assert.equal(statusBarView({ kind: 'failed', message: 'refused' }, 'https://gpu-box:8000', undefined, undefined).text, '$(error) Inferscope: down (remote)');
  // The panel's Traffic section formats with the same function: no "0.00" beside a "0".
  for (const v of [0, 0.5, 3.456, 12.345, 150, 1500, 25_000]) assert.equal(formatRate(v), formatNumber(v));
  assert.equal(formatRate(0), '0');
});

test('the ready tooltip shows the gRPC address beside the HTTP URL; a remote agent\'s gRPC address is unknown', () => {
  const local = statusBarView({ kind: 'ready', url: 'http://127.0.0.1:8000', grpcAddress: '127.0.0.1:40123', pid: 9 }, undefined, healthy(), undefined);
  assert.equal(local.summary, 'Serving at http://127.0.0.1:8000 and gRPC at 127.0.0.1:40123 (pid 9).');
  const noGrpc = statusBarView({ kind: 'ready', url: 'http://127.0.0.1:8000', pid: 9 }, undefined, healthy(), undefined);
  assert.equal(noGrpc.summary, 'Serving at http://127.0.0.1:8000, no gRPC (pid 9).');
  const remote = statusBarView({ kind: 'ready', url: 'https://agents.example:443', pid: 9 }, 'https://agents.example:443', healthy(), undefined);
  assert.equal(remote.summary, `Serving at https://agents.example:443 (remote; ${GRPC_UNKNOWN_REMOTE}).`);
});

test('the listening line gives the HTTP URL and the gRPC address, reachable from this machine', () => {
  assert.equal(connectHost('127.0.0.1'), '127.0.0.1');
  assert.equal(connectHost('0.0.0.0'), '127.0.0.1');
  assert.equal(connectHost('::'), '[::1]');
  assert.equal(connectHost('::1'), '[::1]');
  assert.equal(connectHost('fe80::2'), '[fe80::2]');
  assert.equal(connectHost('localhost'), 'localhost');

  const line = parseListening('{"event":"listening","host":"127.0.0.1","port":8000,"grpc_port":8001,"pid":1234}');
  assert.deepEqual(line, { event: 'listening', host: '127.0.0.1', port: 8000, grpc_port: 8001, pid: 1234 });
  assert.deepEqual(listeningAddresses(line!), { url: 'http://127.0.0.1:8000', grpcAddress: '127.0.0.1:8001' });
  assert.deepEqual(listeningAddresses({ event: 'listening', host: '0.0.0.0', port: 8000, grpc_port: 8001, pid: 1 }), { url: 'http://127.0.0.1:8000', grpcAddress: '127.0.0.1:8001' });
  assert.deepEqual(listeningAddresses({ event: 'listening', host: '::1', port: 8000, grpc_port: 8001, pid: 1 }), { url: 'http://[::1]:8000', grpcAddress: '[::1]:8001' });
  // gRPC off: no grpc_port, no address.
  const off = parseListening('{"event":"listening","host":"127.0.0.1","port":8000,"pid":1234}');
  assert.deepEqual(listeningAddresses(off!), { url: 'http://127.0.0.1:8000' });
  // A grpc_port that is no port is dropped; the HTTP side still counts.
  for (const bad of ['"8001"', '0', '-1', '70000', '1.5', 'null']) {
    const parsed = parseListening(`{"event":"listening","host":"127.0.0.1","port":8000,"grpc_port":${bad},"pid":1}`);
    assert.ok(parsed && !('grpc_port' in parsed), bad);
    assert.deepEqual(listeningAddresses(parsed), { url: 'http://127.0.0.1:8000' });
  }
  assert.equal(parseListening('{"level":"info","msg":"listening"}'), undefined);
  assert.equal(parseListening('not json'), undefined);
  assert.equal(parseListening('null'), undefined);

  assert.equal(describeAddresses({ url: 'http://127.0.0.1:8000', grpcAddress: '127.0.0.1:8001' }), 'http://127.0.0.1:8000, gRPC 127.0.0.1:8001');
  assert.equal(describeAddresses({ url: 'http://127.0.0.1:8000' }), 'http://127.0.0.1:8000, no gRPC');
});

test('Copy Agent URL / Copy gRPC Address: what is copied, and what is said when there is nothing to copy', () => {
  const ready = { kind: 'ready', url: 'http://127.0.0.1:8000', grpcAddress: '127.0.0.1:40123', pid: 9 } as const;
  assert.deepEqual(copyAnswer('grpc', ready, false), { kind: 'copy', text: '127.0.0.1:40123', message: 'Inferscope: copied the gRPC address 127.0.0.1:40123' });
  assert.deepEqual(copyAnswer('url', ready, false), { kind: 'copy', text: 'http://127.0.0.1:8000', message: 'Inferscope: copied the agent URL http://127.0.0.1:8000' });

  const remote = { kind: 'ready', url: 'https://agents.example', pid: 9 } as const;
  assert.equal(copyAnswer('url', remote, true).kind, 'copy');
  const unknown = copyAnswer('grpc', remote, true);
  assert.equal(unknown.kind, 'none');
  assert.match(unknown.message, /gRPC address unknown for a remote agent/);
  assert.ok(unknown.kind === 'none' && !unknown.offerStart);
  const off = copyAnswer('grpc', { kind: 'ready', url: 'http://127.0.0.1:8000', pid: 9 }, false);
  assert.ok(off.kind === 'none' && /serves no gRPC/.test(off.message) && !off.offerStart);

  for (const target of ['url', 'grpc'] as const) {
    const stopped = copyAnswer(target, { kind: 'stopped' }, false);
    assert.ok(stopped.kind === 'none' && stopped.offerStart && /the agent is not running/.test(stopped.message), JSON.stringify(stopped));
    const failed = copyAnswer(target, { kind: 'failed', message: 'gave up' }, true);
    assert.ok(failed.kind === 'none' && failed.offerStart && /not connected to the remote agent/.test(failed.message), JSON.stringify(failed));
    const crashed = copyAnswer(target, { kind: 'crashed', message: 'x', restartInMs: 1000 }, false);
    assert.ok(crashed.kind === 'none' && crashed.offerStart);
    const starting = copyAnswer(target, { kind: 'starting', attempt: 1 }, false);
    assert.ok(starting.kind === 'none' && !starting.offerStart && /still starting/.test(starting.message), JSON.stringify(starting));
  }
});

test('RequestRate counts served requests per second and forgets a restarted agent', () => {
  const r = new RequestRate(5);
  const s = status('closed');
  r.add(s, 5000);
  assert.equal(r.perSecond(), undefined);
  const later = structuredClone(s);
  later.agent.uptime_s = 7;
  for (const v of later.models[0]!.versions) if (v.breaker) v.breaker.totals.successes += 20;
  r.add(later, 7000);
  assert.equal(r.perSecond(), 40 / 2);
  // Per model, summing to the total (what the panel charts per model; the status bar shows the total).
  const rates = r.rates()!;
  assert.deepEqual(Object.keys(rates.models), later.models.map((m) => m.name));
  assert.equal(Object.values(rates.models).reduce((a, b) => a + b, 0), rates.total);
  const restarted = structuredClone(s);
  restarted.agent.pid = 43;
  r.add(restarted, 8000);
  assert.equal(r.perSecond(), undefined);
});

test('Models rows: state, breaker icon and menu context, traffic weight (canary split), provider', () => {
  const [m] = modelRows(status('open'));
  assert.equal(m!.description, '2/3 ready');
  const [v1, v2, v3] = m!.versions;
  assert.equal(v1!.contextValue, 'version:breaker-open');
  assert.deepEqual(v1!.icon, { id: 'circle-filled', color: 'testing.iconFailed' });
  assert.equal(v1!.description, 'ready · breaker open · 100% · cpu');
  assert.match(v1!.tooltip, /Breaker: open \(forced\), tripped 1 time/);
  assert.equal(v2!.description, 'ready · 0% · cuda');
  assert.match(v2!.tooltip, /Execution provider: cuda \(on its device thread; up to 1 batch\(es\) waiting on the device\)/);
  assert.equal(v3!.icon.id, 'error');
  // A version that fell back from its GPU provider says so, and why.
  const fellBack = status('closed');
  Object.assign(fellBack.models[0]!.versions[0]!, { provider_fallbacks: ['webgpu: Failed to get a WebGPU adapter: No supported adapters'] });
  const [fb] = modelRows(fellBack)[0]!.versions;
  assert.equal(fb!.description, 'ready · 100% · cpu (fallback)');
  assert.match(fb!.tooltip, /Execution provider: cpu, 1 instance\(s\)\nNot on webgpu: Failed to get a WebGPU adapter: No supported adapters/);
  assert.equal(v3!.contextValue, 'version:breaker-none');
  const canary = { model: 'digits', baseline: '1', candidate: '2', state: 'running', weight: 25 } as CanarySummary;
  const weights = trafficWeights(status('closed').models[0]!, [canary]);
  assert.deepEqual([...weights], [['1', 75], ['2', 25], ['3', 0]]);
  assert.match(modelRows(status('closed', [canary]))[0]!.description, /canary 1→2 at 25%/);
});

const canary: Canary = {
  id: 'c-1', model: 'digits', baseline: '1', candidate: '2', state: 'rolled_back', weight: 0, steps: [10, 50], step: 0, interval_s: 1, checks_per_step: 2,
  thresholds: { alpha: 0.05, max_error_rate: 0.05, min_error_ratio: 1.25, max_p99_ms: 1000, max_p99_ratio: 1.5, latency_effect_margin: 0.06, confidence_effect_margin: 0.06, min_cramers_v: 0.1, min_samples: 30, max_inconclusive_checks: 3, critical: ['error_rate', 'latency'] },
  alpha_per_test: 0.00125, source: { kind: 'in_process' }, started_at: '2026-01-01T00:00:00Z', ended_at: '2026-01-01T00:00:02Z',
  checks: [{ at: '2026-01-01T00:00:01Z', step: 0, weight: 10, samples: { baseline: 90, candidate: 10 }, decision: 'rollback', metrics: [
    { name: 'error_rate', baseline: 0, candidate: 0.3, statistic: 4.1, p_value: 0.00002, verdict: 'fail', reason: 'candidate errors 30% | vs 0%' },
    { name: 'latency', baseline: 1.5, candidate: 1.6, statistic: 0.2, p_value: 0.4, verdict: 'pass', reason: 'no slowdown' },
  ] }],
  decision: 'rollback', reason: 'error_rate failed',
};

test('the canary report shows the decision, the plan and every metric of every check', () => {
  const md = canaryReport(canary);
  assert.match(md, /^# Canary c-1: digits 1 → 2$/m);
  assert.match(md, /\*\*Decision:\*\* rolled back to version 1 \(error_rate failed\)/);
  assert.match(md, /\| error_rate \| 0 \| 0\.300 \| 4\.10 \| 2\.00e-5 \| ❌ fail \| candidate errors 30% \\\| vs 0% \|/);
  assert.match(md, /\| latency \| 1\.50 \| 1\.60 \| 0\.200 \| 0\.400 \| ✅ pass \| no slowdown \|/);
  assert.equal(checkLine(canary.checks[0]!), '10%: error_rate ✗, latency ✓ → rollback');
});

test('runLoad keeps at most `concurrency` requests in flight, counts errors by message, and cancels', async () => {
  let inFlight = 0;
  let most = 0;
  const summary = await runLoad({
    requests: 50,
    concurrency: 4,
    send: async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      if (i % 10 === 0) throw new Error('503 queue full');
    },
  });
  assert.equal(most, 4);
  assert.equal(summary.completed, 50);
  assert.equal(summary.failed, 5);
  assert.equal(summary.succeeded, 45);
  assert.deepEqual(summary.errors, [['503 queue full', 5]]);
  assert.match(formatSummary('digits', summary), /^Sent 50\/50 requests to digits: \d+ req\/s, p50 .* ms, p99 .* ms, 5 failed \(503 queue full\)\.$/);

  const abort = new AbortController();
  const cancelled = await runLoad({ requests: 1000, concurrency: 2, signal: abort.signal, send: async (i, signal) => {
    if (i === 10) abort.abort();
    await new Promise((r) => setImmediate(r));
    if (signal.aborted) throw new Error('aborted');
  } });
  assert.equal(cancelled.cancelled, true);
  assert.ok(cancelled.completed < 20);
  assert.deepEqual(cancelled.errors, [], 'requests cut by the cancel are not errors');
  assert.equal(nearestRank([1, 2, 3, 4], 0.5), 2);
  assert.equal(nearestRank([1, 2, 3, 4], 0.99), 4);
});

test('test traffic stopped by the agent going away says so, counts only what was sent, and rates only successes', async () => {
  // A fake clock: each request takes 10 ms while the agent runs; after it stops, failures come at once.
  let t = 0;
  const abort = new AbortController();
  const summary = await runLoad({
    requests: 100_000,
    concurrency: 1,
    now: () => t,
    signal: abort.signal,
    send: async (i) => {
      if (i < 20) {
        t += 10;
        return;
      }
      if (i === 25) abort.abort('the agent stopped');
      throw new Error('The Inferscope agent is not running.');
    },
  });
  assert.equal(summary.stoppedBecause, 'the agent stopped');
  assert.ok(summary.completed < 30, `${summary.completed} completed, not 100,000`);
  assert.equal(summary.succeeded, 20);
  assert.equal(summary.throughput, 100, '20 successes in 0.2 s; instant failures do not inflate it');
  const text = formatSummary('digits', summary);
  assert.match(text, /^Stopped \(the agent stopped\) after 2\d\/100000 requests to digits: 100 req\/s, p50 10\.0 ms, p99 10\.0 ms, \d failed \(The Inferscope agent is not running\)\.$/);
  assert.doesNotMatch(text, /\.\)/, 'no doubled full stop');
});

test('randomBody shapes inputs from metadata (variable dims as 1)', () => {
  const body = randomBody({ name: 'm', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }, { name: 'k', datatype: 'INT64', shape: [-1] }], outputs: [] }, () => 0.7);
  assert.deepEqual(body.inputs.map((i) => [i.name, i.shape, i.data]), [['x', [1, 3], [0.7, 0.7, 0.7]], ['k', [1], [1]]]);
});

test('the webview HTML: default-src none, scripts by nonce only, styles from the webview origin, nothing inline', () => {
  const html = panelHtml({ cspSource: 'https://file+.vscode-resource.vscode-cdn.net', scriptUri: 'https://x/main.js', styleUri: 'https://x/panel.css', nonce: 'abc123abc123abc123' });
  const csp = /content="([^"]+)"/.exec(html)![1]!;
  assert.equal(csp, "default-src 'none'; script-src 'nonce-abc123abc123abc123'; style-src https://file+.vscode-resource.vscode-cdn.net; font-src https://file+.vscode-resource.vscode-cdn.net; img-src https://file+.vscode-resource.vscode-cdn.net");
  assert.deepEqual([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]), [' nonce="abc123abc123abc123" src="https://x/main.js"']);
  assert.doesNotMatch(html, /style=|<style|onclick|unsafe/);
  const a = /nonce-([^']+)/.exec(panelHtml({ cspSource: 's', scriptUri: 'a', styleUri: 'b' }))![1];
  const b = /nonce-([^']+)/.exec(panelHtml({ cspSource: 's', scriptUri: 'a', styleUri: 'b' }))![1];
  assert.notEqual(a, b, 'a fresh nonce each time');
});

test('the agent command line: token only in the environment, VS Code runtime as Node unless a Node is set', () => {
  const base = { nodePath: '', modelRepository: '/repo', port: 0, logLevel: 'info' as const, enableFaults: true, configFile: '/s.json' };
  const spec = agentCommandLine('/ext', base, 'secret-token-123456', { PATH: '/bin' }, '/vscode/electron');
  assert.equal(spec.command, '/vscode/electron');
  assert.deepEqual(spec.args, ['/ext/dist/agent/main.js', '--port', '0', '--grpc-port', '0', '--log-level', 'info', '--exit-on-stdin-close', '--models', '/repo', '--enable-faults', '--config', '/s.json']);
  assert.equal(spec.env.INFERSCOPE_TOKEN, 'secret-token-123456');
  assert.equal(spec.env.ELECTRON_RUN_AS_NODE, '1');
  assert.ok(!spec.args.some((a) => a.includes('secret')));
  const own = agentCommandLine('/ext', { ...base, nodePath: '/usr/bin/node', modelRepository: '', enableFaults: false, configFile: undefined as unknown as string }, 't', { ELECTRON_RUN_AS_NODE: '1' }, '/e');
  assert.equal(own.command, '/usr/bin/node');
  assert.equal(own.env.ELECTRON_RUN_AS_NODE, undefined);
  assert.deepEqual(own.args.slice(7), ['--exit-on-stdin-close']);
});

test('the crash budget forgives 4 crashes in 3 minutes, not 5; old crashes age out; backoff doubles to 8 s', () => {
  let now = 0;
  const budget = new CrashBudget(() => now);
  for (let i = 0; i < 4; i++) assert.equal(budget.record(), true);
  now = 60_000;
  assert.equal(budget.record(), false);
  now = 60_000 + 3 * 60_000;
  assert.equal(budget.recent, 0);
  assert.equal(budget.record(), true);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 9].map(restartDelayMs), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
});

test('a refused config.json becomes a problem on the line of the field the agent names', () => {
  const s = status('closed');
  s.agent.model_repository = '/repo';
  s.models.push(
    { name: 'typo', error: "typo/config.json: unknown field 'max_batch_sise'", versions: [] },
    { name: 'deep', error: "deep/config.json: field 'dynamic_batching.max_queue_delay_ms': expected milliseconds from 0 to 60000", versions: [] },
    { name: 'gone', error: "gone/config.json: not valid JSON (Unexpected token)", versions: [] },
    { name: 'onnx', error: 'no execution provider could load /repo/onnx/1/model.onnx', versions: [] },
  );
  const files: Record<string, string> = {
    '/repo/typo/config.json': '{\n  "name": "typo",\n  "max_batch_sise": 8\n}\n',
    '/repo/deep/config.json': '{\n  "dynamic_batching": {\n    "max_queue_delay_ms": -1\n  }\n}\n',
    '/repo/gone/config.json': '{ oops',
  };
  assert.deepEqual(configProblems(s, (f) => files[f]), [
    { file: '/repo/typo/config.json', line: 2, message: "unknown field 'max_batch_sise'" },
    { file: '/repo/deep/config.json', line: 2, message: "field 'dynamic_batching.max_queue_delay_ms': expected milliseconds from 0 to 60000" },
    { file: '/repo/gone/config.json', line: 0, message: 'not valid JSON (Unexpected token)' },
  ]);
});

test('Force Open Circuit Breaker asks first only when it would refuse a model\'s traffic', () => {
  const s = healthy(); // digits 1 (default) and 2, both closed
  assert.match(forceOpenQuestion(s, 'digits', '1')!, /^Force the breaker of digits version 1 open\? It is the default version: every request to digits that names no version will be refused \(503\) until you reset it \(Reset Circuit Breaker\)\. Requests naming version 2 are still served\.$/);
  assert.equal(forceOpenQuestion(s, 'digits', '2'), undefined, 'a non-default version while the default serves: a drill, no question');
  // With version 1 forced open, version 2 is the last one serving.
  const oneOpen = status('open');
  assert.match(forceOpenQuestion(oneOpen, 'digits', '2')!, /No other version of digits is serving: every request to digits will be refused \(503\)/);
  // A model with a single ready version.
  const single = healthy();
  single.models[0]!.versions = single.models[0]!.versions.filter((v) => v.version === '2');
  single.models[0]!.default_version = '2';
  assert.match(forceOpenQuestion(single, 'digits', '2')!, /No other version of digits is serving/);
  assert.equal(forceOpenQuestion(s, 'nope', '1'), undefined);
  assert.equal(forceOpenQuestion(undefined, 'digits', '1'), undefined);
});
