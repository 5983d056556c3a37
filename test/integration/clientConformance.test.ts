// Stock clients, byte for byte: the requests that tritonclient (http and http.aio), Triton's C++
// client (perf_analyzer), KServe's InferenceRESTClient and curl send, as read from their source and
// captured on the wire (header names, case and order, no Content-Type, no Content-Length,
// compact JSON with Python's float text), replayed over a raw socket against the real agent. Every
// answer is validated against the schemas of the specifications (test/helpers/oipSchemas.ts) and
// read back the way the client reads it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gzipSync, deflateSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';
import {
  conforms,
  errorResponse,
  inferenceResponse,
  logSettingsResponse,
  metadataModelResponse,
  metadataServerResponse,
  modelConfigResponse,
  repositoryIndexResponse,
  statisticsResponse,
} from '../helpers/oipSchemas.js';
import { rawRequest, requestBytes, splitInferResponse, type RawResponse } from '../helpers/rawHttp.js';

let agent: AgentProcess;
let host: string;
before(async () => {
  agent = await startAgent({ args: ['--enable-faults'] });
  host = `127.0.0.1:${agent.port}`;
});
after(async () => {
  assert.equal(await agent.stop(), 0);
});

const seven = exampleRequest(7).inputs[0]!.data as number[];
const sevenBytes = Buffer.from(Float32Array.from(seven).buffer);

/** Python's repr of a float (tritonclient sends float32 values widened to double, via rapidjson). */
function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e16) return String(x);
  const [mantissa, exp] = x.toExponential().split('e');
  const e = Number(exp);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
const pyFloats = (xs: number[]) => `[${xs.map(pyFloat).join(',')}]`;

/** gevent-http-client 2.0.8, as tritonclient.http sends with it: lower-case names, no Content-Type. */
function gevent(line: string, extra: [string, string | number][], body?: Buffer | string): Buffer {
  const headers: [string, string | number][] = [['user-agent', 'python/gevent-http-client-2.0.8'], ...extra, ['host', host]];
  if (body !== undefined) headers.push(['content-length', Buffer.byteLength(body)]);
  return requestBytes(line, headers, body);
}

function probsOf(r: RawResponse): Float32Array {
  assert.equal(r.status, 200, r.body.toString('utf8').slice(0, 300));
  const { json, binary } = splitInferResponse(r);
  conforms(inferenceResponse, json, 'the infer response');
  const bytes = binary.get('probs');
  if (bytes) return new Float32Array(Uint8Array.from(bytes).buffer);
  return Float32Array.from(json.outputs.find((o: { name: string }) => o.name === 'probs').data);
}

test('1. tritonclient.http default: binary input, binary outputs, no Content-Type', async () => {
  const header = '{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"parameters":{"binary_data_output":true}}';
  assert.equal(header.length, 144); // the capture: Inference-Header-Content-Length: 144
  const r = await rawRequest(agent.port, gevent('POST /v2/models/digits/infer HTTP/1.1', [['inference-header-content-length', header.length]], Buffer.concat([Buffer.from(header), sevenBytes])));
  assert.equal(r.headers['content-type'], 'application/octet-stream');
  const { json } = splitInferResponse(r);
  assert.deepEqual(json.outputs, [{ name: 'probs', datatype: 'FP32', shape: [1, 10], parameters: { binary_data_size: 40 } }]);
  assert.equal(Number(r.headers['inference-header-content-length']) + 40, r.body.length);
  assert.equal(argmax(probsOf(r)), 7);
});

test('2. tritonclient.http binary_data=False (JSON, still no Content-Type), plain, gzip and deflate', async () => {
  const body = `{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","data":${pyFloats(seven)}}],"parameters":{"binary_data_output":true}}`;
  assert.match(body, /"data":\[0\.0,0\.0,/);
  const plain = await rawRequest(agent.port, gevent('POST /v2/models/digits/infer HTTP/1.1', [], body));
  assert.equal(argmax(probsOf(plain)), 7);
  // request_compression_algorithm: the whole body compressed; Inference-Header-Content-Length (when
  // present) counts the uncompressed JSON.
  for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
    const r = await rawRequest(agent.port, gevent('POST /v2/models/digits/infer HTTP/1.1', [['Content-Encoding', encoding]], compress(body)));
    assert.equal(argmax(probsOf(r)), 7, encoding);
    const header = '{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"parameters":{"binary_data_output":true}}';
    const binary = await rawRequest(
      agent.port,
      gevent('POST /v2/models/digits/infer HTTP/1.1', [['Content-Encoding', encoding], ['Inference-Header-Content-Length', header.length]], compress(Buffer.concat([Buffer.from(header), sevenBytes]))),
    );
    assert.equal(argmax(probsOf(binary)), 7, `${encoding} binary`);
  }
});

