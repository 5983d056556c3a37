// Property-based hostile input: 10,000 generated requests to the v2 infer route and the control
// API — random JSON, wrong types, huge numbers, NaN/Infinity, deep nesting, huge strings,
// truncated bodies, wrong content types, invalid UTF-8. Every answer must be a 4xx with a JSON
// error body (never a 5xx, never a hang); memory stays bounded; a correct request still works.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { InferResponse } from '../../common/api.js';
import { startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';

let agent: AgentProcess;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent.stop();
});

interface Sent {
  method: string;
  path: string;
  contentType?: string;
  body: Uint8Array;
}

/** Raw HTTP (fetch would refuse some of these bodies); resolves with status and body, or fails on a hang. */
function send(r: Sent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: agent.port,
        path: r.path,
        method: r.method,
        headers: { ...(r.contentType !== undefined ? { 'content-type': r.contentType } : {}), 'content-length': r.body.length },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in 10 s: ${r.method} ${r.path}`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

const enc = (s: string) => new TextEncoder().encode(s);
const DATATYPES = ['BOOL', 'UINT8', 'INT8', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];
const hugeNumber = fc.oneof(fc.constant(1e308), fc.constant(-1e308), fc.constant(2 ** 64), fc.constant(Number.MAX_SAFE_INTEGER + 2), fc.double({ noNaN: true, noDefaultInfinity: true }));
const junk = fc.oneof(fc.string({ maxLength: 20 }), hugeNumber, fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));

/** Infer bodies that look like the protocol but are wrong somewhere. */
const inferish = fc.record(
  {
    id: junk,
    parameters: fc.oneof(fc.dictionary(fc.constantFrom('timeout', 'entities', 'x', 'binary_data_size'), junk, { maxKeys: 3 }), junk),
    inputs: fc.oneof(
      fc.array(
        fc.record(
          {
            name: fc.oneof(fc.constant('pixels'), fc.string({ maxLength: 12 })),
            shape: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -5, max: 100 }), hugeNumber, fc.string({ maxLength: 3 })), { maxLength: 4 }), junk),
            datatype: fc.oneof(fc.constantFrom(...DATATYPES), fc.string({ maxLength: 6 })),
            data: fc.oneof(fc.array(fc.oneof(hugeNumber, fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null), fc.array(fc.double(), { maxLength: 3 })), { maxLength: 40 }), junk),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      junk,
    ),
    outputs: fc.oneof(fc.array(fc.record({ name: fc.oneof(fc.constant('probs'), fc.string({ maxLength: 6 })), parameters: fc.dictionary(fc.constantFrom('classification', 'binary_data'), junk, { maxKeys: 2 }) }), { maxLength: 2 }), junk),
  },
  { requiredKeys: [] },
);

const jsonText = fc.oneof(
  inferish.map((v) => JSON.stringify(v)),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  inferish.map((v) => JSON.stringify(v).replace(/\d+(\.\d+)?/, 'NaN')), // not JSON
  inferish.map((v) => JSON.stringify(v).replace(/\d+(\.\d+)?/, 'Infinity')),
  fc.tuple(inferish, fc.nat()).map(([v, n]) => { const t = JSON.stringify(v); return t.slice(0, n % Math.max(1, t.length)); }), // truncated
  fc.integer({ min: 33, max: 5000 }).map((d) => '['.repeat(d) + ']'.repeat(d)), // deep nesting
  fc.integer({ min: 1000, max: 200_000 }).map((n) => JSON.stringify({ inputs: [{ name: 'x'.repeat(n), shape: [1], datatype: 'BYTES', data: ['y'.repeat(n)] }] })), // huge strings
);

const body = fc.oneof(
  { weight: 6, arbitrary: jsonText.map(enc) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }) }, // invalid UTF-8 and worse
  { weight: 1, arbitrary: fc.constant(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])) }, // {"\xff\xfe":1}
);

const target = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/v2/models/digits/infer', '/v2/models/digits/versions/1/infer', '/v2/models/digits/versions/2/infer').map((path) => ({ method: 'POST', path })) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }).map((m) => ({ method: 'POST', path: `/v2/models/${encodeURIComponent(m)}/infer` })) },
  { weight: 1, arbitrary: fc.constantFrom('/api/v1/canaries', '/api/v1/models/digits/versions/2/breaker').map((path) => ({ method: 'POST', path })) },
  { weight: 1, arbitrary: fc.constant({ method: 'PUT', path: '/api/v1/faults/digits/1' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((id) => ({ method: 'DELETE', path: `/api/v1/canaries/${encodeURIComponent(id) || 'x'}` })) },
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json; charset=utf-16') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

async function rssBytes(): Promise<number> {
  const text = (await request<string>(`${agent.url}/metrics`)).body;
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)![1]);
}

test('10,000 hostile requests: every answer a 4xx with a JSON error; memory bounded; still correct afterwards', { timeout: 600_000 }, async () => {
  const rssBefore = await rssBytes();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(target, body, contentType, async (t, b, ct) => {
      const r = await send({ ...t, body: b, ...(ct !== undefined ? { contentType: ct } : {}) });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status < 400 || r.status > 499) return false;
      const parsed = JSON.parse(r.body) as { error?: unknown };
      return typeof parsed.error === 'string' && parsed.error.length > 0;
    }),
    { numRuns: 10_000, seed: 20261126 },
  );
  console.log(`# statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  const rssAfter = await rssBytes();
  assert.ok(rssAfter < rssBefore + 150 * 1024 * 1024, `RSS grew from ${rssBefore} to ${rssAfter}`);
  const ok = await request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(9) });
  assert.equal(ok.status, 200);
  assert.equal(argmax(ok.body.outputs[0]!.data as number[]), 9);
  assert.doesNotMatch(agent.stderr(), /ERROR/);
});
