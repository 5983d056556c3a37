// Entry point of the request parser thread: parses and validates large JSON infer bodies off the
// main thread (JSON.parse of one 784-pixel digit is a quarter of the main thread's time per
// request, and the main thread is what limits the front door). Same functions, same messages.
import { parentPort } from 'node:worker_threads';
import { InvalidInputError } from '../errors.js';
import { parseInferRequest } from './parseInferRequest.js';
import { parseJson } from './parseJson.js';
import type { ParseJob, ParseResult, ParseTarget } from './parserProtocol.js';

const port = parentPort!;
/** Targets by id; the oldest go first past a bound (a reload makes a new one). */
const targets = new Map<number, ParseTarget>();
const MAX_TARGETS = 1024;

port.on('message', (job: ParseJob) => {
  let result: ParseResult;
  let transfer: ArrayBuffer[] = [];
  try {
    if (job.target) {
      targets.set(job.targetId, job.target);
      if (targets.size > MAX_TARGETS) targets.delete(targets.keys().next().value!);
    }
    const known = targets.get(job.targetId);
    if (!known) {
      port.postMessage({ id: job.id, unknownTarget: true } satisfies ParseResult);
      return;
    }
    const request = parseInferRequest(parseJson(Buffer.from(job.body)), { ...known.target, ...(job.url ? { url: job.url } : {}) }, known.limits);
    transfer = Object.values(request.feeds).flatMap((t) => (Array.isArray(t.data) ? [] : [t.data.buffer as ArrayBuffer]));
    result = { id: job.id, request };
  } catch (err) {
    result = { id: job.id, error: (err as Error).message, invalid: err instanceof InvalidInputError };
  }
  port.postMessage(result, transfer);
});
