// Entry point of an inference worker thread: one ONNX Runtime session on the CPU provider, runs
// requested by the main thread. session.run() blocks the thread that calls it, which is why it
// lives here. (Sessions on a GPU provider live in the device thread: deviceWorker.ts.)
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { createSession, describe, firstLine, runBatch } from './sessionRunner.js';
import type { FromWorker, ToWorker, WorkerInit } from './workerProtocol.js';

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

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await createSession(init.modelPath, init.provider, init.intraOpThreads);
  } catch (err) {
    send({ type: 'load_failed', message: firstLine(err) });
    return;
  }
  send({ type: 'loaded', provider: init.provider.name, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });

  port.on('message', (message: ToWorker) => {
    if (message.type !== 'run') return;
    void runBatch(session, message.feeds, message.outputNames, message.maxOutputElements).then((r) => {
      if (r.ok) return send({ type: 'result', id: message.id, outputs: r.outputs, busyMs: r.busyMs }, r.transfer);
      send({ type: 'run_failed', id: message.id, reason: r.reason, message: r.message, busyMs: r.busyMs });
      if (r.collect) setImmediate(collectGarbage);
    });
  });
}

void main();