test('3. tritonclient.http.aio: application/octet-stream on every POST, JSON and binary', async () => {
  const aio = (body: Buffer | string, extra: [string, string | number][] = []) =>
    requestBytes('POST /v2/models/digits/versions/2/infer HTTP/1.1', [
      ['Host', host],
      ...extra,
      ['Accept', '*/*'],
      ['Accept-Encoding', 'gzip, deflate'],
      ['User-Agent', 'Python/3.11 aiohttp/3.8.4'],
      ['Content-Length', Buffer.byteLength(body)],
      ['Content-Type', 'application/octet-stream'],
    ], body);
  const json = `{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","data":${pyFloats(seven)}}],"parameters":{"binary_data_output":true}}`;
  assert.equal(argmax(probsOf(await rawRequest(agent.port, aio(json)))), 7);
  const header = '{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"parameters":{"binary_data_output":true}}';
  const r = await rawRequest(agent.port, aio(Buffer.concat([Buffer.from(header), sevenBytes]), [['Inference-Header-Content-Length', header.length]]));
  assert.equal(argmax(probsOf(r)), 7);
  // Non-infer replies are never compressed (aiohttp's client reads them with auto_decompress off).
  const index = await rawRequest(agent.port, requestBytes('POST /v2/repository/index HTTP/1.1', [['Host', host], ['Accept-Encoding', 'gzip, deflate'], ['Content-Length', 0], ['Content-Type', 'application/octet-stream']]));
  assert.equal(index.headers['content-encoding'], undefined);
  conforms(repositoryIndexResponse, JSON.parse(index.body.toString()), 'the repository index');
});

test('4. KServe InferenceRESTClient (v2): id and model_name in the body, JSON without Content-Type, binary with lower-case headers', async () => {
  const httpx = (body: Buffer | string, extra: [string, string | number][] = []) =>
    requestBytes('POST /v2/models/digits/infer HTTP/1.1', [
      ['Host', host],
      ['Accept', '*/*'],
      ['Accept-Encoding', 'gzip, deflate, br'],
      ['Connection', 'keep-alive'],
      ['User-Agent', 'python-httpx/0.23.3'],
      ...extra,
      ['Content-Length', Buffer.byteLength(body)],
    ], body);
  const id = randomUUID();
  const json = `{"id":"${id}","model_name":"digits","inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","data":[${seven.join(',')}]}]}`;
  const r = await rawRequest(agent.port, httpx(json));
  const { json: answer } = splitInferResponse(r);
  assert.equal(answer.model_name, 'digits'); // KServe's InferResponse.from_bytes requires it
  assert.equal(answer.id, id);
  assert.equal(argmax(probsOf(r)), 7);
  const header = `{"id":"${id}","model_name":"digits","inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}]}`;
  const binary = await rawRequest(agent.port, httpx(Buffer.concat([Buffer.from(header), sevenBytes]), [['inference-header-content-length', header.length], ['content-type', 'application/octet-stream']]));
  assert.equal(argmax(probsOf(binary)), 7);
  // The body's model_name must be the URL's; the error is JSON with exactly "application/json"
  // (KServe reads the error only then).
  const wrong = await rawRequest(agent.port, httpx(json.replace('"model_name":"digits"', '"model_name":"other"')));
  assert.equal(wrong.status, 400);
  assert.equal(wrong.headers['content-type'], 'application/json');
  assert.match(conforms(errorResponse, JSON.parse(wrong.body.toString()), 'the error').error, /'model_name' in the body is "other", but the URL names model "digits"/);
});

