// GPU metrics from `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`, sampled every few
// seconds (the agent does not link NVML). No nvidia-smi, or "No devices were found": no GPU series
// at all and "no GPU detected" in the status, never made-up numbers. A field nvidia-smi reports as
// [N/A] or [Not Supported] leaves that series out for that GPU. Malformed output, a failing or a
// hung command (killed after a timeout) skips the sample and counts an error; the agent goes on.
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { GpuStatus } from '../../../common/api.js';

export const QUERY_FIELDS = ['index', 'uuid', 'name', 'utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu', 'power.draw', 'mig.mode.current'] as const;

export type GpuDevice = GpuStatus['devices'][number];

export type { GpuStatus };

const MIB = 1024 * 1024;

function field(raw: string): string | undefined {
  const v = raw.trim();
  return v === '' || /^\[.*\]$/.test(v) || v === 'N/A' ? undefined : v; // [N/A], [Not Supported], [Unknown Error]
}

function numberField(raw: string, what: string, line: number): number | undefined {
  const v = field(raw);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`line ${line}: ${what} is "${v}", not a number`);
  return n;
}

/** Parses the CSV (no header, no units). Throws on output that does not have the queried shape. */
export function parseNvidiaSmiCsv(text: string): GpuDevice[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.map((line, i) => {
    let cols = line.split(',');
    // A product name may itself hold commas: it is the only free-text field, between uuid and the
    // six numeric/mode fields at the end.
    if (cols.length > QUERY_FIELDS.length && /^\s*\d+\s*$/.test(cols[0]!)) {
      const tail = QUERY_FIELDS.length - 3;
      cols = [cols[0]!, cols[1]!, cols.slice(2, cols.length - tail).join(','), ...cols.slice(cols.length - tail)];
    }
    if (cols.length !== QUERY_FIELDS.length) throw new Error(`line ${i + 1}: ${cols.length} fields, expected ${QUERY_FIELDS.length}: "${line.slice(0, 80)}"`);
    const index = Number(cols[0]!.trim());
    if (!Number.isInteger(index) || index < 0) throw new Error(`line ${i + 1}: GPU index "${cols[0]!.trim()}" is not a number`);
    const device: GpuDevice = { index, uuid: field(cols[1]!) ?? '', name: field(cols[2]!) ?? 'unknown' };
    const util = numberField(cols[3]!, 'utilization.gpu', i + 1);
    const used = numberField(cols[4]!, 'memory.used', i + 1);
    const total = numberField(cols[5]!, 'memory.total', i + 1);
    const temp = numberField(cols[6]!, 'temperature.gpu', i + 1);
    const power = numberField(cols[7]!, 'power.draw', i + 1);
    const mig = field(cols[8]!);
    if (util !== undefined) device.utilization = util / 100;
    if (used !== undefined) device.memory_used_bytes = used * MIB;
    if (total !== undefined) device.memory_total_bytes = total * MIB;
    if (temp !== undefined) device.temperature_celsius = temp;
    if (power !== undefined) device.power_watts = power;
    if (mig !== undefined) device.mig_mode = mig;
    return device;
  });
}

export interface GpuSamplerOptions {
  command: string;
  intervalMs: number;
  timeoutMs: number;
}

export class GpuSampler extends EventEmitter<{ sample: [GpuStatus]; error: [string] }> {
  private state: GpuStatus = { detected: false, message: 'no GPU detected (not sampled yet)', devices: [], sampled_at: null, errors: 0, last_error: null };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** nvidia-smi is missing or sees no device: nothing to sample. */
  private absent = false;

  constructor(private readonly opts: GpuSamplerOptions) {
    super();
  }

  get status(): GpuStatus {
    return this.state;
  }

  /** Samples now, then every intervalMs while a GPU is there. */
  async start(): Promise<void> {
    await this.sampleOnce();
    if (this.stopped || this.absent) return;
    this.timer = setInterval(() => void this.sampleOnce(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  async sampleOnce(): Promise<void> {
    const args = [`--query-gpu=${QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
    const result = await new Promise<{ err: (Error & { code?: string | number; killed?: boolean }) | null; stdout: string }>((resolve) => {
      execFile(this.opts.command, args, { timeout: this.opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 }, (err, stdout) =>
        resolve({ err: err as (Error & { code?: string | number; killed?: boolean }) | null, stdout: String(stdout) }),
      );
    });
    if (result.err?.code === 'ENOENT') {
      this.absent = true;
      this.state = { ...this.state, detected: false, devices: [], message: `no GPU detected (${this.opts.command} not found)` };
      return;
    }
    if (result.err && /No devices were found/i.test(result.stdout + result.err.message)) {
      this.absent = true;
      this.state = { ...this.state, detected: false, devices: [], message: 'no GPU detected (nvidia-smi: No devices were found)' };
      return;
    }
    try {
      if (result.err) {
        throw new Error(result.err.killed ? `nvidia-smi did not answer within ${this.opts.timeoutMs} ms` : `nvidia-smi failed: ${result.err.message.split('\n')[0]}`);
      }
      const devices = parseNvidiaSmiCsv(result.stdout);
      if (devices.length === 0) throw new Error('nvidia-smi printed no GPU lines');
      this.state = {
        ...this.state,
        detected: true,
        devices,
        message: `${devices.length} GPU${devices.length > 1 ? 's' : ''}: ${[...new Set(devices.map((d) => d.name))].join(', ')}`,
        sampled_at: Date.now(),
      };
      this.emit('sample', this.state);
    } catch (err) {
      // Skip this sample; keep the last good one (real, if older), count the error.
      this.state = { ...this.state, errors: this.state.errors + 1, last_error: (err as Error).message };
      this.emit('error', (err as Error).message);
    }
  }
}
