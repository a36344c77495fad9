// A soak long enough to see a leak: `npm run bench -- soak --minutes N` (default 20). The mixed
// traffic of the short soak (memory.ts) runs in loops until the time is up: uploads of 10 and 100 MiB
// one at a time, invoices of new bookings (each renders) two at a time, 1 MiB Range reads and
// GET /api/bookings. Node's and Chromium's PSS are sampled every second; after a warm-up, the
// least-squares slope of each says how fast memory grows, and the target fails when the slope would
// take the sum past 600 MiB within 7 days of running.
import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaStream } from '../tools/media.js';
import {
  adminToken,
  booking,
  cannonLoad,
  curlGets,
  curlUpload,
  customer,
  fmt,
  get,
  json,
  MiB,
  serverMemory,
  startServer,
  table,
  verdict,
} from './lib.js';

const WEEK_MINUTES = 7 * 24 * 60;

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

function minutesArg(): number {
  const i = process.argv.indexOf('--minutes');
  const minutes = i >= 0 ? Number(process.argv[i + 1]) : 20;
  if (!(minutes > 0)) throw new Error('--minutes takes a positive number');
  return minutes;
}

export async function benchSoak(): Promise<void> {
  const minutes = minutesArg();
  const server = await startServer({ UPLOAD_VIDEO_MAX_BYTES: String(200 * MiB) });
  const work = mkdtempSync(join(tmpdir(), 'bench-long-soak-'));
  try {
    const auth = await customer(server.url);
    const files: Record<number, string> = {};
    for (const size of [10 * MiB, 20 * MiB, 100 * MiB]) {
      files[size] = join(work, `${size}.mp4`);
      await pipeline(mediaStream('mp4', size), createWriteStream(files[size]!));
    }
    const stored = await curlUpload(`${server.url}/api/uploads/video`, auth, files[20 * MiB]!);
    const started = performance.now();
    const deadline = started + minutes * 60_000;
    const running = () => performance.now() < deadline;
    const counts = { uploads: 0, invoices: 0, ranges: 0, lists: 0, errors: 0 };
    const samples: { minute: number; node: number; chromium: number }[] = [];
    // Where node's memory is, every 30 s: its own heap, buffers outside it, and the rest (PDF worker
    // threads' heaps, native allocations), from a fresh reading of the server's memory report.
    const operator = await adminToken(server.url);
    const breakdown: { minute: number; heapUsed: number; external: number; rss: number }[] = [];
    const readBreakdown = async () => {
      const m = (await json(`${server.url}/api/health/memory?fresh=1`, { auth: operator })) as {
        process: { heapUsed: number; external: number; rss: number };
      };
      breakdown.push({ minute: (performance.now() - started) / 60_000, ...m.process });
    };
    const breakdownTimer = setInterval(() => void readBreakdown().catch(() => {}), 30_000);
    const sampler = setInterval(() => {
      const m = serverMemory(server.pid);
      samples.push({ minute: (performance.now() - started) / 60_000, node: m.nodePss, chromium: m.chromePss });
    }, 1000);
    const uploads = async () => {
      for (let i = 0; running(); i++) {
        const r = await curlUpload(`${server.url}/api/uploads/video`, auth, files[i % 4 === 3 ? 100 * MiB : 10 * MiB]!);
        if (r.status !== 201) counts.errors++;
        else await fetch(`${server.url}${r.body.url}`, { method: 'DELETE', headers: { Authorization: auth } });
        counts.uploads++;
      }
    };
    const invoices = async () => {
      while (running()) {
        const id = await booking(server.url, auth);
        if ((await get(`${server.url}/api/bookings/${id}/invoice`, { Authorization: auth })) !== 200) counts.errors++;
        counts.invoices++;
      }
    };
    const ranges = async () => {
      while (running()) {
        const reads = Array.from({ length: 50 }, (_, i) => ({
          url: `${server.url}${stored.body.url}`,
          headers: { Range: `bytes=${(i % 19) * MiB}-${(i % 19) * MiB + MiB - 1}` },
        }));
        const r = await curlGets(reads, { parallel: 2, expect: { status: 206, bytes: MiB } });
        counts.ranges += r.requests;
        counts.errors += r.errors;
      }
    };
    const lists = async () => {
      while (running()) {
        const r = await cannonLoad(`${server.url}/api/bookings`, 2, 500, { Authorization: auth });
        counts.lists += r.requests;
        counts.errors += r.errors;
      }
    };
    await Promise.all([uploads(), invoices(), invoices(), ranges(), lists()]);
    clearInterval(sampler);
    clearInterval(breakdownTimer);

    const tempLeft =
      readdirSync(join(server.dataDir, 'pdf-tmp')).length +
      readdirSync(join(server.dataDir, 'uploads')).filter((f) => f.startsWith('.')).length;
    // The first fifth (at least a minute) is warm-up: JIT, pools, the first browser filling its caches.
    const warm = samples.filter((s) => s.minute >= Math.max(1, minutes / 5));
    const xs = warm.map((s) => s.minute);
    const perTen = (f: (s: (typeof samples)[number]) => number) => slope(xs, warm.map(f)) * 10;
    const sum = (s: (typeof samples)[number]) => s.node + s.chromium;
    const avg = (f: (s: (typeof samples)[number]) => number) => samples.reduce((n, s) => n + f(s), 0) / samples.length;
    const peak = (f: (s: (typeof samples)[number]) => number) => Math.max(...samples.map(f));
    const lastMinute = warm.filter((s) => s.minute >= minutes - 1);
    const now = lastMinute.reduce((n, s) => n + sum(s), 0) / Math.max(lastMinute.length, 1);
    const sumSlope = perTen(sum);
    const inAWeek = now + (Math.max(sumSlope, 0) * WEEK_MINUTES) / 10;
    const row = (name: string, f: (s: (typeof samples)[number]) => number) => ({
      process: name,
      'PSS avg': fmt.mib(avg(f)),
      'PSS peak': fmt.mib(peak(f)),
      'slope after warm-up (per 10 min)': fmt.deltaMib(perTen(f)),
    });
    table(`Long soak: ${minutes} min, ${samples.length} samples (1/s); traffic: ${JSON.stringify(counts)}`, [
      row('node (main + PDF worker threads)', (s) => s.node),
      row('Chromium tree', (s) => s.chromium),
      row('sum', sum),
    ]);
    // Node's figures at the first reading after warm-up and at the last, to see which one moves.
    const after = breakdown.filter((b) => b.minute >= Math.max(1, minutes / 5));
    if (after.length >= 2) {
      const [a, b] = [after[0]!, after[after.length - 1]!];
      const keys = [
        ['RSS', 'rss'],
        ['V8 heap used (main thread)', 'heapUsed'],
        ['external (buffers outside the heap)', 'external'],
      ] as const;
      table(
        'Long soak: node process, first reading after warm-up and last',
        keys.map(([what, k]) => ({
          figure: what,
          [`minute ${a.minute.toFixed(0)}`]: fmt.mib(a[k]),
          [`minute ${b.minute.toFixed(0)}`]: fmt.mib(b[k]),
          change: fmt.deltaMib(b[k] - a[k]),
        })),
      );
    }
    table('Long soak targets', [
      verdict('PSS sum average < 400 MiB', avg(sum) < 400 * MiB, fmt.mib(avg(sum))),
      verdict('PSS sum peak < 600 MiB', peak(sum) < 600 * MiB, fmt.mib(peak(sum))),
      verdict('the trend stays under 600 MiB for 7 days', inAWeek < 600 * MiB, `${fmt.mib(inAWeek)} after 7 days`),
      verdict('zero errors', counts.errors === 0, `${counts.errors}`),
      verdict('zero temp files left', tempLeft === 0, `${tempLeft}`),
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await server.stop();
  }
}
