// What both kinds of inference thread do with an ONNX Runtime session: create it on one provider,
// describe its inputs and outputs, run a batch and turn the result (or failure) into a message.
// The per-instance worker (inferenceWorker.ts) holds one session; the device thread
// (deviceWorker.ts) holds every session placed on its GPU.
import * as ort from 'onnxruntime-node';
import type { ProviderSpec } from '../repository/modelConfig.js';
import type { TensorValues, WireTensor } from './tensorTypes.js';
import type { IoMetadata, RunFailure } from './workerProtocol.js';

export function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): IoMetadata[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

export function createSession(modelPath: string, provider: ProviderSpec, intraOpThreads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: [{ ...provider.options, name: provider.name } as ort.InferenceSession.ExecutionProviderConfig],
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Without the arena, memory of a run goes back to the system when the run is done: one
    // request with a huge output (a 1.6 GB ConstantOfShape) otherwise stays in the worker for
    // good. Measured on digits: no slower at batch 1, faster at batch 64 (.tmp/arena.mts).
    enableCpuMemArena: false,
  });
}

/**
 * ONNX Runtime's message without what is only for its developers: the lines after the first, and
 * the source location and failed condition before the words meant for a user ("…/webgpu_context.cc:136
 * …<lambda()> adapter_result.status == …Success was false. Failed to get a WebGPU adapter: …").
 */
export function firstLine(err: unknown): string {
  const line = String((err as Error)?.message ?? err).split('\n')[0]!.trim();
  const located = /^\S+\.(?:cc|cpp|h):\d+ .*? was false\. (.+)$/.exec(line);
  return located ? located[1]! : line;
}

export type RunOutcome =
  | { ok: true; outputs: Record<string, WireTensor>; transfer: ArrayBuffer[]; busyMs: number }
  | { ok: false; reason: RunFailure; message: string; busyMs: number; collect?: boolean };

/** Runs one batch; an output over `maxOutputElements` (0: no bound) is refused, never sent. */
export async function runBatch(session: ort.InferenceSession, feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements: number): Promise<RunOutcome> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) tensors[name] = new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
  const started = performance.now();
  let result: ort.InferenceSession.ReturnType;
  try {
    result = await session.run(tensors, outputNames);
  } catch (err) {
    const message = (err as Error).message;
    return { ok: false, reason: failureOf(message), message, busyMs: performance.now() - started };
  }
  const busyMs = performance.now() - started;
  const over = maxOutputElements > 0 ? Object.entries(result).find(([, t]) => t.size > maxOutputElements) : undefined;
  if (over) {
    const [name, t] = over;
    return { ok: false, reason: 'output_too_large', message: `output '${name}' has ${t.size} elements [${t.dims.join(', ')}]`, busyMs, collect: true };
  }
  const outputs: Record<string, WireTensor> = {};
  const transfer = new Set<ArrayBuffer>();
  for (const [name, tensor] of Object.entries(result)) {
    const wire: WireTensor = { type: tensor.type as WireTensor['type'], dims: [...tensor.dims], data: tensor.data as TensorValues };
    outputs[name] = wire;
    if (!Array.isArray(wire.data) && wire.data.buffer instanceof ArrayBuffer) transfer.add(wire.data.buffer);
  }
  return { ok: true, outputs, transfer: [...transfer], busyMs };
}

/**
 * ONNX Runtime checks the feeds against the graph before running any node; these are its
 * messages for that (names, ranks, fixed dimensions, element types), and the JavaScript binding's
 * own. Everything else happened while a node ran: the model's failure.
 */
const INPUT_CHECKS = [
  /^Invalid rank for input/,
  /^Got invalid dimensions for input/,
  /^Unexpected input data type/,
  /^Invalid (Feed Input|input|Output) Name/i,
  /is missing in 'feeds'/,
  /^Tensor\.dims\[\d+\] is invalid/,
];

function failureOf(message: string): RunFailure {
  return INPUT_CHECKS.some((re) => re.test(message)) ? 'input' : 'model';
}
