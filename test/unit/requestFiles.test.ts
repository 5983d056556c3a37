// Request files' pure parts: which model a file names, the body sent, a new file's body from the
// model's metadata, the CodeLens row, the comparison of two versions' answers, the response and
// comparison documents, the curl command (run through a real shell), and the raw metrics order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { AgentStatus, InferResponse, ModelMetadata } from '../../common/api.js';
import { compareOutputs } from '../../extension/src/requests/compareOutputs.js';
import { curlExample, inferPath, shellQuote } from '../../extension/src/requests/curlExample.js';
import { bodyToSend, formatJson, newRequestBody, parseRequestText } from '../../extension/src/requests/requestBody.js';
import { requestLenses, servedModels } from '../../extension/src/requests/requestLenses.js';
import { isRequestFile, modelFromFileName, requestTarget } from '../../extension/src/requests/requestTarget.js';
import { comparisonText, formatMs, responseText } from '../../extension/src/requests/responseText.js';
import { inferscopeFirst } from '../../extension/src/views/metricsOrder.js';
import { exampleRequest } from '../helpers/http.js';

const meta: ModelMetadata = {
  name: 'digits',
  versions: ['1', '2'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 784] }],
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
};

test('the model a request file names: model_name in the body, else the file name if the agent serves it', () => {
  assert.ok(isRequestFile('/w/digits.infer.json'));
  assert.ok(!isRequestFile('/w/digits.json'));
  assert.equal(modelFromFileName('/w/digits.infer.json'), 'digits');
  assert.equal(modelFromFileName('C:\\w\\digits.seven.infer.json'), 'digits');
  assert.equal(modelFromFileName('/w/.infer.json'), undefined);
  assert.deepEqual(requestTarget({ model_name: 'mnist', inputs: [] }, '/w/digits.infer.json', ['digits']), { model: 'mnist', from: 'model_name' });
  assert.deepEqual(requestTarget({ inputs: [] }, '/w/digits.2.infer.json', ['digits']), { model: 'digits', from: 'file name' });
  // "seven" is what the file is about, not a model: the caller asks.
  assert.equal(requestTarget({ inputs: [] }, '/w/seven.infer.json', ['digits']), undefined);
  assert.equal(requestTarget(undefined, '/w/seven.infer.json', []), undefined);
});

test('a request file is checked before sending; model_version is left to the lens', () => {
  assert.match((parseRequestText('{"inputs": [') as { error: string }).error, /not valid JSON/);
  assert.match((parseRequestText('[1]') as { error: string }).error, /one JSON object/);
  assert.match((parseRequestText('{"id": "x"}') as { error: string }).error, /no "inputs"/);
  assert.ok(parseRequestText('{"parameters": {"entities": ["digit-3"]}}').ok);
  const parsed = parseRequestText('{"model_name": "digits", "model_version": "1", "inputs": []}');
  assert.ok(parsed.ok);
  assert.deepEqual(bodyToSend(parsed.body), { model_name: 'digits', inputs: [] });
});

test('a new request body: shapes from the metadata, data from a fitting example, else zeros; every output named', () => {
  const seven = exampleRequest(7);
  const withExample = newRequestBody('digits', meta, seven);
  assert.equal(withExample.model_name, 'digits');
  assert.deepEqual(withExample.inputs[0]!.shape, [1, 784]);
  assert.deepEqual(withExample.inputs[0]!.data, seven.inputs[0]!.data);
  assert.deepEqual(withExample.outputs, [{ name: 'probs' }]);
  const noExample = newRequestBody('digits', meta);
  assert.deepEqual(noExample.inputs[0]!.shape, [1, 784]);
  assert.equal(noExample.inputs[0]!.data!.length, 784);
  assert.ok(noExample.inputs[0]!.data!.every((v) => v === 0));
  // An example for another input (another model's file) is not used.
  const other = newRequestBody('digits', meta, { inputs: [{ name: 'image', shape: [1, 784], datatype: 'FP32', data: [1] }] });
  assert.equal(other.inputs[0]!.name, 'pixels');
  assert.ok(other.inputs[0]!.data!.every((v) => v === 0));
});

test('formatJson keeps arrays of numbers on one line and is valid JSON', () => {
  const value = { model_name: 'digits', inputs: [{ name: 'pixels', shape: [1, 3], data: [0, 0.5, 1] }], outputs: [{ name: 'probs' }], empty: {} };
  const text = formatJson(value);
  assert.deepEqual(JSON.parse(text), value);
  assert.match(text, /"data": \[0, 0\.5, 1\]/);
  assert.equal(text.split('\n').length, 16);
});

