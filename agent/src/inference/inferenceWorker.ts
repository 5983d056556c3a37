// Entry point of an inference worker thread: one ONNX Runtime session, runs requested by the main
// thread. session.run() blocks the thread that calls it, which is why it lives here.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromWorker, IoMetadata, RunFailure, ToWorker, WorkerInit } from './workerProtocol.js';
import type { TensorValues, WireTensor } from './tensorTypes.js';

const init = workerData as WorkerInit;
// ONNX Runtime's process-wide logger prints a red error line for every provider library it cannot
// open (CUDA on a machine without it). The fallback is expected and logged by the agent itself.
ort.env.logLevel = 'fatal';
const port = parentPort!;

// A refused output (hundreds of MB) lives in a JavaScript buffer of this thread, which is idle
// between runs: nothing would make V8 collect it for a long time (measured: 400 MB kept until the
// next runs). Collecting right after the refusal gives it back. The flag is process-wide and
// instances start concurrently, so it is only ever turned on (turning it off raced another
// thread's look-up); a context made after it has `gc`.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): IoMetadata[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: [...m.shape] }
      : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

/** Tries the configured providers in order; the first that creates a session wins. */
async function createSession(): Promise<{ session: ort.InferenceSession; provider: string; rejected: string[] }> {
  const rejected: string[] = [];
  for (const provider of init.executionProviders) {
    try {
      const session = await ort.InferenceSession.create(init.modelPath, {
        executionProviders: [provider],
        intraOpNumThreads: init.intraOpThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Without the arena, memory of a run goes back to the system when the run is done: one
        // request with a huge output (a 1.6 GB ConstantOfShape) otherwise stays in the worker for
        // good. Measured on digits: no slower at batch 1, faster at batch 64 (.tmp/arena.mts).
        enableCpuMemArena: false,
      });
      return { session, provider, rejected };
    } catch (err) {
      rejected.push(`${provider}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no execution provider could load ${init.modelPath}: ${rejected.join('; ')}`);
}

function toWire(tensor: ort.Tensor): WireTensor {
  return { type: tensor.type as WireTensor['type'], dims: [...tensor.dims], data: tensor.data as TensorValues };
}

async function main(): Promise<void> {
  let loaded: Awaited<ReturnType<typeof createSession>>;
  try {
    loaded = await createSession();
  } catch (err) {
    send({ type: 'load_failed', message: (err as Error).message });
    return;
  }
  const { session } = loaded;
  send({
    type: 'loaded',
    provider: loaded.provider,
    rejectedProviders: loaded.rejected,
    inputs: describe(session.inputMetadata),
    outputs: describe(session.outputMetadata),
  });

  port.on('message', (message: ToWorker) => {
    if (message.type !== 'run') return;
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(message.feeds)) {
      feeds[name] = new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
    }
    session.run(feeds, message.outputNames).then(
      (result) => {
        const over = message.maxOutputElements > 0 ? Object.entries(result).find(([, t]) => t.size > message.maxOutputElements) : undefined;
        if (over) {
          const [name, t] = over;
          send({ type: 'run_failed', id: message.id, reason: 'output_too_large', message: `output '${name}' has ${t.size} elements [${t.dims.join(', ')}]` });
          setImmediate(collectGarbage);
          return;
        }
        const outputs: Record<string, WireTensor> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, tensor] of Object.entries(result)) {
          const wire = toWire(tensor);
          outputs[name] = wire;
          if (!Array.isArray(wire.data) && wire.data.buffer instanceof ArrayBuffer) transfer.push(wire.data.buffer);
        }
        send({ type: 'result', id: message.id, outputs }, dedupe(transfer));
      },
      (err: Error) => send({ type: 'run_failed', id: message.id, reason: failureOf(err.message), message: err.message }),
    );
  });
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

function dedupe(buffers: ArrayBuffer[]): ArrayBuffer[] {
  return [...new Set(buffers)];
}

void main();
