// Open-loop load: requests go out at a fixed rate whatever the answers (unlike closed-loop clients,
// which slow down with the server). Records every answer's status and time.
import { Agent, request } from 'node:http';

export interface OpenLoopAnswer {
  status: number; // 0: connection error
  ms: number;
  retryAfter: string | undefined;
}

export async function openLoop(opts: { port: number; path: string; body: string; ratePerS: number; seconds: number }): Promise<OpenLoopAnswer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 2000 });
  const answers: Promise<OpenLoopAnswer>[] = [];
  const one = (): Promise<OpenLoopAnswer> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = request(
        { host: '127.0.0.1', port: opts.port, path: opts.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started, retryAfter: res.headers['retry-after'] as string | undefined }));
        },
      );
      req.on('error', () => resolve({ status: 0, ms: performance.now() - started, retryAfter: undefined }));
      req.end(opts.body);
    });
  const tickMs = 10;
  const perTick = (opts.ratePerS * tickMs) / 1000;
  const end = performance.now() + opts.seconds * 1000;
  let owed = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      owed += perTick;
      for (; owed >= 1; owed--) answers.push(one());
    }, tickMs);
  });
  const all = await Promise.all(answers);
  agent.destroy();
  return all;
}
