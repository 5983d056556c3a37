// h2load (Debian's nghttp2-client) as the gRPC load generator: a separate process written in C,
// as wrk is for REST, so the figures are the server's and not a JavaScript client's. Sends one
// prebuilt unary gRPC message (5-byte prefix + protobuf) over one HTTP/2 connection with
// `streams` calls in flight; per-call times come from its --log-file.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from './closedLoop.js';

export interface H2Result {
  rps: number;
  /** Calls completed (the log's rows). */
  calls: number;
  p50ms: number;
  p99ms: number;
  /** Calls that did not end with HTTP 200 (gRPC statuses are counted by the caller, from /metrics). */
  errors: number;
  /** CPU seconds h2load itself used (user + system): the load generator's share of the cores. */
  cpuS: number;
}

export function requireH2load(bench: string): void {
  if (spawnSync('h2load', ['--version']).error) {
    console.error(`${bench} needs h2load (Debian: apt-get install nghttp2-client)`);
    process.exit(1);
  }
}

/** The gRPC framing of one message: no compression flag, 4-byte big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

export function h2load(dir: string, url: string, frame: Buffer, seconds: number, streams: number): H2Result {
  const body = join(dir, `h2load-${frame.length}.bin`);
  const log = join(dir, 'h2load.log');
  writeFileSync(body, frame);
  writeFileSync(log, '');
  // Through a shell that prints its own /proc stat once h2load has exited: its children's CPU
  // (cutime, cstime) is h2load's.
  const out = spawnSync(
    '/bin/sh',
    ['-c', 'h2load "$@"; s=$?; cat /proc/$$/stat >&2; exit $s', 'sh', '-D', String(seconds), '-c', '1', '-m', String(streams), '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-d', body, `--log-file=${log}`, url],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`h2load failed: ${out.stderr || out.stdout}`);
  const stat = out.stderr.trim().split('\n').pop() ?? '';
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rows = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t').map(Number));
  const ms = rows.map((r) => r[2]! / 1000);
  return {
    rps: Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out.stdout)?.[1] ?? NaN),
    calls: rows.length,
    p50ms: percentile(ms, 50),
    p99ms: percentile(ms, 99),
    errors: rows.filter((r) => r[1] !== 200).length,
    // Fields from 3 on: cutime is 16, cstime 17; in USER_HZ ticks (100 a second).
    cpuS: (Number(fields[13]) + Number(fields[14])) / 100,
  };
}
