// Entry point of an inference worker thread: one ONNX Runtime session, runs requested by the main
// thread. session.run() blocks the thread that calls it, which is why it lives here.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromWorker, IoMetadata, ToWorker, WorkerInit } from './workerProtocol.js';
import type { TensorValues, WireTensor } from './tensorTypes.js';

const init = workerData as WorkerInit;
// ONNX Runtime's process-wide logger prints a red error line for every provider library it cannot
// open (CUDA on a machine without it). The fallback is expected and logged by the agent itself.
ort.env.logLevel = 'fatal';
const port = parentPort!;

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
        const outputs: Record<string, WireTensor> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, tensor] of Object.entries(result)) {
          const wire = toWire(tensor);
          outputs[name] = wire;
          if (!Array.isArray(wire.data) && wire.data.buffer instanceof ArrayBuffer) transfer.push(wire.data.buffer);
        }
        send({ type: 'result', id: message.id, outputs }, dedupe(transfer));
      },
      (err: Error) => send({ type: 'run_failed', id: message.id, message: err.message }),
    );
  });
}

function dedupe(buffers: ArrayBuffer[]): ArrayBuffer[] {
  return [...new Set(buffers)];
}

void main();
