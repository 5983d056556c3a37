// A fleet of agents on this machine, behind nginx, with a shared Redis and a Prometheus:
//   npm run fleet -- [--replicas 3] [--port 8080] [--dir .fleet] [--scrape-interval 5]
//   npm run fleet -- --down [--dir .fleet]
// Needs `npm run build` (it runs dist/agent/main.js) and Debian's nginx, redis-server and prometheus.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FLEET_DIR, Fleet, readState, statePath } from './lib/fleet.js';

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '3' },
    port: { type: 'string', default: '0' },
    dir: { type: 'string', default: DEFAULT_FLEET_DIR },
    'scrape-interval': { type: 'string', default: '5' },
    down: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const dir = resolve(values.dir!);
  if (values.help) {
    console.log('usage: npm run fleet -- [--replicas N] [--port LB_PORT] [--dir DIR] [--scrape-interval S] | --down [--dir DIR]');
    return;
  }
  if (values.down) {
    if (!readState(dir)) {
      console.log(`no fleet recorded in ${statePath(dir)}; nothing to stop`);
      return;
    }
    const stopped = await Fleet.open(dir).down();
    console.log(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running any more');
    return;
  }
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 32) throw new Error('--replicas: expected an integer from 1 to 32');
  const fleet = await Fleet.start({
    replicas,
    dir,
    port: Number(values.port),
    scrapeIntervalS: Number(values['scrape-interval']),
    log: (line) => console.log(line),
  });
  const s = fleet.state;
  console.log(
    [
      '',
      `fleet of ${replicas} running (state: ${statePath(dir)})`,
      `  load balancer   ${s.lbUrl}   (gRPC: ${s.lbGrpc})`,
      ...s.replicas.map((r) => `  ${r.name.padEnd(15)} http://127.0.0.1:${r.port}   (gRPC 127.0.0.1:${r.grpcPort}, pid ${r.pid})`),
      `  prometheus      ${s.prometheusUrl}`,
      `  redis           ${s.redisUrl}`,
      `  token           ${s.tokenFile}   (export INFERSCOPE_TOKEN=$(cat ${s.tokenFile}))`,
      `  logs            ${dir}/logs/`,
      '',
      `try: curl -s -H "Authorization: Bearer $(cat ${s.tokenFile})" ${s.lbUrl}/v2/models/digits/infer -H 'content-type: application/json' -d '{"parameters":{"entities":["digit-3"]}}'`,
      'stop: npm run fleet -- --down' + (dir === DEFAULT_FLEET_DIR ? '' : ` --dir ${dir}`),
    ].join('\n'),
  );
}

main().catch((err: Error) => {
  console.error(`fleet: ${err.message}`);
  process.exit(1);
});