test('5. InferRequestedOutput: binary_data true by default, and with class_count (classification as binary BYTES)', async () => {
  const input = '{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}';
  const send = (outputs: string) => {
    const header = `{"inputs":[${input}],"outputs":[${outputs}]}`;
    return rawRequest(agent.port, gevent('POST /v2/models/digits/infer HTTP/1.1', [['inference-header-content-length', header.length]], Buffer.concat([Buffer.from(header), sevenBytes])));
  };
  assert.equal(argmax(probsOf(await send('{"name":"probs","parameters":{"binary_data":true}}'))), 7);
  const top = await send('{"name":"probs","parameters":{"classification":3,"binary_data":true}}');
  assert.equal(top.status, 200);
  const { json, binary } = splitInferResponse(top);
  conforms(inferenceResponse, json, 'the classification response');
  assert.deepEqual([json.outputs[0].datatype, json.outputs[0].shape], ['BYTES', [1, 3]]);
  // tritonclient's deserialize_bytes_tensor: <I length, then the bytes, per element.
  const bytes = binary.get('probs')!;
  const elements: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = bytes.readUInt32LE(at);
    elements.push(bytes.subarray(at + 4, at + 4 + n).toString('utf8'));
    at += 4 + n;
  }
  assert.equal(elements.length, 3);
  assert.match(elements[0]!, /^0\.\d{6}:7:7$/);
  // The C++ client (perf_analyzer): application/octet-stream, "id":"", every output binary.
  const cpp = `{"id":"","inputs":[{"name":"pixels","datatype":"FP32","shape":[1,784],"parameters":{"binary_data_size":3136}}],"outputs":[{"name":"probs","parameters":{"binary_data":true}}]}`;
  const perf = await rawRequest(
    agent.port,
    requestBytes('POST /v2/models/digits/infer HTTP/1.1', [['Host', host], ['Accept', '*/*'], ['Inference-Header-Content-Length', cpp.length], ['Content-Type', 'application/octet-stream'], ['User-Agent', 'libcurl-agent/1.0'], ['Content-Length', cpp.length + 3136]], Buffer.concat([Buffer.from(cpp), sevenBytes])),
  );
  assert.equal(argmax(probsOf(perf)), 7);
});

test('6. infer(timeout=…) is microseconds (the schedule policy extension), with every option tritonclient sets', async () => {
  const input = '{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}';
  const send = (timeoutUs: number) => {
    const header = `{"id":"req-1","inputs":[${input}],"parameters":{"sequence_id":42,"sequence_start":true,"sequence_end":false,"priority":2,"timeout":${timeoutUs},"binary_data_output":true,"custom":"x"}}`;
    return rawRequest(agent.port, gevent('POST /v2/models/digits/versions/1/infer HTTP/1.1', [['inference-header-content-length', header.length]], Buffer.concat([Buffer.from(header), sevenBytes])));
  };
  const ok = await send(5_000_000);
  assert.equal(splitInferResponse(ok).json.id, 'req-1');
  assert.equal(argmax(probsOf(ok)), 7);
  // With the instance busy for 300 ms, a 20,000 µs (20 ms) deadline passes in the queue: were it
  // read as milliseconds it would be 20 s and the request would succeed.
  assert.equal((await request(`${agent.url}/api/v1/faults/digits/1`, { method: 'PUT', body: { latency_ms: 300 } })).status, 200);
  try {
    const busy = request(`${agent.url}/v2/models/digits/versions/1/infer`, { body: exampleRequest(1) });
    await new Promise((r) => setTimeout(r, 50));
    const late = await send(20_000);
    assert.equal(late.status, 504);
    assert.match(JSON.parse(late.body.toString()).error, /past its 20 ms deadline/);
    assert.equal((await busy).status, 200);
  } finally {
    await request(`${agent.url}/api/v1/faults/digits/1`, { method: 'DELETE' });
  }
});

