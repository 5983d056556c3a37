// Issue 16, item 1: stalled bodies cannot hold the body budget against everyone else. A body that
// has sent nothing for 2 s is ended (408) when another request needs the room; until then the
// newcomer gets 503 + Retry-After.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest } from '../helpers/http.js';
import { rawRequest, requestBytes } from '../helpers/rawHttp.js';

let agent: AgentProcess;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferscope-stalled-'));
  const config = join(dir, 'agent.json');
  writeFileSync(config, JSON.stringify({ body_limit_bytes: 100_000, body_budget_bytes: 200_000, request_timeout_s: 60 }));
  agent = await startAgent({ args: ['--config', config] });
});
after(async () => {
  await agent.stop();
});

const LINE = 'POST /v2/models/digits/infer HTTP/1.1';
const headers = (length: number): [string, string | number][] => [['Host', `127.0.0.1:${agent.port}`], ['Content-Type', 'application/json'], ['Content-Length', length]];

/** A digits request padded with spaces to `size` bytes. */
function paddedRequest(size: number): Buffer {
  const json = JSON.stringify(exampleRequest(4));
  return Buffer.from(json + ' '.repeat(size - Buffer.byteLength(json)));
}

test('a body stalled for 2 s is ended (408) to make room; a request that sends its body promptly is served', async () => {
  // Three bodies of 60,000 bytes that send 5 bytes and stop: 180,000 of 200,000 bytes reserved.
  const answers: string[] = [];
  const stalled: Socket[] = await Promise.all(
    [1, 2, 3].map(
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect(agent.port, '127.0.0.1', () => {
            s.write(requestBytes(LINE, headers(60_000), '{"a":'));
            resolve(s);
          });
          s.on('data', (d) => answers.push(d.toString('latin1')));
          s.on('error', () => {});
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 200));
  const full = paddedRequest(60_000);
  const early = await rawRequest(agent.port, requestBytes(LINE, headers(full.length), full));
  assert.equal(early.status, 503, 'nobody has stalled long enough yet');
  assert.equal(early.headers['retry-after'], '1');

  await new Promise((r) => setTimeout(r, 2_200));
  const served = await rawRequest(agent.port, requestBytes(LINE, headers(full.length), full));
  assert.equal(served.status, 200, served.body.toString());
  assert.equal(argmax(JSON.parse(served.body.toString()).outputs[0].data), 4);
  await waitFor(() => answers.length >= 1, 2000);
  assert.equal(answers.length, 1, 'one stalled body was enough to make room');
  assert.match(answers[0]!, /^HTTP\/1\.1 408 /);
  assert.match(answers[0]!, /the body stalled \(no byte for 2 s\) while other requests waited for room/);
  for (const s of stalled) s.destroy();
});
