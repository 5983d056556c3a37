// The Metrics panel's GPU section on a fleet, from a real Prometheus scraping two real agents: one
// with GPUs (the nvidia-smi stand-in printing output of two H100s; no GPU here), one without. The
// whole fleet's charts carry no GPU series and say to select a replica; one replica's carry its own
// GPUs by index; the replica without GPUs says it exports none.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SERIES } from '../../common/panelProtocol.js';
import { FLEET_GPU_MESSAGE } from '../../extension/src/fleet/fleetGpus.js';
import { FleetMetrics } from '../../extension/src/fleet/fleetMetrics.js';
import { PrometheusClient } from '../../extension/src/fleet/prometheusQuery.js';
import { ROOT, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { PrometheusServer } from '../helpers/prometheusServer.js';
import { requireBinary } from '../helpers/systemBinary.js';

const prometheusBin = requireBinary('prometheus', 'prometheus');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'nvidia-smi');
const MIB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'inferscope-fleetgpu-'));
const agents: AgentProcess[] = [];
let prometheus: PrometheusServer | undefined;
let withGpus = '';
let without = '';

function config(extra: object): string {
  const file = join(dir, `agent-${agents.length}.json`);
  writeFileSync(file, JSON.stringify({ gpu_sample_interval_s: 1, ...extra }));
  return file;
}

before(async () => {
  if ('skip' in prometheusBin) return;
  agents.push(await startAgent({ args: ['--config', config({ nvidia_smi: join(FIXTURES, 'fake-nvidia-smi') })], env: { FAKE_NVIDIA_SMI_FILE: join(FIXTURES, 'multi-gpu.csv') } }));
  agents.push(await startAgent({ args: ['--config', config({ nvidia_smi: join(dir, 'missing', 'nvidia-smi') })] }));
  [withGpus, without] = agents.map((a) => `127.0.0.1:${a.port}`) as [string, string];
  prometheus = await PrometheusServer.start(prometheusBin.path, [withGpus, without]);
  await waitFor(async () => (await prometheus!.query('inferscope_gpu_info')).length === 2 && (await prometheus!.query('up == 1')).length === 2, 30_000, () => prometheus!.output);
});

after(async () => {
  await prometheus?.stop();
  await Promise.all(agents.map((a) => a.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test("a fleet's GPU section: none for the whole fleet; one replica's GPUs by index; a replica without GPUs says so", async (t) => {
  if ('skip' in prometheusBin) return t.skip(prometheusBin.skip);
  const fleet = new FleetMetrics(new PrometheusClient(prometheus!.url), () => 1);
  const gpuKeys = (values: Record<string, number>) => Object.keys(values).filter((k) => k.startsWith('gpu'));

  const whole = await fleet.point(undefined, Date.now());
  assert.equal(whole.gpus.message, FLEET_GPU_MESSAGE);
  assert.deepEqual(whole.gpus.devices, []);
  assert.deepEqual(gpuKeys(whole.point.values), [], 'GPU indexes are per machine: no fleet-wide GPU series');

  fleet.replica = withGpus;
  const one = await fleet.point(undefined, Date.now());
  assert.deepEqual(
    one.gpus.devices.map((d) => [d.index, d.name, d.uuid, d.utilization, d.memory_used_bytes, d.memory_total_bytes, d.mig_mode]),
    [
      [0, 'NVIDIA H100 80GB HBM3', 'GPU-1a2b3c4d-0000-1111-2222-333344445555', 0.87, 61440 * MIB, 81559 * MIB, 'Disabled'],
      [1, 'NVIDIA H100 80GB HBM3', 'GPU-1a2b3c4d-0000-1111-2222-333344446666', 0.12, 1024 * MIB, 81559 * MIB, 'Disabled'],
    ],
  );
  assert.equal(one.gpus.message, `${withGpus}: 2 GPUs: NVIDIA H100 80GB HBM3`);
  assert.equal(one.point.values[SERIES.gpuUtilization(0)], 0.87);
  assert.equal(one.point.values[SERIES.gpuUtilization(1)], 0.12);
  assert.equal(one.point.values[SERIES.gpuMemoryBytes(0)], 61440 * MIB);

  fleet.replica = without;
  const bare = await fleet.point(undefined, Date.now());
  assert.deepEqual(bare.gpus.devices, []);
  assert.match(bare.gpus.message, new RegExp(`^${without.replace(/\./g, '\\.')}: no GPU metrics`));
  assert.deepEqual(gpuKeys(bare.point.values), []);
});
