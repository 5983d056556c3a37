// Sends exact request bytes over a socket and reads one response: for replaying what stock clients
// send (header case and order, no Content-Type, no Content-Length) byte for byte.
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** An HTTP/1.1 request as bytes: the request line, the header lines as given, then the body. */
export function requestBytes(line: string, headers: [string, string | number][], body: Buffer | string = Buffer.alloc(0)): Buffer {
  const head = [line, ...headers.map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}

export function rawRequest(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response in ${timeoutMs} ms; got:\n${data.toString('latin1').slice(0, 300)}`));
    }, timeoutMs);
    const tryParse = (ended: boolean): RawResponse | undefined => {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const body = data.subarray(end + 4);
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      if (length === undefined ? !ended : body.length < length) return undefined;
      return { status: Number(statusLine!.split(' ')[1]), headers, body: length === undefined ? body : body.subarray(0, length) };
    };
    const finish = (ended: boolean) => {
      const r = tryParse(ended);
      if (!r) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      finish(false);
    });
    socket.on('end', () => finish(true));
    // A server may close after answering while the request's body is still being written.
    socket.on('error', (err) => (tryParse(true) ? finish(true) : (clearTimeout(timer), reject(err))));
    socket.write(bytes);
  });
}

/** What tritonclient's InferResult does with a response body (its _infer_result.py): JSON header, then each binary output's slice. */
export function splitInferResponse(r: RawResponse): { json: any; binary: Map<string, Buffer> } {
  const n = r.headers['inference-header-content-length'];
  const json = JSON.parse(r.body.subarray(0, n === undefined ? r.body.length : Number(n)).toString('utf8'));
  const binary = new Map<string, Buffer>();
  let at = n === undefined ? r.body.length : Number(n);
  for (const o of json.outputs ?? []) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    binary.set(o.name, r.body.subarray(at, at + size));
    at += size;
  }
  return { json, binary };
}
