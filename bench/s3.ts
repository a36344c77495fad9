// The S3 driver on moto, each figure beside a baseline measured in the same run: uploads through the
// server (curl -> server -> spooled parts -> moto) vs the SDK's own multipart upload (lib-storage) of the
// same file to the same moto; the server's RSS while uploading; 1 MiB range reads through the server vs
// a bare GetObject piped to a socket. Part sizes are compared too (S3_PART_MB).
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaChunks, mediaStream } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { createS3Client } from '../server/storage/s3/client.js';
import { freshBucket, s3Env } from '../test/helpers/moto.js';
import {
  curlDownloads,
  customer,
  fmt,
  MiB,
  peakRss,
  resetPeakRss,
  startBaseline,
  startServer,
  table,
  uploadAndDelete,
  verdict,
  median,
  concurrentUploads,
} from './lib.js';

const RUNS = 3;

export async function benchS3(): Promise<void> {
  const bucket = await freshBucket();
  const work = mkdtempSync(join(tmpdir(), 'bench-s3-'));
  const files: Record<number, string> = {};
  for (const size of [50 * MiB, 100 * MiB, 1024 * MiB]) {
    files[size] = join(work, `${size}.mp4`);
    await pipeline(mediaStream('mp4', size), createWriteStream(files[size]!));
  }
  // The SDK as an application would use it: no idle timeout of its own (moto, unlike S3, is silent while
  // it assembles a 1 GiB object; a short one fails the completion).
  const sdkClient = createS3Client(bucket, { idleTimeoutMs: 0 });
  /** The SDK's own way to upload a large file: lib-storage's managed multipart upload. */
  const sdkUpload = async (file: string) => {
    const started = performance.now();
    const Key = `baseline/${Date.now()}.mp4`;
    await new Upload({
      client: sdkClient,
      params: { Bucket: bucket.bucket, Key, Body: createReadStream(file), ContentLength: statSync(file).size },
    }).done();
    const seconds = (performance.now() - started) / 1000;
    await bucket.client.send(
      new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: bucket.bucket, Key }),
    );
    return seconds;
  };

  // The default settings first, then one change each: part size, and parts in flight.
  const variants = [
    { partMb: 8, inFlight: 2 },
    { partMb: 5, inFlight: 2 },
    { partMb: 16, inFlight: 2 },
    { partMb: 8, inFlight: 4 },
  ];
  const servers = await Promise.all(
    variants.map((v) =>
      startServer({
        ...s3Env({ ...bucket, partBytes: v.partMb * MiB, partsInFlight: v.inFlight }),
        UPLOAD_VIDEO_MAX_BYTES: String(2 * 1024 * MiB),
      }).then((server) => ({ ...v, server })),
    ),
  );
  const [main] = servers;
  try {
    const auths = new Map(
      await Promise.all(servers.map(async (s) => [s.server, await customer(s.server.url)] as const)),
    );
    const auth = auths.get(main!.server)!;
    const server = main!.server;
    const send = (size: number, s = server) => uploadAndDelete(s.url, auths.get(s)!, files[size]!);

    // Warm-up, and the reference peak: one 100 MiB upload.
    await send(100 * MiB);
    const warmPeak = peakRss(server.pid);
    const rows = [];
    const peaks: Record<number, number> = {};
    const ratios: number[] = [];
    for (const size of [100 * MiB, 1024 * MiB]) {
      const ours: number[] = [];
      const sdk: number[] = [];
      resetPeakRss(server.pid);
      for (let i = 0; i < RUNS; i++) {
        ours.push(await send(size));
        sdk.push(await sdkUpload(files[size]!));
      }
      peaks[size] = peakRss(server.pid);
      const ratio = median(sdk) / median(ours);
      ratios.push(ratio);
      rows.push({
        upload: fmt.mib(size),
        'server MB/s': fmt.n(size / 1e6 / median(ours), 0),
        'SDK lib-storage MB/s': fmt.n(size / 1e6 / median(sdk), 0),
        ratio: fmt.ratio(ratio),
        'peak RSS (VmHWM)': fmt.mib(peaks[size]!),
        'vs after warm-up': fmt.deltaMib(peaks[size]! - warmPeak),
      });
    }
    const { seconds: concurrentSeconds, peak: concurrentPeak } = await concurrentUploads(server.pid, () =>
      send(50 * MiB),
    );
    rows.push({
      upload: '5 x 50 MiB concurrent',
      'server MB/s': fmt.n((250 * MiB) / 1e6 / concurrentSeconds, 0),
      'SDK lib-storage MB/s': '-',
      ratio: '-',
      'peak RSS (VmHWM)': fmt.mib(concurrentPeak),
      'vs after warm-up': fmt.deltaMib(concurrentPeak - warmPeak),
    });
    table(
      `Uploads to S3 (moto) through the server, S3_PART_MB=${main!.partMb}, S3_PARTS_IN_FLIGHT=${main!.inFlight}, median of ${RUNS}`,
      rows,
    );

    // Part size and parts in flight: the same uploads on servers that differ in one setting, in turns.
    const partRows = [];
    for (const { partMb, inFlight, server: s } of servers) {
      await send(100 * MiB, s);
      resetPeakRss(s.pid);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await send(100 * MiB, s));
      const gib = await send(1024 * MiB, s);
      partRows.push({
        S3_PART_MB: partMb,
        S3_PARTS_IN_FLIGHT: inFlight,
        '100 MiB MB/s': fmt.n((100 * MiB) / 1e6 / median(times), 0),
        '1 GiB MB/s': fmt.n((1024 * MiB) / 1e6 / gib, 0),
        'peak RSS (VmHWM)': fmt.mib(peakRss(s.pid)),
        'spool on disk per upload (at most)': fmt.mib((inFlight + 1) * partMb * MiB),
      });
    }
    table('Part size and parts in flight (same run, same moto)', partRows);

    // Ranges: 1 MiB out of a 10 MiB object, through the server (bearer-free signed URL) vs bare GetObject.
    const stored = (
      await upload(`${server.url}/api/uploads/image`, [{ filename: 'f.jpg', content: mediaChunks('jpeg', 10 * MiB) }], {
        headers: { Authorization: auth },
      })
    ).body as { name: string; url: string };
    const bare = await startBaseline(
      's3-range-server.mjs',
      JSON.stringify({ endpoint: bucket.endpoint, bucket: bucket.bucket, prefix: `${bucket.prefix}uploads/` }),
    );
    const rangeRows = [];
    let rangeRatio = 0;
    try {
      const measure = async (url: string, count = 300) =>
        curlDownloads(url, {
          count,
          parallel: 8,
          headers: { Range: 'bytes=1048576-2097151' },
          expect: { status: 206, bytes: MiB },
        });
      const urls = { ours: `${server.url}${stored.url}`, bare: `${bare.url}/${stored.name}` };
      await measure(urls.ours, 50);
      await measure(urls.bare, 50);
      const ours: number[] = [];
      const base: number[] = [];
      for (let round = 0; round < RUNS; round++) {
        const o = await measure(urls.ours);
        const b = await measure(urls.bare);
        if (o.errors || b.errors) throw new Error(`range reads failed: ${o.errors} ours, ${b.errors} bare`);
        ours.push(o.megabytesPerSecond);
        base.push(b.megabytesPerSecond);
      }
      rangeRatio = median(ours) / median(base);
      rangeRows.push({
        case: '1 MiB Range of a 10 MiB object, 8 at a time',
        'server MB/s': fmt.n(median(ours), 0),
        'bare GetObject MB/s': fmt.n(median(base), 0),
        ratio: fmt.ratio(rangeRatio),
        'per round': ours.map((o, i) => fmt.ratio(o / base[i]!)).join(' '),
      });
    } finally {
      bare.stop();
    }
    table(`Range reads from S3 (moto), median of ${RUNS} alternating rounds`, rangeRows);

    table('S3 targets', [
      verdict(
        'uploads >= 0.8x the SDK uploading the same file',
        ratios.every((r) => r >= 0.8),
        ratios.map(fmt.ratio).join(', '),
      ),
      verdict(
        '100 MiB upload: peak within 10 MiB of the warm-up peak',
        peaks[100 * MiB]! - warmPeak <= 10 * MiB,
        fmt.deltaMib(peaks[100 * MiB]! - warmPeak),
      ),
      verdict(
        '1 GiB peak within 10 MiB of the 100 MiB peak',
        Math.abs(peaks[1024 * MiB]! - peaks[100 * MiB]!) <= 10 * MiB,
        fmt.deltaMib(peaks[1024 * MiB]! - peaks[100 * MiB]!),
      ),
      verdict('5 x 50 MiB concurrent: peak RSS < 160 MiB', concurrentPeak < 160 * MiB, fmt.mib(concurrentPeak)),
      verdict('1 MiB ranges >= 0.9x a bare GetObject', rangeRatio >= 0.9, fmt.ratio(rangeRatio)),
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await Promise.all(servers.map((s) => s.server.stop()));
  }
}
