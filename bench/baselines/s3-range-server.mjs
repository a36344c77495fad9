// Baseline for serving ranges from S3: each request is one GetObject with the request's Range, its
// body piped to the socket. No auth, no database, no headers beyond the length: the floor under any
// server that proxies a bucket. Args: settings as JSON (endpoint, bucket, key prefix).
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer } from 'node:http';

const settings = JSON.parse(process.argv[2]);
const client = new S3Client({
  region: 'us-east-1',
  endpoint: settings.endpoint,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const server = createServer(async (req, res) => {
  try {
    const answer = await client.send(
      new GetObjectCommand({
        Bucket: settings.bucket,
        Key: settings.prefix + req.url.slice(1),
        Range: req.headers.range,
      }),
    );
    res.writeHead(answer.ContentRange ? 206 : 200, { 'Content-Length': answer.ContentLength });
    answer.Body.pipe(res);
    res.on('close', () => answer.Body.destroy());
  } catch {
    res.writeHead(500).end();
  }
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
