// The command line: the listening line, flags, config files and their errors.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAgentToExit, startAgent } from '../helpers/agentProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'inferscope-cli-'));
function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

test('stdout carries exactly one JSON listening line; logs go to stderr', async () => {
  const agent = await startAgent({ args: ['--log-level', 'debug'] });
  await agent.stop();
  const lines = agent.stdout().trim().split('\n');
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]!);
  assert.deepEqual(Object.keys(event).sort(), ['event', 'grpc_port', 'host', 'pid', 'port']);
  assert.deepEqual([event.event, event.host, event.pid], ['listening', '127.0.0.1', agent.proc.pid]);
  assert.ok(event.port > 0 && event.grpc_port > 0 && event.grpc_port !== event.port);
  assert.match(agent.stderr(), /INFO  listening url=http:\/\/127\.0\.0\.1:\d+ grpc=127\.0\.0\.1:\d+/);
});

test('--grpc-port off serves no gRPC and says nothing of it; a bad value is a flag error', async () => {
  const agent = await startAgent({ args: ['--grpc-port', 'off'] });
  await agent.stop();
  const event = JSON.parse(agent.stdout().trim().split('\n')[0]!);
  assert.equal(event.grpc_port, undefined);
  assert.doesNotMatch(agent.stderr(), /grpc=/);
  const bad = await runAgentToExit(['--grpc-port', 'eighty']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--grpc-port eighty: expected a port from 0 to 65535, or off/);
});

test('--config sets values and flags win over it', async () => {
  const cfg = file('ok.json', JSON.stringify({ port: 1, log_level: 'warn' }));
  const agent = await startAgent({ args: ['--config', cfg, '--port', '0'] });
  await agent.stop();
  assert.ok(agent.port > 1);
  assert.doesNotMatch(agent.stderr(), /INFO/);
});

const failures: [string, string[], RegExp][] = [
  ['unknown flag', ['--prot', '80'], /Unknown option '--prot'.*--help/],
  ['bad port', ['--port', 'eighty'], /--port eighty: expected a port from 0 to 65535/],
  ['bad log level', ['--log-level', 'loud'], /--log-level loud: expected one of debug, info, warn, error/],
  ['missing config file', ['--config', join(dir, 'none.json')], /--config .*none\.json: cannot read it \(ENOENT\)/],
  ['config not JSON', ['--config', file('bad.json', '{port: 1}')], /--config .*bad\.json: not valid JSON/],
  ['config unknown field', ['--config', file('typo.json', '{"prot": 1}')], /--config .*typo\.json: unknown field 'prot'/],
  ['config wrong type', ['--config', file('type.json', '{"port": "80"}')], /--config .*type\.json: field 'port'/],
  ['token in config file', ['--config', file('tok.json', '{"token": "x"}')], /field 'token' is not read from files; set INFERSCOPE_TOKEN/],
  ['missing repository', ['--models', join(dir, 'nowhere'), '--port', '0'], /model repository .*nowhere does not exist/],
];
for (const [what, args, message] of failures) {
  test(`${what}: clear message and non-zero exit`, async () => {
    const r = await runAgentToExit(args);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, message);
  });
}

test('a short token is refused', async () => {
  const r = await runAgentToExit(['--port', '0'], { INFERSCOPE_TOKEN: 'short' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /INFERSCOPE_TOKEN is too short/);
});

test('a port in use is named', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const r = await runAgentToExit(['--port', String(port)]);
  blocker.close();
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`--port ${port}: already in use on 127\\.0\\.0\\.1`));
});

test('a gRPC port in use is named, and the agent does not half-start', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const r = await runAgentToExit(['--port', '0', '--grpc-port', String(port)]);
  blocker.close();
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`--grpc-port ${port}: already in use on 127\\.0\\.0\\.1; pick another port \\(0 = any free one, off = no gRPC\\)`));
  assert.equal(r.stdout, '', 'no listening line');
});

test('--help and --version', async () => {
  const help = await runAgentToExit(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: inferscope-agent/);
  const version = await runAgentToExit(['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
