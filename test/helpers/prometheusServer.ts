// A real Prometheus (Debian package) on a free loopback port, scraping the given targets.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';
import { waitFor } from './agentProcess.js';

export class PrometheusServer {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    private readonly log: () => string,
  ) {}

  /**
   * Starts Prometheus from a shipped configuration (deploy/prometheus/prometheus.yml), with the
   * target, the token file, the rule files and a 1 s interval put in for the test.
   */
  static async fromConfig(binary: string, config: string, opts: { target: string; tokenFile: string; ruleFiles: string[] }): Promise<PrometheusServer> {
    const text = config
      .replace(/scrape_interval: \S+/, 'scrape_interval: 1s')
      .replace(/evaluation_interval: \S+/, 'evaluation_interval: 1s')
      .replace(/credentials_file: \S+/, `credentials_file: ${opts.tokenFile}`)
      .replace(/targets: \[[^\]]*\]/, `targets: ['${opts.target}']`)
      .replace(/rule_files:\n(\s+- .*\n)+/, `rule_files:\n${opts.ruleFiles.map((f) => `  - ${f}`).join('\n')}\n`);
    return PrometheusServer.launch(binary, text);
  }

  static async start(binary: string, targets: string[], opts: { scrapeIntervalS?: number; token?: string } = {}): Promise<PrometheusServer> {
    const interval = opts.scrapeIntervalS ?? 1;
    return PrometheusServer.launch(
      binary,
      [
        'global:',
        `  scrape_interval: ${interval}s`,
        `  evaluation_interval: ${interval}s`,
        'scrape_configs:',
        '  - job_name: inferscope',
        ...(opts.token ? ['    authorization:', '      type: Bearer', `      credentials: ${opts.token}`] : []),
        '    static_configs:',
        `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
        '',
      ].join('\n'),
    );
  }

  private static async launch(binary: string, config: string): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'inferscope-prom-'));
    const port = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const proc = spawn(
      binary,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const server = new PrometheusServer(proc, dir, `http://127.0.0.1:${port}`, () => log);
    await waitFor(async () => (await fetch(`${server.url}/-/ready`)).ok, 20_000, () => log);
    return server;
  }

  async query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query failed: ${q}`);
    return body.data.result;
  }

  get output(): string {
    return this.log();
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await once(this.proc, 'exit');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
