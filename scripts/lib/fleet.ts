// A local fleet on loopback: N agents (the built bundle) sharing one config, one token and one
// redis-server for the digits model's features, nginx in front of them and a Prometheus scraping
// each of them. Every process is started detached (it outlives `npm run fleet`) and recorded in
// <dir>/fleet.json; stopping reads that file and signals exactly those processes, after checking
// that each pid still runs the command line it was started with (a pid the system gave to another
// program since is left alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadIntoRedis, readDemoFeatures } from './demoFeatures.js';
import { nginxConfig, prometheusConfig } from './fleetConfig.js';
import { alive, freePort } from './processes.js';

export const ROOT = resolve(__dirname, '..', '..');
export const AGENT_MAIN = join(ROOT, 'dist', 'agent', 'main.js');
export const DEFAULT_FLEET_DIR = join(ROOT, '.fleet');
export const FEATURE_PREFIX = 'inferscope:digits:';

export interface ProcessRecord {
  name: string;
  pid: number;
  /** argv as started; /proc/<pid>/cmdline must still contain `marker` for a stop to signal it. */
  argv: string[];
  marker: string;
  log: string;
}

export interface ReplicaRecord extends ProcessRecord {
  port: number;
  grpcPort: number;
}

export interface FleetState {
  dir: string;
  startedAt: string;
  tokenFile: string;
  lbUrl: string;
  lbGrpc?: string;
  prometheusUrl: string;
  redisUrl: string;
  replicas: ReplicaRecord[];
  nginx: ProcessRecord;
  redis: ProcessRecord;
  prometheus: ProcessRecord;
}

export interface FleetOptions {
  replicas: number;
  dir?: string;
  /** Load balancer port (0: a free one). */
  port?: number;
  scrapeIntervalS?: number;
  drainTimeoutS?: number;
  /** The digits model's feature-cache TTL (default 60 s; 0: every entity lookup goes to Redis). */
  featureTtlMs?: number;
  nginxBinary?: string;
  redisBinary?: string;
  prometheusBinary?: string;
  log?: (line: string) => void;
}

export function statePath(dir: string): string {
  return join(dir, 'fleet.json');
}

export function readState(dir: string): FleetState | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as FleetState;
}


/** True while `pid` runs and its command line still holds the marker it was started with. */
export function stillOurs(rec: ProcessRecord): boolean {
  if (!alive(rec.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmdline.includes(rec.marker);
  } catch {
    return false; // no /proc: refuse to signal a pid we cannot identify
  }
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await cond()) return;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) throw new Error(`${(err as Error).message}\n${detail()}`);
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const tail = (file: string, n = 2000) => {
  try {
    const t = readFileSync(file, 'utf8');
    return t.slice(-n);
  } catch {
    return '';
  }
};

