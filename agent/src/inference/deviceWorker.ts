// Entry point of a device thread: every ONNX Runtime session of the process on one GPU provider
// lives here. ONNX Runtime keeps one WebGPU context per process, and sessions created or run at
// the same time from two threads crash the process (SIGSEGV, measured with digits v1 and v2): on
// one thread, one call at a time, they do not. The main thread decides the order of batches
// (deviceScheduler.ts); this thread runs what it is sent, one ONNX Runtime call after another.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromDevice, ToDevice } from './deviceProtocol.js';
import { createSession, describe, firstLine, runBatch } from './sessionRunner.js';

ort.env.logLevel = 'fatal';
const port = parentPort!;
setFlagsFromString('--expose-gc'); // see inferenceWorker.ts
const collectGarbage = runInNewContext('gc') as () => void;

const sessions = new Map<string, ort.InferenceSession>();
/** One ONNX Runtime call at a time: a load never overlaps a run. */
let chain: Promise<void> = Promise.resolve();

function send(message: FromDevice, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function handle(m: ToDevice): Promise<void> {
  switch (m.type) {
    case 'load': {
      try {
        const session = await createSession(m.modelPath, m.provider, m.intraOpThreads);
        sessions.set(m.key, session);
        send({ type: 'loaded', key: m.key, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });
      } catch (err) {
        send({ type: 'load_failed', key: m.key, message: firstLine(err) });
      }
      return;
    }
    case 'unload': {
      const session = sessions.get(m.key);
      sessions.delete(m.key);
      await session?.release().catch(() => {});
      send({ type: 'unloaded', key: m.key });
      return;
    }
    case 'run': {
      const session = sessions.get(m.key);
      if (!session) return send({ type: 'run_failed', id: m.id, reason: 'model', message: `no session for ${m.key} on this device`, busyMs: 0 });
      const r = await runBatch(session, m.feeds, m.outputNames, m.maxOutputElements);
      if (r.ok) return send({ type: 'result', id: m.id, outputs: r.outputs, busyMs: r.busyMs }, r.transfer);
      send({ type: 'run_failed', id: m.id, reason: r.reason, message: r.message, busyMs: r.busyMs });
      if (r.collect) setImmediate(collectGarbage);
    }
  }
}

port.on('message', (m: ToDevice) => {
  chain = chain.then(() => handle(m));
});
