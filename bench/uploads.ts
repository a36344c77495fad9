// Upload throughput and the server's memory while streaming: 10 MiB, 100 MiB and 1 GiB uploads over
// loopback, each beside a plain fs.createWriteStream copy of the same bytes measured in the same run.
// The client is curl, a separate and lean process, sending a file that is in the page cache, as the
// copy reads it: the figures compare the server's path to disk with the plainest one there is.
// Each figure is the median of three alternating runs, each started after `sync`. An upload is
// answered only once its bytes are on disk (fsync), so the like-for-like baseline is the same copy
// with fsync; the copy that stops at the page cache is shown beside it.
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaStream } from '../tools/media.js';
import {
  curlUpload,
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

/** Dirty pages left by the previous run would slow the next one down: each run starts clean. */
const settle = () => execFileSync('sync');

async function fsCopy(source: string, dir: string, durable: boolean): Promise<number> {
  const target = join(dir, 'copy.mp4');
  settle();
  const started = performance.now();
  await pipeline(createReadStream(source), createWriteStream(target, { flush: durable }));
  const seconds = (performance.now() - started) / 1000;
  rmSync(target);
  return seconds;
}

export async function benchUploads(): Promise<void> {
  const server = await startServer({ UPLOAD_VIDEO_MAX_BYTES: String(2 * 1024 * MiB) });
  const work = mkdtempSync(join(tmpdir(), 'bench-uploads-'));
  const files: Record<number, string> = {};
  for (const size of [10 * MiB, 50 * MiB, 100 * MiB, 1024 * MiB]) {
    files[size] = join(work, `${size}.mp4`);
    await pipeline(mediaStream('mp4', size), createWriteStream(files[size]!));
  }
  const bare = await startBaseline('bare-upload-server.mjs', work);
  try {
    const auth = await customer(server.url);
    const send = async (size: number, clean = false) => {
      if (clean) settle();
      return uploadAndDelete(server.url, auth, files[size]!);
    };
    // The reference: the peak over a first (warm-up) upload of 100 MiB.
    await send(100 * MiB);
    const warmPeak = peakRss(server.pid);
    const rows = [];
    const peaks: Record<number, number> = {};
    const ratios: number[] = [];
    const plainRatios: number[] = [];
    for (const size of [10 * MiB, 100 * MiB, 1024 * MiB]) {
      // Alternating runs, median of each: the disk's write-back makes single runs vary by 2x here.
      const copies: number[] = [];
      const durableCopies: number[] = [];
      const uploads: number[] = [];
      const bareUploads: number[] = [];
      resetPeakRss(server.pid);
      for (let i = 0; i < RUNS; i++) {
        copies.push(await fsCopy(files[size]!, work, false));
        durableCopies.push(await fsCopy(files[size]!, work, true));
        uploads.push(await send(size, true));
        settle();
        bareUploads.push((await curlUpload(bare.url, '-', files[size]!)).seconds);
      }
      const copySeconds = median(copies);
      const durableSeconds = median(durableCopies);
      const uploadSeconds = median(uploads);
      peaks[size] = peakRss(server.pid);
      ratios.push(durableSeconds / uploadSeconds);
      plainRatios.push(copySeconds / uploadSeconds);
      rows.push({
        upload: fmt.mib(size),
        'MB/s': fmt.n(size / 1e6 / uploadSeconds, 0),
        'copy + fsync MB/s': fmt.n(size / 1e6 / durableSeconds, 0),
        ratio: fmt.ratio(durableSeconds / uploadSeconds),
        'plain copy MB/s (ratio)': `${fmt.n(size / 1e6 / copySeconds, 0)} (${fmt.ratio(copySeconds / uploadSeconds)})`,
        'bare busboy MB/s (ratio)': `${fmt.n(size / 1e6 / median(bareUploads), 0)} (${fmt.ratio(median(bareUploads) / uploadSeconds)})`,
        'peak RSS (VmHWM)': fmt.mib(peaks[size]!),
        'vs after warm-up': fmt.deltaMib(peaks[size]! - warmPeak),
      });
    }
    const { seconds: concurrentSeconds, peak: concurrentPeak } = await concurrentUploads(server.pid, () =>
      send(50 * MiB),
    );
    rows.push({
      upload: '5 x 50 MiB concurrent',
      'MB/s': fmt.n((5 * 50 * MiB) / 1e6 / concurrentSeconds, 0),
      'copy + fsync MB/s': '-',
      ratio: '-',
      'plain copy MB/s (ratio)': '-',
      'bare busboy MB/s (ratio)': '-',
      'peak RSS (VmHWM)': fmt.mib(concurrentPeak),
      'vs after warm-up': fmt.deltaMib(concurrentPeak - warmPeak),
    });
    table('Uploads over loopback with curl (server RSS: main thread; no PDF worker has started)', rows);
    table('Upload targets', [
      verdict(
        '100 MiB peak within 10 MiB of the warm-up peak',
        peaks[100 * MiB]! - warmPeak <= 10 * MiB,
        fmt.deltaMib(peaks[100 * MiB]! - warmPeak),
      ),
      verdict(
        '1 GiB peak within 10 MiB of the 100 MiB peak',
        peaks[1024 * MiB]! - peaks[100 * MiB]! <= 10 * MiB,
        fmt.deltaMib(peaks[1024 * MiB]! - peaks[100 * MiB]!),
      ),
      verdict(
        'throughput >= 0.8x the fs copy, both durable (fsync)',
        ratios.every((r) => r >= 0.8),
        ratios.map((r) => fmt.ratio(r)).join(', '),
      ),
      verdict(
        'the same against a copy left in the page cache',
        plainRatios.every((r) => r >= 0.8),
        plainRatios.map((r) => fmt.ratio(r)).join(', '),
      ),
      verdict('5 x 50 MiB concurrent: peak RSS < 150 MiB', concurrentPeak < 150 * MiB, fmt.mib(concurrentPeak)),
    ]);
  } finally {
    bare.stop();
    rmSync(work, { recursive: true, force: true });
    await server.stop();
  }
}
