// The plainest upload server there is, as a baseline for bench/uploads.ts: busboy straight into a
// file (fsync on close, as booking-core does), no auth, no sniffing, no hashing, no database.
// Usage: node bare-upload-server.mjs DIR   (prints the port it listens on)
import busboy from 'busboy';
import { createWriteStream, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const dir = process.argv[2];
let next = 0;
const server = createServer((req, res) => {
  const parser = busboy({ headers: req.headers });
  parser.on('file', (_field, file) => {
    const path = join(dir, `upload-${next++}`);
    file.pipe(createWriteStream(path, { flush: true })).on('close', () => {
      unlinkSync(path);
      res.end('{}');
    });
  });
  req.pipe(parser);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
