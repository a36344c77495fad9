// A streaming multipart/form-data upload over node:http (or node:https): the body is produced as it is sent, so the
// client's memory stays flat whatever the file size. Used by the tests, the benchmarks and `npm run verify`.
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

export interface UploadPart {
  field?: string;
  filename?: string;
  contentType?: string;
  /** Chunks of the file's content. */
  content: Iterable<Buffer> | AsyncIterable<Buffer>;
}

export interface UploadResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

export interface UploadOptions {
  headers?: Record<string, string>;
  /** Extra text fields sent before the file(s). */
  fields?: Record<string, string>;
  /** Declare Content-Length (needs the part sizes) instead of chunked encoding. */
  contentLength?: number;
  /** Called with the number of body bytes written so far. */
  onProgress?: (sent: number) => void;
  /** Stop sending after this many body bytes and destroy the socket (an aborted upload). */
  abortAfterBytes?: number;
}

export function multipartBody(
  parts: UploadPart[],
  boundary: string,
  fields: Record<string, string> = {},
): AsyncGenerator<Buffer> {
  return (async function* () {
    for (const [name, value] of Object.entries(fields)) {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    }
    for (const part of parts) {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.field ?? 'file'}"; filename="${part.filename ?? 'upload.bin'}"\r\n` +
          `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      );
      for await (const chunk of part.content) yield chunk;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  })();
}

/** The exact body length for parts of known sizes (to send Content-Length like a browser does). */
export function multipartLength(
  parts: { field?: string; filename?: string; contentType?: string; size: number }[],
  boundary: string,
): number {
  let total = Buffer.byteLength(`--${boundary}--\r\n`);
  for (const p of parts) {
    total += Buffer.byteLength(
      `--${boundary}\r\nContent-Disposition: form-data; name="${p.field ?? 'file'}"; filename="${p.filename ?? 'upload.bin'}"\r\n` +
        `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n\r\n`,
    );
    total += p.size + 2;
  }
  return total;
}

export function newBoundary(): string {
  return `----booking-core-${randomBytes(12).toString('hex')}`;
}

/** POSTs a multipart body to `url`; resolves with the status and parsed JSON (or text) body. */
export function upload(
  url: string,
  parts: UploadPart[],
  options: UploadOptions = {},
  boundary = newBoundary(),
): Promise<UploadResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      ...options.headers,
    };
    if (options.contentLength !== undefined) headers['Content-Length'] = String(options.contentLength);
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'POST', headers });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);

    let sent = 0;
    const body = Readable.from(multipartBody(parts, boundary, options.fields));
    body.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      options.onProgress?.(sent);
      if (options.abortAfterBytes !== undefined && sent >= options.abortAfterBytes) {
        body.destroy();
        req.destroy(new Error('aborted by the client on purpose'));
        return;
      }
      // Respect the socket's back-pressure; stop writing once the server has answered early (413, 415).
      if (!req.write(chunk)) {
        body.pause();
        req.once('drain', () => body.resume());
      }
    });
    body.on('end', () => req.end());
    // An early answer (401, 413, 415, 503) ends the upload: stop sending, ignore the closing socket.
    req.on('response', () => {
      body.destroy();
      req.removeListener('error', reject);
      req.on('error', () => {});
    });
  });
}
