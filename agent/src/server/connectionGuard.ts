// Connections beyond max_connections. Refusing the newest (Node's server.maxConnections) lets a
// slowloris that holds every slot lock everyone else out: measured, a normal client got no answer
// at all while 2,000 trickling sockets reconnected. Instead, a new connection past the bound
// closes the oldest one that is doing nothing useful: one that has not finished sending a request
// head yet, or sits idle between keep-alive requests. Connections whose requests are being read or
// served are never closed for room (their bodies are bounded by the body budget and
// request_timeout_s). So an attacker's sockets push out each other, and a client that sends its
// request promptly gets through.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionGuard {
  /** Connections closed to make room, since start. */
  readonly evicted: number;
}

export function guardConnections(server: Server, max: number): ConnectionGuard {
  // Sockets without a request in progress, oldest first (a Set keeps insertion order).
  const idle = new Set<Socket>();
  let open = 0;
  let evicted = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    idle.add(socket);
    socket.once('close', () => {
      open--;
      idle.delete(socket);
    });
    if (open <= max) return;
    const oldest = idle.values().next().value as Socket;
    // `idle` holds at least the newcomer; if it is the only one, every other connection is busy.
    evicted++;
    idle.delete(oldest);
    oldest.destroy();
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    idle.delete(socket);
    res.once('finish', () => {
      if (!socket.destroyed) idle.add(socket); // at the end: the most recently useful
    });
  });
  return {
    get evicted() {
      return evicted;
    },
  };
}

/**
 * The process's open-file limit (Linux), if known. Connections past it fail to be accepted at
 * all (EMFILE), and so do model files and worker threads: the bound must stay below it.
 */
export function openFileLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** Files kept free for everything that is not a connection (models, workers, logs, the state folder). */
export const RESERVED_FILES = 128;
