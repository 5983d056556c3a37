// The hot path: POST /v2/models/{m}[/versions/{v}]/infer on plain node:http, outside express's
// generic machinery (router, middleware chain, body-parser streams), with the same guards in the
// same order as every other route: Host, token, drain, then the route's own checks (unknown model,
// full queue) before a byte of the body is read; then the body, within its limits.
//
// Like Triton, the body is not judged by its Content-Type (tritonclient sends none, its asyncio
// client sends application/octet-stream, curl -d sends a form type): it is the protocol's JSON,
// followed by binary tensor data when Inference-Header-Content-Length says where the JSON ends.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Cancellation } from '../batching/cancellation.js';
import { InvalidInputError } from '../errors.js';
import type { BuiltResponse } from '../protocol/buildInferResponse.js';
import { outcomeOf } from '../serving/inferenceService.js';
import { RequestTrace } from '../tracing/requestTrace.js';
import type { AppDeps } from './appDeps.js';
import { readBody, type BodyLimits } from './bodyReader.js';
import type { RequestCheck } from './security.js';
import { sendError } from './sendError.js';

// Express matches routes case-insensitively and with an optional trailing slash: so does this.
export const INFER_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer\/?$/i;
/** The route label of /metrics, as express names the pattern. */
export const INFER_ROUTE = '/v2/models/:model{/versions/:version}/infer';

const HEADER_LENGTH = 'inference-header-content-length';

export function inferRoute(deps: AppDeps, guards: RequestCheck[], limits: BodyLimits) {
  const { models, inference, drain, metrics, logger, requests } = deps;
  return (req: IncomingMessage, res: ServerResponse, path: string, match: RegExpExecArray): void => {
    const trace = requests.enabled ? new RequestTrace('rest', match[1]!, match[2]) : undefined;
    if (trace && requests.exporter) trace.traceparent = req.headers.traceparent;
    // One listener does the bookkeeping of the end (metrics, the drain, the request's record), and
    // a client that disconnected early has its queued request removed before it runs.
    const cancel = new Cancellation();
    res.once('close', () => {
      drain.detach(res);
      if (res.writableFinished) metrics.onHttp('POST', INFER_ROUTE, res.statusCode);
      else {
        cancel.cancel();
        if (trace?.outcome === 'success') trace.failed('cancelled', 'the client closed the connection before the answer');
      }
      if (trace) requests.record(trace.finish(res.writableFinished ? res.statusCode : 499), trace);
    });
    let model: string;
    let version: string | undefined;
    const fail = (err: unknown) => {
      if (trace?.outcome === 'success') trace.failed(outcomeOf(err), (err as Error)?.message ?? String(err));
      sendError(req, res, err, logger);
    };
    try {
      for (const check of guards) check(req, path);
      drain.track(res, path);
      model = decode(match[1]!);
      version = match[2] === undefined ? undefined : decode(match[2]);
      if (trace) {
        trace.model = model;
        if (version !== undefined) trace.version = version;
      }
      // Unknown model or version, one not ready, a full queue: answered before the body is read.
      models.resolve(model, version).batcher.checkCapacity();
    } catch (err) {
      return fail(err);
    }
    readBody(req, res, limits)
      .then((body) => {
        trace?.mark('body_read_ms');
        const { json, binary } = splitBody(body, req.headers[HEADER_LENGTH]);
        return inference.infer(model, version, { json, ...(binary ? { binary } : {}) }, cancel, trace);
      })
      .then((built) => sendInferResponse(res, built), fail);
  };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidInputError(`the URL segment "${segment}" is not valid percent-encoding`);
  }
}

/** The binary tensor data extension: the first N bytes are the JSON, the rest tensor data. */
export function splitBody(body: Buffer, headerLength: string | string[] | undefined): { json: Buffer; binary?: Buffer } {
  if (headerLength === undefined) return { json: body };
  const n = Array.isArray(headerLength) || !/^[0-9]+$/.test(headerLength) ? NaN : Number(headerLength);
  if (!Number.isSafeInteger(n) || n > body.length) {
    throw new InvalidInputError(`Inference-Header-Content-Length is ${JSON.stringify(headerLength)}, but the body has ${body.length} bytes; it must be the length of the JSON part`);
  }
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

/** JSON, or JSON followed by the binary outputs (Content-Type application/octet-stream). */
export function sendInferResponse(res: ServerResponse, built: BuiltResponse): void {
  const json = JSON.stringify(built.response);
  if (built.binary.length === 0) {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
    res.end(json);
    return;
  }
  // One buffer, one allocation: the JSON header, then each binary output.
  const headerLength = Buffer.byteLength(json);
  const body = Buffer.allocUnsafe(headerLength + built.binary.reduce((n, b) => n + b.byteLength, 0));
  let at = body.write(json, 0, 'utf8');
  for (const b of built.binary) {
    body.set(b, at);
    at += b.byteLength;
  }
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': headerLength,
    'Content-Length': body.length,
  });
  res.end(body);
}
