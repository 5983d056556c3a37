// The floor under any Node gRPC server on this machine (bench:grpc): node:http2 with the agent's
// settings (4 MiB window, maxSessionMemory 64), that only receives each message and answers one
// of a fixed size (ANSWER_BYTES: the agent's answer to 64 digits) with grpc-status 0 in trailers.
// No decoding, no copy, no inference. Prints the line bench/lib/wrk.ts's startChild reads.
import http2 from 'node:http2';

const ANSWER_BYTES = Number(process.argv[2] ?? 2600);
const answer = Buffer.alloc(5 + ANSWER_BYTES);
answer.writeUInt32BE(ANSWER_BYTES, 1);
const WINDOW_BYTES = 4 * 1024 * 1024;

const server = http2.createServer({ settings: { initialWindowSize: WINDOW_BYTES }, maxSessionMemory: 64 });
server.on('session', (session) => {
  session.on('error', () => {});
  session.setLocalWindowSize(WINDOW_BYTES);
});
server.on('stream', (stream) => {
  stream.on('error', () => {});
  let received = 0;
  stream.on('data', (chunk) => {
    received += chunk.length;
  });
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity,deflate,gzip' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': received > 0 ? '0' : '3' }));
    stream.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: 0, grpc_port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
