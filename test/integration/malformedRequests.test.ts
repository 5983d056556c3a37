// Malformed requests through real HTTP: each gets the right 4xx and a message that says what to
// fix, and the agent keeps serving correct predictions afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { InferResponse } from '../../common/api.js';
import { startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';

let agent: AgentProcess;
before(async () => {
  // A small body limit so the 413 case stays small.
  agent = await startAgent({ args: ['--config', configFile()] });
});
after(async () => {
  await agent.stop();
});

function configFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'inferscope-cfg-')), 'agent.json');
  writeFileSync(file, JSON.stringify({ body_limit_bytes: 64 * 1024 }));
  return file;
}

const seven = exampleRequest(7);
const pixels = seven.inputs[0]!.data as number[];
const input = (over: Record<string, unknown>) => ({ inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: pixels, ...over }] });
const INFER = '/v2/models/digits/infer';

interface Case {
  what: string;
  path?: string;
  method?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  status: number;
  error: RegExp;
}

const cases: Case[] = [
  { what: 'malformed JSON', rawBody: '{"inputs": [', headers: { 'content-type': 'application/json' }, status: 400, error: /the body is not valid JSON/ },
  { what: 'JSON nested 10,000 deep', rawBody: '['.repeat(10_000) + ']'.repeat(10_000), headers: { 'content-type': 'application/json' }, status: 400, error: /nests JSON deeper than 32 levels/ },
  { what: 'a huge shape with no data', body: input({ shape: [64, 784], data: [] }), status: 400, error: /has 0 values in 'data', but its shape needs 50176|nested 'data' has 0 rows/ },
  { what: 'JSON that is not an object', body: [1, 2, 3], status: 400, error: /must be a JSON object with an "inputs" array/ },
  // Like Triton, infer reads the body as the protocol's JSON whatever its Content-Type says
  // (curl -d sends a form type): a form body is then simply not JSON.
  { what: 'form body', rawBody: 'inputs=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, error: /the body is not valid JSON/ },
  { what: 'form content type on the control API', path: '/api/v1/canaries', rawBody: '{}', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, error: /Content-Type: application\/json/ },
  { what: 'JSON that is not an object', rawBody: '[1]', headers: {}, status: 400, error: /request body must be a JSON object/ },
  { what: 'oversized body', rawBody: JSON.stringify({ inputs: [{ name: 'pixels', shape: [64, 784], datatype: 'FP32', data: Array(64 * 784).fill(0.123456) }] }), headers: { 'content-type': 'application/json' }, status: 413, error: /larger than the limit of 65536 bytes/ },
  { what: 'unknown model', path: '/v2/models/letters/infer', body: seven, status: 404, error: /unknown model "letters"/ },
  { what: 'unknown version', path: '/v2/models/digits/versions/7/infer', body: seven, status: 404, error: /has no version 7; its versions: 1, 2/ },
  { what: 'invalid model name', path: '/v2/models/..%2F..%2Fetc/infer', body: seven, status: 400, error: /is not a valid model name/ },
  { what: 'invalid version', path: '/v2/models/digits/versions/01/infer', body: seven, status: 400, error: /"01" is not a valid version/ },
  { what: 'missing inputs', body: { id: 'x' }, status: 400, error: /'inputs' must be a non-empty array; digits\/1 takes: pixels FP32 \[-1, 784\]/ },
  { what: 'wrong input name', body: { inputs: [{ ...seven.inputs[0], name: 'image' }] }, status: 400, error: /has no input 'image'; its inputs are: pixels/ },
  { what: 'wrong datatype', body: input({ datatype: 'FP64' }), status: 400, error: /takes datatype FP32, not FP64/ },
  { what: 'wrong shape', body: input({ shape: [28, 28] }), status: 400, error: /needs shape \[-1, 784\] \(-1 = any\); got \[28, 28\]/ },
  { what: 'data shorter than shape', body: input({ data: pixels.slice(0, 700) }), status: 400, error: /has 700 values in 'data', but its shape needs 784/ },
  { what: 'non-numeric pixel', body: input({ data: ['a', ...pixels.slice(1)] }), status: 400, error: /data element 0 is "a"; FP32 needs a number/ },
  { what: 'batch above max_batch_size', body: input({ shape: [65, 784], data: [] }), status: 400, error: /batch of 65 exceeds max_batch_size 64/ },
  { what: 'unknown output', body: { ...seven, outputs: [{ name: 'logits' }] }, status: 400, error: /has no output 'logits'/ },
  { what: 'bad classification count', body: { ...seven, outputs: [{ name: 'probs', parameters: { classification: 11 } }] }, status: 400, error: /has 10 classes; 'classification' must be at most 10/ },
  { what: 'unknown field', body: { ...seven, input: [] }, status: 400, error: /unknown field 'input'/ },
  { what: 'unknown route', path: '/v2/modelz/digits/infer', body: seven, status: 404, error: /no route POST \/v2\/modelz\/digits\/infer/ },
  { what: 'GET on the infer route', path: INFER, method: 'GET', status: 404, error: /no route GET/ },
];

test(`${cases.length} malformed requests each get the right 4xx with a useful message`, async (t) => {
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    await t.test(c.what, async () => {
      const r = await request(`${agent.url}${c.path ?? INFER}`, {
        ...(c.method ? { method: c.method } : {}),
        ...(c.body !== undefined ? { body: c.body } : {}),
        ...(c.rawBody !== undefined ? { rawBody: c.rawBody } : {}),
        ...(c.headers ? { headers: c.headers } : {}),
      });
      assert.equal(r.status, c.status, JSON.stringify(r.body));
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
      assert.match((r.body as { error: string }).error, c.error);
    });
  }
});

test('after all of that the agent still serves correct predictions', async () => {
  for (const digit of [0, 5, 9]) {
    const r = await request<InferResponse>(`${agent.url}${INFER}`, { body: exampleRequest(digit) });
    assert.equal(r.status, 200);
    assert.equal(argmax(r.body.outputs[0]!.data as number[]), digit);
  }
  assert.equal((await request(`${agent.url}/v2/health/ready`)).status, 200);
  assert.doesNotMatch(agent.stderr(), /ERROR/);
});
