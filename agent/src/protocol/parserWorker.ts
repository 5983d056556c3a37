// Entry point of the request parser thread: parses and validates large JSON infer bodies off the
// main thread (JSON.parse of one 784-pixel digit is a quarter of the main thread's time per
// request, and the main thread is what limits the front door). Same functions, same messages.
import { parentPort } from 'node:worker_threads';
import { InvalidInputError } from '../errors.js';
import { parseInferRequest } from './parseInferRequest.js';
import { parseJson } from './parseJson.js';
import type { ParseJob, ParseResult } from './parserProtocol.js';

const port = parentPort!;

port.on('message', (job: ParseJob) => {
  let result: ParseResult;
  let transfer: ArrayBuffer[] = [];
  try {
    const request = parseInferRequest(parseJson(Buffer.from(job.body)), job.target, job.limits);
    transfer = Object.values(request.feeds).flatMap((t) => (Array.isArray(t.data) ? [] : [t.data.buffer as ArrayBuffer]));
    result = { id: job.id, request };
  } catch (err) {
    result = { id: job.id, error: (err as Error).message, invalid: err instanceof InvalidInputError };
  }
  port.postMessage(result, transfer);
});