const answer = (version: string, rows: number[][]): InferResponse => ({
  model_name: 'digits',
  model_version: version,
  outputs: [
    { name: 'probs', datatype: 'FP32', shape: [rows.length, rows[0]!.length], data: rows.flat() },
    { name: 'label', datatype: 'BYTES', shape: [rows.length], data: rows.map(() => 'x') },
  ],
});

test('compareOutputs: max and mean absolute difference, and the rows whose argmax flips', () => {
  const a = answer('1', [
    [0.1, 0.7, 0.2],
    [0.5, 0.3, 0.2],
  ]);
  const b = answer('2', [
    [0.1, 0.6, 0.3],
    [0.2, 0.3, 0.5],
  ]);
  const [probs, label] = compareOutputs(a, b);
  assert.equal(probs!.name, 'probs');
  assert.ok(Math.abs(probs!.maxAbsDiff! - 0.3) < 1e-9);
  assert.ok(Math.abs(probs!.meanAbsDiff! - (0.1 + 0.1 + 0.3 + 0.3) / 6) < 1e-9);
  assert.equal(probs!.rows, 2);
  assert.deepEqual(probs!.flips, [{ row: 1, a: 0, b: 2 }]);
  assert.match(label!.note!, /BYTES output, not numeric/);
  // Same answers: zero difference, no flips.
  const same = compareOutputs(a, { ...a, model_version: '2' })[0]!;
  assert.equal(same.maxAbsDiff, 0);
  assert.deepEqual(same.flips, []);
  // Shapes that differ, and an output only one version has, say so instead of comparing.
  const odd = compareOutputs(a, { model_name: 'digits', model_version: '3', outputs: [{ name: 'probs', datatype: 'FP32', shape: [1, 6], data: [0, 0, 0, 0, 0, 0] }] });
  assert.match(odd[0]!.note!, /shapes differ: \[2, 3\] vs \[1, 6\]/);
  assert.match(odd[1]!.note!, /only version 1 answered/);
});

test('the response document says where the request went, how long it took and which version answered', () => {
  const at = new Date(2026, 11, 3, 14, 5, 6);
  const ok = responseText({ path: inferPath('digits'), file: 'digits.infer.json', ms: 3.456, at }, { ok: true, response: answer('2', [[0.1, 0.9]]) });
  assert.match(ok, /^\/\/ digits\.infer\.json → POST \/v2\/models\/digits\/infer$/m);
  assert.match(ok, /answered in 3\.46 ms/);
  assert.match(ok, /^\/\/ 200: answered by digits version 2$/m);
  const json = ok.split('\n').filter((l) => !l.startsWith('//')).join('\n');
  assert.equal((JSON.parse(json) as InferResponse).model_version, '2');
  const refused = responseText({ path: inferPath('digits', '9'), file: 'd.infer.json', ms: 1, at }, { ok: false, status: 404, error: 'unknown version "9"' });
  assert.match(refused, /POST \/v2\/models\/digits\/versions\/9\/infer/);
  assert.match(refused, /^\/\/ 404: the agent refused the request$/m);
  assert.match(refused, /"error": "unknown version \\"9\\""/);
  assert.equal(formatMs(1234), '1.23 s');
});

