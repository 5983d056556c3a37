// An OTLP/HTTP receiver that takes what it is sent and answers 200 with an empty
// ExportTraceServiceResponse (zero bytes of protobuf), decoding nothing: the far end of the
// export benches (bench:records, bench:http --export), in its own process so that its CPU is not
// the agent's. Prints its port on stdout as one JSON line; counts the bytes it got (GET /count).
import { createServer } from 'node:http';

let bytes = 0;
let posts = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ posts, bytes }));
    return;
  }
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    posts++;
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
