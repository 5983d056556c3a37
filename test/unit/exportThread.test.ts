// The main thread's side of the OTLP export thread (issue 17): what it hands over is bounded by what
// the thread has not taken yet (a starved or stuck thread drops spans, warns once, and holds no
// memory), and nothing is handed over while the trace level is OFF. The thread is a stand-in that
// takes nothing; the real one is tested end to end in test/integration/otlpExport.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RequestRecord } from '../../common/api.js';
import { ExportThread } from '../../agent/src/tracing/exportThread.js';
import { RequestTrace } from '../../agent/src/tracing/requestTrace.js';
import { TraceSettings } from '../../agent/src/tracing/traceSettings.js';

const STUCK = join(__dirname, '..', 'fixtures', 'stuckExportWorker.js');

function finished(): { r: RequestRecord; t: RequestTrace } {
  const t = new RequestTrace('rest', 'digits', '1');
  t.batchId = 'b1';
  return { r: t.finish(200), t };
}

async function handedOver(thread: ExportThread, warnings: { message: string; fields?: Record<string, unknown> }[]): Promise<number> {
  assert.equal(await thread.flush(5000), true);
  const count = warnings.filter((w) => w.message === 'count').at(-1);
  return count!.fields!.items as number;
}

test('a thread that takes nothing gets at most maxQueued items; the rest are dropped with one warning', async () => {
  const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
  const thread = new ExportThread(STUCK, { serviceVersion: 't', settings: new TraceSettings(true), warn: (message, fields) => warnings.push({ message, fields }), maxItems: 2, maxQueued: 4 });
  try {
    for (let i = 0; i < 10; i++) {
      const { r, t } = finished();
      thread.request(r, t);
    }
    assert.equal(await handedOver(thread, warnings), 4);
    const dropped = warnings.filter((w) => /spans dropped/.test(w.message));
    assert.equal(dropped.length, 1, 'one warning, not one per request');
  } finally {
    await thread.shutdown(1000);
  }
});

test('with the trace level OFF nothing is handed over, not even the batch accounting', async () => {
  const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
  const settings = new TraceSettings(true);
  settings.update({ trace_level: ['OFF'] });
  const thread = new ExportThread(STUCK, { serviceVersion: 't', settings, warn: (message, fields) => warnings.push({ message, fields }), maxItems: 1 });
  try {
    const { r, t } = finished();
    thread.request(r, t);
    thread.batch('digits', '1', { id: 'b1', reason: 'instance_idle', queueDepth: 0, requestIds: [r.id], dispatchedAt: 0, rows: 1, requests: 1, inputS: 0, inferS: 0, outputS: 0, computeS: 0, ok: true });
    assert.equal(await handedOver(thread, warnings), 0);
  } finally {
    await thread.shutdown(1000);
  }
});
