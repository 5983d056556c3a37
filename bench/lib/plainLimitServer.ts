// The HTTP + JSON limit of this machine: a plain node:http server that reads the body, parses it
// with JSON.parse and answers a fixed result of the infer response's shape (10 floats). Nothing
// an inference server could skip. Prints its port on stdout as one JSON line.
import { createServer } from 'node:http';

const answer = JSON.stringify({
  model_name: 'digits',
  model_version: '2',
  id: 'mnist-7-4',
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [1, 10], data: [2.7e-5, 1.2e-9, 1.1e-6, 1.4e-4, 4.0e-8, 6.7e-6, 1.2e-9, 0.9965246319770813, 4.0e-6, 3.2e-3] }],
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let ok = false;
    try {
      ok = Array.isArray((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs?: unknown }).inputs);
    } catch {
      ok = false;
    }
    const body = ok ? answer : '{"error":"no inputs"}';
    res.writeHead(ok ? 200 : 400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
