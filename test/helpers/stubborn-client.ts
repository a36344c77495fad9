// A client that sends its whole request body whatever the server answers, and reads the answer only
// after that, as curl and many mobile HTTP stacks do. A server that closes the connection while such a
// client is still sending makes it fail with EPIPE or ECONNRESET instead of reading the error.
import { connect } from 'node:net';

export interface StubbornResult {
  status: number;
  body: any;
  bytesSent: number;
}

/** Status and JSON body of a complete HTTP/1.1 response in `raw`, or undefined while it is incomplete. */
function parseResponse(raw: Buffer): { status: number; body: any } | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = raw.subarray(0, headEnd).toString('latin1');
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
  const body = raw.subarray(headEnd + 4);
  if (!(body.length >= length)) return undefined;
  const text = body.subarray(0, length).toString('utf8');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: Number(head.split(' ')[1]), body: parsed };
}

/**
 * POSTs `body` over a raw socket (node's own client stops writing once a response has ended), a chunk
 * at a time with a pause between chunks as a real network has, so the answer comes while the body is
 * on its way. Rejects when the socket fails before both the body is sent and the answer has arrived.
 */
export function sendWholeBody(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  chunkBytes = 16 * 1024,
): Promise<StubbornResult> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let response: { status: number; body: any } | undefined;
    let sentAll = false;
    let bytesSent = 0;
    const settle = () => {
      if (!response || !sentAll) return;
      socket.destroy();
      resolve({ ...response, bytesSent });
    };
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      response = parseResponse(Buffer.concat(received));
      settle();
    });
    socket.on('close', () => (response && sentAll ? settle() : reject(new Error('connection closed early'))));
    const head = Object.entries({ Host: hostname, ...headers, 'Content-Length': String(body.length) })
      .filter(([, value]) => value !== '')
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const write = (chunk: Buffer | string) =>
      new Promise<void>((done, fail) => socket.write(chunk, (err) => (err ? fail(err) : done())));
    (async () => {
      await write(`POST ${pathname} HTTP/1.1\r\n${head}\r\n`);
      for (let offset = 0; offset < body.length; offset += chunkBytes) {
        if (offset > 0) await new Promise((r) => setTimeout(r, 1));
        const chunk = body.subarray(offset, offset + chunkBytes);
        await write(chunk);
        bytesSent += chunk.length;
      }
      sentAll = true;
      settle();
    })().catch(reject);
  });
}

/** A multipart body built in memory: `fields` text fields, then each file part as given. */
export function formBody(
  boundary: string,
  fields: [string, string][],
  files: { field?: string; filename?: string; content: Buffer }[],
): Buffer {
  const parts: Buffer[] = fields.map(([name, value]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
  );
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field ?? 'file'}"; filename="${f.filename ?? 'a.png'}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      f.content,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}