/** Starts a detached process whose stdout and stderr go to `log`. */
function launch(name: string, argv: string[], log: string, marker: string, env: NodeJS.ProcessEnv = process.env): { rec: ProcessRecord; proc: ChildProcess } {
  const fd = openSync(log, 'a');
  const proc = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  proc.unref();
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${argv[0]})`);
  return { rec: { name, pid: proc.pid, argv, marker, log }, proc };
}

export class Fleet {
  /** Child handles of the processes this object started (absent for a fleet read from its state file). */
  private readonly procs = new Map<number, ChildProcess>();

  private constructor(readonly state: FleetState, private readonly token: string) {}

  get authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  get tokenValue(): string {
    return this.token;
  }

  replicaUrl(i: number): string {
    return `http://127.0.0.1:${this.state.replicas[i]!.port}`;
  }

  static open(dir: string): Fleet {
    const state = readState(dir);
    if (!state) throw new Error(`no fleet recorded in ${statePath(dir)}`);
    return new Fleet(state, readFileSync(state.tokenFile, 'utf8').trim());
  }

  static async start(opts: FleetOptions): Promise<Fleet> {
    const log = opts.log ?? (() => {});
    const dir = resolve(opts.dir ?? DEFAULT_FLEET_DIR);
    const previous = readState(dir);
    if (previous && [...previous.replicas, previous.nginx, previous.redis, previous.prometheus].some(stillOurs)) {
      throw new Error(`a fleet is already running from ${dir}; stop it first (npm run fleet -- --down)`);
    }
    if (!existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: run npm run build first`);
    rmSync(dir, { recursive: true, force: true });
    for (const sub of ['logs', 'nginx/logs', 'nginx/tmp', 'prometheus', 'redis']) mkdirSync(join(dir, sub), { recursive: true });

    const token = randomBytes(24).toString('hex');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
    const fleet = new Fleet(
      {
        dir,
        startedAt: new Date().toISOString(),
        tokenFile,
        lbUrl: '',
        prometheusUrl: '',
        redisUrl: '',
        replicas: [],
        nginx: undefined as unknown as ProcessRecord,
        redis: undefined as unknown as ProcessRecord,
        prometheus: undefined as unknown as ProcessRecord,
      },
      token,
    );
    const save = () => writeFileSync(statePath(dir), JSON.stringify(fleet.state, null, 2) + '\n');
    try {
      // Redis first: the agents' features live there.
      const redisPort = await freePort();
      const redis = launch(
        'redis',
        [opts.redisBinary ?? 'redis-server', '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', join(dir, 'redis')],
        join(dir, 'logs', 'redis.log'),
        // redis-server rewrites its process title to "redis-server <bind>:<port>".
        `127.0.0.1:${redisPort}`,
      );
      fleet.track(redis);
      fleet.state.redis = redis.rec;
      fleet.state.redisUrl = `redis://127.0.0.1:${redisPort}`;
      save();
      await waitUntil(() => tail(redis.rec.log).includes('Ready to accept connections'), 10_000, 'redis-server ready', () => tail(redis.rec.log));
      const n = await loadIntoRedis(fleet.state.redisUrl, FEATURE_PREFIX, readDemoFeatures(join(ROOT, 'models', 'digits', 'features')));
      log(`redis: ${n} demo entities loaded as ${FEATURE_PREFIX}<id>`);

      // One model repository and one config for every replica: the digits model reads its features from Redis.
      const repo = join(dir, 'models');
      cpSync(join(ROOT, 'models'), repo, { recursive: true });
      const modelConfigFile = join(repo, 'digits', 'config.json');
      const modelConfig = JSON.parse(readFileSync(modelConfigFile, 'utf8')) as Record<string, unknown>;
      modelConfig.features = { source: 'redis', url: fleet.state.redisUrl, key_prefix: FEATURE_PREFIX, timeout_ms: 300, ttl_ms: opts.featureTtlMs ?? 60_000, negative_ttl_ms: 1000, stale_ms: 0, max_entries: 10_000 };
      writeFileSync(modelConfigFile, JSON.stringify(modelConfig, null, 2) + '\n');
      // The fleet's Prometheus is a source canaries may name (a canary with the Prometheus source judges the whole fleet).
      const promPort = await freePort();
      const agentSettings = { models: repo, host: '127.0.0.1', drain_timeout_s: opts.drainTimeoutS ?? 10, log_level: 'info', prometheus_urls: [`http://127.0.0.1:${promPort}`] };
      writeFileSync(join(dir, 'agent.json'), JSON.stringify(agentSettings, null, 2) + '\n');

      for (let i = 0; i < opts.replicas; i++) {
        fleet.state.replicas.push({ name: `replica-${i}`, pid: 0, argv: [], marker: '', log: '', port: await freePort(), grpcPort: await freePort() });
      }
      await Promise.all(fleet.state.replicas.map((_, i) => fleet.startReplica(i, { wait: false })));
      save();
      await Promise.all(fleet.state.replicas.map((_, i) => fleet.waitReplicaReady(i)));
      log(`replicas: ${fleet.state.replicas.map((r) => `127.0.0.1:${r.port}`).join(', ')} ready`);

      const lbPort = opts.port || (await freePort());
      const lbGrpcPort = await freePort();
      const nginxPrefix = join(dir, 'nginx');
      const conf = join(nginxPrefix, 'nginx.conf');
      writeFileSync(
        conf,
        nginxConfig({
          prefix: nginxPrefix,
          listenPort: lbPort,
          grpcListenPort: lbGrpcPort,
          replicas: fleet.state.replicas.map((r) => ({ host: '127.0.0.1', port: r.port })),
          grpcReplicas: fleet.state.replicas.map((r) => ({ host: '127.0.0.1', port: r.grpcPort })),
        }),
      );
      const nginx = launch('nginx', [opts.nginxBinary ?? 'nginx', '-p', nginxPrefix + '/', '-c', conf, '-e', join(nginxPrefix, 'logs', 'error.log'), '-g', 'daemon off;'], join(dir, 'logs', 'nginx.log'), conf);
      fleet.track(nginx);
      fleet.state.nginx = nginx.rec;
      fleet.state.lbUrl = `http://127.0.0.1:${lbPort}`;
      fleet.state.lbGrpc = `127.0.0.1:${lbGrpcPort}`;
      save();
      await waitUntil(
        async () => (await fetch(`${fleet.state.lbUrl}/v2/health/ready`)).status === 200,
        10_000,
        'nginx answering',
        () => tail(nginx.rec.log) + tail(join(nginxPrefix, 'logs', 'error.log')),
      );

      const promConfig = join(dir, 'prometheus', 'prometheus.yml');
      writeFileSync(
        promConfig,
        prometheusConfig({
          replicas: fleet.state.replicas.map((r) => ({ host: '127.0.0.1', port: r.port })),
          tokenFile,
          scrapeIntervalS: opts.scrapeIntervalS ?? 5,
          ruleFiles: [join(ROOT, 'deploy', 'prometheus', 'rules.yml'), join(ROOT, 'deploy', 'prometheus', 'alerts.yml')],
        }),
      );
      const prometheus = launch(
        'prometheus',
        [opts.prometheusBinary ?? 'prometheus', `--config.file=${promConfig}`, `--storage.tsdb.path=${join(dir, 'prometheus', 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
        join(dir, 'logs', 'prometheus.log'),
        promConfig,
      );
      fleet.track(prometheus);
      fleet.state.prometheus = prometheus.rec;
      fleet.state.prometheusUrl = `http://127.0.0.1:${promPort}`;
      save();
      await waitUntil(async () => (await fetch(`${fleet.state.prometheusUrl}/-/ready`)).ok, 20_000, 'prometheus ready', () => tail(prometheus.rec.log));
      return fleet;
    } catch (err) {
      save();
      await fleet.down().catch(() => {});
      throw err;
    }
  }

  private track(p: { rec: ProcessRecord; proc: ChildProcess }): void {
    this.procs.set(p.rec.pid, p.proc);
    p.proc.once('exit', () => this.procs.delete(p.rec.pid));
  }

  /** (Re)starts replica i on its recorded ports; waits for /v2/health/ready unless told not to. */
  async startReplica(i: number, opts: { wait?: boolean } = {}): Promise<void> {
    const r = this.state.replicas[i]!;
    const stateDir = join(this.state.dir, `replica-${i}`, 'state');
    mkdirSync(stateDir, { recursive: true });
    const config = join(this.state.dir, 'agent.json');
    const started = launch(
      r.name,
      [process.execPath, AGENT_MAIN, '--config', config, '--port', String(r.port), '--grpc-port', String(r.grpcPort), '--state-dir', stateDir],
      join(this.state.dir, 'logs', `${r.name}.log`),
      stateDir,
      { ...process.env, INFERSCOPE_TOKEN: this.token },
    );
    this.track(started);
    Object.assign(r, started.rec);
    if (existsSync(statePath(this.state.dir))) writeFileSync(statePath(this.state.dir), JSON.stringify(this.state, null, 2) + '\n');
    if (opts.wait ?? true) await this.waitReplicaReady(i);
  }

  async waitReplicaReady(i: number, timeoutMs = 30_000): Promise<void> {
    const r = this.state.replicas[i]!;
    await waitUntil(
      async () => {
        if (!alive(r.pid)) throw Object.assign(new Error(`${r.name} exited`), { fatal: true });
        return (await fetch(`${this.replicaUrl(i)}/v2/health/ready`)).status === 200;
      },
      timeoutMs,
      `${r.name} ready`,
      () => tail(r.log),
    );
  }

  /** Signals replica i and resolves once it has exited. */
  async stopReplica(i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stopProcess(this.state.replicas[i]!, signal, 30_000);
  }

  private async stopProcess(rec: ProcessRecord | undefined, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    if (!rec || !rec.pid || !stillOurs(rec)) return;
    const child = this.procs.get(rec.pid);
    const exited = child && child.exitCode === null && child.signalCode === null ? new Promise<void>((r) => child.once('exit', () => r())) : undefined;
    process.kill(rec.pid, signal);
    try {
      await waitUntil(() => (exited ? this.procs.get(rec.pid) === undefined : !alive(rec.pid)), timeoutMs, `${rec.name} exit`);
    } catch {
      if (alive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
      await waitUntil(() => !alive(rec.pid) || this.procs.get(rec.pid) === undefined, 5000, `${rec.name} exit after SIGKILL`);
    }
    await exited;
  }

  /** Stops what this fleet started: nginx first (no new traffic), then the replicas (they drain), Prometheus, Redis. */
  async down(): Promise<string[]> {
    const stopped: string[] = [];
    const stop = async (rec: ProcessRecord | undefined, signal: NodeJS.Signals = 'SIGTERM') => {
      if (rec && rec.pid && stillOurs(rec)) {
        await this.stopProcess(rec, signal, 20_000);
        stopped.push(`${rec.name} (pid ${rec.pid})`);
      }
    };
    await stop(this.state.nginx, 'SIGQUIT');
    await Promise.all(this.state.replicas.map((r) => stop(r)));
    await stop(this.state.prometheus);
    await stop(this.state.redis);
    rmSync(statePath(this.state.dir), { force: true });
    return stopped;
  }
}
