// SIGTERM during load: the agent stops accepting, finishes every request it accepted, exits 0.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { startAgent } from '../helpers/agentProcess.js';
import { argmax, exampleRequest } from '../helpers/http.js';

type Outcome =
  | { kind: 'answered'; status: number; body: string }
  | { kind: 'connection_error'; code: string; gotResponse: boolean };

function post(port: number, path: string, body: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let gotResponse = false;
    const req = httpRequest(
      // A fresh connection per request: what each request went through is then unambiguous.
      { host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        gotResponse = true;
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ kind: 'answered', status: res.statusCode!, body: text }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'connection_error', code: err.code ?? err.message, gotResponse }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'connection_error', code: err.code ?? err.message, gotResponse }));
    req.end(body);
  });
}

test('SIGTERM under load loses no accepted request and exits 0', async () => {
  const agent = await startAgent();
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  // 64 rows per request on the slower version keeps requests in flight when the signal lands.
  const rows = Array.from({ length: 64 }, (_, i) => exampleRequest(digits[i % 10]!).inputs[0]!.data as number[]);
  const body = JSON.stringify({ inputs: [{ name: 'pixels', shape: [64, 784], datatype: 'FP32', data: rows }] });
  const total = 300;
  let answered = 0;
  let signalled = false;
  const outcomes = await Promise.all(
    Array.from({ length: total }, () =>
      post(agent.port, '/v2/models/digits/versions/2/infer', body).then((o) => {
        if (o.kind === 'answered' && ++answered === 20 && !signalled) {
          signalled = true;
          agent.proc.kill('SIGTERM');
        }
        return o;
      }),
    ),
  );
  assert.ok(signalled, 'the signal was sent while requests were being served');
  const code = await agent.stop();
  assert.equal(code, 0, agent.stderr());

  const inFlightAtSignal = Number(/draining in_flight=(\d+)/.exec(agent.stderr())?.[1]);
  const drained = Number(/INFO  drained requests=(\d+)/.exec(agent.stderr())?.[1]);
  assert.ok(inFlightAtSignal > 0, `requests were in flight at SIGTERM:\n${agent.stderr()}`);
  console.log(`# SIGTERM with ${inFlightAtSignal} requests in flight: all answered, exit 0`);
  assert.equal(drained, inFlightAtSignal);

  let ok = 0;
  for (const o of outcomes) {
    if (o.kind === 'connection_error') {
      // Refused or reset before any answer: the agent never accepted it. Never cut mid-answer.
      assert.equal(o.gotResponse, false, `a response was cut off: ${o.code}`);
      assert.ok(['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(o.code), o.code);
      continue;
    }
    if (o.status === 503) {
      // Refused, never lost: the drain, or 300 bodies of 280 KB arriving at once past the budget of
      // bytes being received (body_budget_bytes), both with Retry-After.
      assert.match(JSON.parse(o.body).error, /shutting down|bytes of request bodies already; retry shortly/);
      continue;
    }
    assert.equal(o.status, 200, o.body);
    const probs = JSON.parse(o.body).outputs[0].data as number[];
    assert.deepEqual(rows.map((_, i) => argmax(probs, i * 10, 10)).slice(0, 10), digits);
    ok++;
  }
  assert.ok(ok >= 20 + inFlightAtSignal - 1, `${ok} answered 200; ${inFlightAtSignal} were in flight at SIGTERM`);
});
