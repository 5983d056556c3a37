// A minimal Server-Sent Events reader over node:http, for tests.
import { request, type ClientRequest } from 'node:http';
import { SseParser } from '../../common/sseParser.js';

export interface SseMessage {
  event: string;
  data: any;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  private req: ClientRequest | undefined;
  private waiters: { match: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }[] = [];
  ended = false;

  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      client.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`SSE status ${res.statusCode}`));
        const parser = new SseParser((e) => client.push({ event: e.event, data: JSON.parse(e.data) }));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => parser.feed(chunk));
        res.on('end', () => (client.ended = true));
        resolve(client);
      });
      client.req.on('error', reject);
      client.req.end();
    });
  }

  /** Resolves with the first message (already received or coming) that matches. */
  next(match: (m: SseMessage) => boolean, timeoutMs = 10_000): Promise<SseMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching SSE message in ${timeoutMs} ms; got ${this.messages.map((m) => m.event).join(',')}`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  close(): void {
    this.req?.destroy();
  }

  private push(m: SseMessage): void {
    this.messages.push(m);
    this.waiters = this.waiters.filter((w) => (w.match(m) ? (w.resolve(m), false) : true));
  }
}