test('7. statistics, model configuration, repository index, load and unload, logging: the calls tritonclient makes', async () => {
  const get = async (path: string) => {
    const r = await rawRequest(agent.port, gevent(`GET ${path} HTTP/1.1`, []));
    assert.equal(r.status, 200, `${path}: ${r.body.toString()}`);
    return JSON.parse(r.body.toString());
  };
  const server = conforms(metadataServerResponse, await get('/v2'), 'server metadata');
  const wanted = ['binary_tensor_data', 'classification', 'model_repository', 'statistics', 'model_configuration', 'logging'];
  assert.deepEqual(wanted.filter((e) => !server.extensions.includes(e)), []);
  conforms(metadataModelResponse, await get('/v2/models/digits'), 'model metadata');
  const all = conforms(statisticsResponse, await get('/v2/models/stats'), 'statistics');
  assert.deepEqual(all.model_stats.map((s) => `${s.name}/${s.version}`), ['digits/1', 'digits/2', 'digits/3']);
  const one = conforms(statisticsResponse, await get('/v2/models/digits/versions/1/stats'), 'statistics of a version');
  assert.equal(one.model_stats.length, 1);
  assert.ok(one.model_stats[0]!.inference_stats.success.count >= 1);
  const config = conforms(modelConfigResponse, await get('/v2/models/digits/config'), 'model configuration');
  assert.deepEqual([config.max_batch_size, config.input[0]!.dims, config.input[0]!.data_type, config.output[0]!.dims], [64, [784], 'TYPE_FP32', [10]]);
  // get_model_repository_index: POST with no body and, in geventhttpclient 2.0.8, no Content-Length.
  const index = await rawRequest(agent.port, gevent('POST /v2/repository/index HTTP/1.1', []));
  assert.deepEqual(conforms(repositoryIndexResponse, JSON.parse(index.body.toString()), 'index'), [
    { name: 'digits', version: '1', state: 'READY' },
    { name: 'digits', version: '2', state: 'READY' },
    { name: 'digits', version: '3', state: 'READY' },
  ]);
  const load = await rawRequest(agent.port, gevent('POST /v2/repository/models/digits/load HTTP/1.1', [], '{}'));
  assert.equal(load.status, 200, load.body.toString());
  const unload = await rawRequest(agent.port, gevent('POST /v2/repository/models/digits/unload HTTP/1.1', [], '{"parameters":{"unload_dependents":false}}'));
  assert.equal(unload.status, 200, unload.body.toString());
  const gone = conforms(repositoryIndexResponse, JSON.parse((await rawRequest(agent.port, gevent('POST /v2/repository/index HTTP/1.1', []))).body.toString()), 'index');
  assert.deepEqual(gone.map((e) => e.state), ['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE']);
  assert.match(gone[0]!.reason!, /unloaded/);
  const refused = await rawRequest(agent.port, gevent('POST /v2/models/digits/infer HTTP/1.1', [], JSON.stringify(exampleRequest(7))));
  assert.equal(refused.status, 404);
  assert.match(conforms(errorResponse, JSON.parse(refused.body.toString()), 'error').error, /unloaded .*load it with POST \/v2\/repository\/models\/digits\/load/);
  // The C++ client's non-infer POSTs carry curl's form type: still read as the protocol's JSON.
  const cppLoad = await rawRequest(agent.port, requestBytes('POST /v2/repository/models/digits/load HTTP/1.1', [['Host', host], ['Content-Length', 0], ['Content-Type', 'application/x-www-form-urlencoded']]));
  assert.equal(cppLoad.status, 200, cppLoad.body.toString());
  assert.equal(argmax(probsOf(await rawRequest(agent.port, gevent('POST /v2/models/digits/infer HTTP/1.1', [], JSON.stringify(exampleRequest(7)))))), 7);
  // Logging: read, raise to verbose, back.
  const settings = conforms(logSettingsResponse, await get('/v2/logging'), 'log settings');
  assert.deepEqual([settings.log_info, settings.log_verbose_level], [true, 0]);
  const verbose = await rawRequest(agent.port, gevent('POST /v2/logging HTTP/1.1', [], '{"log_verbose_level":1}'));
  assert.equal(conforms(logSettingsResponse, JSON.parse(verbose.body.toString()), 'log settings').log_verbose_level, 1);
  await rawRequest(agent.port, gevent('POST /v2/logging HTTP/1.1', [], '{"log_verbose_level":0}'));
  const bad = await rawRequest(agent.port, gevent('POST /v2/logging HTTP/1.1', [], '{"log_file":"/tmp/x"}'));
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body.toString()).error, /log_file must be ""/);
});

test('8. curl -d @body.json without -H: a form Content-Type and the file without its line breaks', async () => {
  const file = JSON.stringify(exampleRequest(7), null, 2);
  const stripped = file.replace(/[\r\n]/g, ''); // what curl -d does to a file
  const r = await rawRequest(
    agent.port,
    requestBytes('POST /v2/models/digits/infer HTTP/1.1', [['Host', host], ['User-Agent', 'curl/7.88.1'], ['Accept', '*/*'], ['Content-Length', Buffer.byteLength(stripped)], ['Content-Type', 'application/x-www-form-urlencoded']], stripped),
  );
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(argmax(probsOf(r)), 7);
});

test('9. entity inference: response parameters hold scalars only', async () => {
  const r = await rawRequest(agent.port, gevent('POST /v2/models/digits/infer HTTP/1.1', [], '{"parameters":{"entities":["digit-7","digit-3"]}}'));
  assert.equal(r.status, 200, r.body.toString());
  const { json } = splitInferResponse(r);
  conforms(inferenceResponse, json, 'the entity response');
  assert.deepEqual(json.outputs[0].shape, [2, 10]);
});

test('every error answer on the protocol routes is {"error"} with Content-Type application/json', async () => {
  for (const [line, body] of [
    ['POST /v2/models/nope/infer HTTP/1.1', '{}'],
    ['GET /v2/models/nope/stats HTTP/1.1', undefined],
    ['GET /v2/models/digits/versions/9/config HTTP/1.1', undefined],
    ['POST /v2/repository/models/nope/load HTTP/1.1', '{}'],
    ['POST /v2/models/digits/infer HTTP/1.1', '{"inputs":'],
  ] as const) {
    const r = await rawRequest(agent.port, gevent(line, [], body));
    assert.ok(r.status >= 400 && r.status < 500, `${line}: ${r.status}`);
    assert.equal(r.headers['content-type'], 'application/json', line);
    conforms(errorResponse, JSON.parse(r.body.toString()), line);
  }
});
