// Upload throughput and the server's memory while streaming: 10 MiB, 100 MiB and 1 GiB uploads over
// loopback, each beside a plain fs.createWriteStream copy of the same bytes measured in the same run.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaChunks, mediaStream } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { customer, fmt, MiB, peakRss, resetPeakRss, startServer, table, verdict } from './lib.js';

async function fsCopy(size: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fs-'));
  const started = performance.now();
  await pipeline(mediaStream('mp4', size), createWriteStream(join(dir, 'copy.mp4')));
  const seconds = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return size / MiB / seconds;
}

export async function benchUploads(): Promise<void> {
  const server = await startServer({ UPLOAD_VIDEO_MAX_BYTES: String(2 * 1024 * MiB) });
  try {
    const auth = await customer(server.url);
    const send = async (size: number) => {
      const started = performance.now();
      const res = await upload(
        `${server.url}/api/uploads/video`,
        [{ filename: 'bench.mp4', content: mediaChunks('mp4', size) }],
        { headers: { Authorization: auth } },
      );
      const seconds = (performance.now() - started) / 1000;
      if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
      await fetch(`${server.url}${res.body.url}`, { method: 'DELETE', headers: { Authorization: auth } });
      return size / MiB / seconds;
    };
    await send(64 * MiB); // warm-up
    resetPeakRss(server.pid);
    await send(10 * MiB);
    const warmPeak = peakRss(server.pid);
    const rows = [];
    const peaks: Record<number, number> = {};
    for (const size of [10 * MiB, 100 * MiB, 1024 * MiB]) {
      const baseline = await fsCopy(size);
      resetPeakRss(server.pid);
      const mbs = await send(size);
      peaks[size] = peakRss(server.pid);
      rows.push({
        upload: fmt.mib(size),
        'MB/s': fmt.n(mbs * 1.048576, 0),
        'fs copy MB/s': fmt.n(baseline * 1.048576, 0),
        ratio: fmt.ratio(mbs / baseline),
        'peak RSS (VmHWM)': fmt.mib(peaks[size]!),
        'vs after warm-up': `+${fmt.mib(peaks[size]! - warmPeak)}`,
      });
    }
    resetPeakRss(server.pid);
    const started = performance.now();
    await Promise.all(Array.from({ length: 5 }, () => send(50 * MiB)));
    const concurrentMbs = (5 * 50) / ((performance.now() - started) / 1000);
    const concurrentPeak = peakRss(server.pid);
    rows.push({
      upload: '5 x 50 MiB concurrent',
      'MB/s': fmt.n(concurrentMbs * 1.048576, 0),
      'fs copy MB/s': '-',
      ratio: '-',
      'peak RSS (VmHWM)': fmt.mib(concurrentPeak),
      'vs after warm-up': `+${fmt.mib(concurrentPeak - warmPeak)}`,
    });
    table('Uploads over loopback (server RSS includes its two idle PDF worker threads)', rows);
    const ratios = rows.slice(0, 3).map((r) => Number(String(r.ratio).replace('x', '')));
    table('Upload targets', [
      verdict(
        '100 MiB peak within 10 MiB of the warm-up peak',
        peaks[100 * MiB]! - warmPeak <= 10 * MiB,
        `+${fmt.mib(peaks[100 * MiB]! - warmPeak)}`,
      ),
      verdict(
        '1 GiB peak within 10 MiB of the 100 MiB peak',
        peaks[1024 * MiB]! - peaks[100 * MiB]! <= 10 * MiB,
        `${fmt.mib(peaks[1024 * MiB]! - peaks[100 * MiB]!)}`,
      ),
      verdict(
        'throughput >= 0.8x the plain fs copy',
        ratios.every((r) => r >= 0.8),
        ratios.map((r) => fmt.ratio(r)).join(', '),
      ),
      verdict('5 x 50 MiB concurrent: peak RSS < 150 MiB', concurrentPeak < 150 * MiB, fmt.mib(concurrentPeak)),
    ]);
  } finally {
    await server.stop();
  }
}