test('the comparison document: one row per output, then the flipped rows with both predictions', () => {
  const a = answer('1', [[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]);
  const b = answer('2', [[0.1, 0.6, 0.3], [0.2, 0.3, 0.5]]);
  const text = comparisonText('digits.infer.json', 'digits', { version: '1', ms: 2 }, { version: '2', ms: 3 }, compareOutputs(a, b));
  assert.match(text, /^# digits: version 1 vs version 2$/m);
  assert.match(text, /^\| probs \| \[2, 3\] \| 0\.3 \| 0\.1333 \| 1 of 2 rows \|$/m);
  assert.match(text, /^\| label \| \[2\] \| — \| — \| BYTES output, not numeric: not compared \|$/m);
  assert.match(text, /^\| 1 \| 0 \| 2 \|$/m);
  const same = comparisonText('d.infer.json', 'digits', { version: '1', ms: 2 }, { version: '2', ms: 3 }, compareOutputs(a, { ...a, model_version: '2' }));
  assert.match(same, /No argmax flips/);
});

test('the CodeLens row: Send, one lens per ready version, Compare for two (a pick for more); Start when the agent is down', () => {
  const status = {
    models: [
      { name: 'digits', default_version: '1', versions: [{ version: '1', state: 'ready' }, { version: '2', state: 'ready' }, { version: '3', state: 'failed' }] },
    ],
  } as unknown as AgentStatus;
  const models = servedModels(status);
  assert.deepEqual(models, [{ name: 'digits', versions: ['1', '2'], defaultVersion: '1' }]);
  const lenses = requestLenses({ model: 'digits', from: 'file name' }, models);
  assert.deepEqual(lenses.map((l) => l.title), ['$(play) Send to digits', 'v1 (default)', 'v2', '$(diff) Compare v1 ↔ v2']);
  assert.deepEqual(lenses.map((l) => l.arg), [{ model: 'digits' }, { model: 'digits', version: '1' }, { model: 'digits', version: '2' }, { model: 'digits', versions: ['1', '2'] }]);
  const three = requestLenses({ model: 'digits', from: 'model_name' }, [{ name: 'digits', versions: ['1', '2', '3'] }]);
  assert.equal(three.at(-1)!.title, '$(diff) Compare versions…');
  assert.deepEqual(three.at(-1)!.arg, { model: 'digits' });
  assert.deepEqual(requestLenses(undefined, models).map((l) => [l.title, l.command]), [['$(play) Send to a model…', 'inferscope.sendRequest']]);
  assert.equal(requestLenses({ model: 'digits', from: 'file name' }, undefined)[0]!.command, 'inferscope.startAgent');
  // A model the agent does not serve: Send alone (the agent's 404 will say which models exist).
  assert.deepEqual(requestLenses({ model: 'mnist', from: 'model_name' }, models).map((l) => l.title), ['$(play) Send to mnist']);
});

test('curl example: token header only when set, every part single-quoted; a real shell passes the body through intact', () => {
  const body = { inputs: [{ name: "it's", shape: [1], datatype: 'BYTES', data: ["a 'quoted' $HOME `x`"] }] };
  const withToken = curlExample({ url: 'http://127.0.0.1:40121/', model: 'digits', version: '2', token: 'abc', body });
  assert.match(withToken, /^curl -sS -X POST 'http:\/\/127\.0\.0\.1:40121\/v2\/models\/digits\/versions\/2\/infer' -H 'Authorization: Bearer abc' -H 'Content-Type: application\/json' -d '/);
  const without = curlExample({ url: 'http://127.0.0.1:40121', model: 'digits', token: '', body });
  assert.doesNotMatch(without, /Authorization/);
  assert.match(without, /'http:\/\/127\.0\.0\.1:40121\/v2\/models\/digits\/infer'/);
  // The shell sees exactly the JSON: print the -d argument instead of running curl.
  const echoed = spawnSync('bash', ['-c', `args() { while [ "$1" != -d ]; do shift; done; printf %s "$2"; }; ${withToken.replace(/^curl/, 'args')}`], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(echoed.stdout), body);
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});

test('raw metrics: inferscope_* families first, each family whole, OpenMetrics # EOF last', () => {
  const text = [
    '# HELP process_cpu_seconds_total CPU.',
    '# TYPE process_cpu_seconds_total counter',
    'process_cpu_seconds_total 1',
    '# HELP nv_inference_count Count.',
    '# TYPE nv_inference_count counter',
    'nv_inference_count{model="digits",version="1"} 4',
    '# HELP inferscope_latency_seconds Latency.',
    '# TYPE inferscope_latency_seconds histogram',
    'inferscope_latency_seconds_bucket{le="0.1"} 1',
    'inferscope_latency_seconds_sum 0.05',
    'inferscope_latency_seconds_count 1',
    '# HELP inferscope_up Up.',
    '# TYPE inferscope_up gauge',
    'inferscope_up 1',
    '# EOF',
    '',
  ].join('\n');
  const lines = inferscopeFirst(text).trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 8), [
    '# HELP inferscope_latency_seconds Latency.',
    '# TYPE inferscope_latency_seconds histogram',
    'inferscope_latency_seconds_bucket{le="0.1"} 1',
    'inferscope_latency_seconds_sum 0.05',
    'inferscope_latency_seconds_count 1',
    '# HELP inferscope_up Up.',
    '# TYPE inferscope_up gauge',
    'inferscope_up 1',
  ]);
  assert.equal(lines[8], '# HELP process_cpu_seconds_total CPU.');
  assert.equal(lines.at(-1), '# EOF');
  assert.equal(lines.length, text.trimEnd().split('\n').length);
});
