// The export thread (exportThread.ts): builds the spans of the records the main thread sampled and
// sends them with the SDK's batch processor and OTLP/HTTP protobuf exporter (otelExport.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { ExportItem, ExportReply, ExportWorkerData } from './exportThread.js';
import { OtlpExport } from './otelExport.js';
import type { TraceSettings } from './traceSettings.js';

const data = workerData as ExportWorkerData;
const port = parentPort!;
const reply = (m: ExportReply) => port.postMessage(m);
const otlp = new OtlpExport({
  ...(data.url ? { url: data.url } : {}),
  serviceVersion: data.serviceVersion,
  ...(data.phases ? { phases: data.phases } : {}),
  // Sampled on the main thread already.
  settings: { sample: () => true } as unknown as TraceSettings,
  warn: (message, fields) => reply({ k: 'warn', message, ...(fields ? { fields } : {}) }),
  env: data.env,
  timeOrigin: data.timeOrigin,
});

port.on('message', (m: ExportItem[] | { flush: number }) => {
  if (!Array.isArray(m)) {
    void otlp.flush().then(
      () => reply({ k: 'flushed', id: m.flush }),
      () => reply({ k: 'flushed', id: m.flush }),
    );
    return;
  }
  for (const item of m) {
    if (item.k === 'request') otlp.request(item.r, { receivedAt: item.at, ...(item.tp ? { traceparent: item.tp } : {}) });
    else if (item.k === 'unsampled') otlp.unsampled(item.batch);
    else otlp.batch(item.model, item.version, item.e);
  }
  // The main thread bounds what it hands over by what is not taken yet (the processor's own queue
  // is bounded and drops beyond it).
  reply({ k: 'taken', n: m.length });
});
