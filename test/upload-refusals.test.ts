// Every refusal of an upload must reach a client that is still sending (see stubborn-client.ts): the
// server answers at once, reads and discards the rest of the body, and closes only then.
import { expect } from 'chai';
import { mediaBuffer } from '../tools/media.js';
import { registerCustomer, startContext, type TestContext } from './helpers/context.js';
import { eventually, filesIn, listen } from './helpers/server.js';
import { formBody, sendWholeBody } from './helpers/stubborn-client.js';
import { manualClock, readingAt } from './helpers/memory.js';

const KiB = 1024;
let percent = 50;

describe('upload refusals reach a client that keeps sending', () => {
  let ctx: TestContext;
  let http: Awaited<ReturnType<typeof listen>>;
  let auth: string;
  before(async () => {
    // A 256 KiB image limit, so that 413 bodies (both the declared and the streamed kind) stay small.
    ctx = await startContext(
      'sqlite',
      { UPLOAD_IMAGE_MAX_BYTES: String(256 * KiB) },
      {
        memorySampler: () => readingAt(percent),
        clock: manualClock,
      },
    );
    http = await listen(ctx.app);
    auth = (await registerCustomer(ctx.app)).auth;
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
  });

  const boundary = 'refusal-boundary-0123456789';
  const png = (size: number) => ({ content: mediaBuffer('png', size) });
  const manyFields = (n: number) => Array.from({ length: n }, (_, i): [string, string] => [`f${i}`, `value ${i}`]);
  const cases: [string, () => Buffer, Record<string, string>, number, string, () => void][] = [
    [
      '2,000 small fields and a file',
      () => formBody(boundary, manyFields(2000), [png(2048)]),
      {},
      400,
      'too_many_fields',
      () => {},
    ],
    ['two files', () => formBody(boundary, [], [png(40 * KiB), png(40 * KiB)]), {}, 400, 'too_many_files', () => {}],
    [
      'a long field name',
      () => formBody(boundary, [['n'.repeat(5000), 'x']], [png(2048)]),
      {},
      400,
      'field_name_too_long',
      () => {},
    ],
    ['no token', () => formBody(boundary, [], [png(200 * KiB)]), { Authorization: '' }, 401, 'unauthorized', () => {}],
    [
      'a declared length over the limit',
      () => formBody(boundary, [], [png(2048 * KiB)]),
      {},
      413,
      'payload_too_large',
      () => {},
    ],
    [
      'a file that passes the limit while streaming',
      () => formBody(boundary, [], [png(300 * KiB)]),
      {},
      413,
      'payload_too_large',
      () => {},
    ],
    [
      'a file of a refused type',
      () => formBody(boundary, [], [{ content: Buffer.alloc(200 * KiB, 'text ') }]),
      {},
      415,
      'unsupported_file_type',
      () => {},
    ],
    [
      'memory pressure',
      () => formBody(boundary, [], [png(200 * KiB)]),
      {},
      503,
      'memory_pressure',
      () => {
        percent = 95;
        ctx.rt.memoryGuard.sample();
      },
    ],
  ];
  for (const connection of ['close', 'keep-alive']) {
    for (const [what, body, headers, status, code, setUp] of cases) {
      it(`${what} (Connection: ${connection}): ${status} ${code}, the whole body sent, nothing kept`, async () => {
        percent = 50;
        ctx.rt.memoryGuard.sample();
        setUp();
        const sent = body();
        const res = await sendWholeBody(
          `${http.url}/api/uploads/image`,
          {
            Authorization: auth,
            'Content-Type': `multipart/form-data; boundary=${boundary}`,
            Connection: connection,
            ...headers,
          },
          sent,
        );
        expect(res.bytesSent).to.equal(sent.length);
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        expect(await ctx.rt.db('uploads').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
        await eventually(() => filesIn(ctx.rt.config.uploads.dir).length === 0).catch(() => {
          throw new Error(filesIn(ctx.rt.config.uploads.dir).join());
        });
      });
    }
  }
});
