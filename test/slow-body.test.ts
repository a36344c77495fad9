// A body trickled to hold a socket: no byte for BODY_IDLE_TIMEOUT_MS ends the request with 408, and
// nothing of the upload is kept.
import { expect } from 'chai';
import { connect } from 'node:net';
import { mediaBuffer } from '../tools/media.js';
import { registerCustomer, withContext } from './helpers/context.js';
import { eventually, filesIn, listen } from './helpers/server.js';

describe('slow request bodies (BODY_IDLE_TIMEOUT_MS)', () => {
  it('an upload whose body stops arriving gets 408 and leaves nothing behind', async () => {
    await withContext({ BODY_IDLE_TIMEOUT_MS: '800' }, async (ctx) => {
      const { auth } = await registerCustomer(ctx.app);
      const http = await listen(ctx.app);
      try {
        const { port } = new URL(http.url);
        const boundary = 'trickle-boundary';
        const head = Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
        );
        const socket = connect(Number(port), '127.0.0.1');
        let answer = '';
        socket.on('data', (d) => (answer += d));
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
        socket.on('error', () => {});
        socket.write(
          `POST /api/uploads/image HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n` +
            `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 1000000\r\n\r\n`,
        );
        // A real start (the type is sniffed, a temp file opened), then a byte now and then, then nothing.
        socket.write(Buffer.concat([head, mediaBuffer('png', 64 * 1024)]));
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, 300));
          socket.write('x');
        }
        const started = Date.now();
        await closed;
        const waited = Date.now() - started;
        expect(answer).to.match(/^HTTP\/1\.1 408 /);
        expect(answer).to.include('"code":"request_timeout"');
        expect(waited).to.be.below(5000);
        await eventually(() => filesIn(ctx.rt.config.uploads.dir).length === 0).catch(() => {
          throw new Error(`left: ${filesIn(ctx.rt.config.uploads.dir).join()}`);
        });
        expect(await ctx.rt.db('uploads').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
      } finally {
        await http.close();
      }
    });
  });
});
