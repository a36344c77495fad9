// Whether each tuning earns its keep: the figures it was meant to move, with and without it, in one
// run. A tuning stays only if it buys at least 10 % on one of them (bench/RESULTS.md).
// Variants of the current build differ by V8 flags and the upload collections. With BENCH_BEFORE_ENTRY set to an earlier build
// (node dist/server/index.js of a checkout that still had the slab writer, synchronous writes, minor
// collections and kept SQLite statements), that build runs too, with each of its switches turned off.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaStream } from '../tools/media.js';
import {
  booking,
  cannonLoad,
  customer,
  fmt,
  MiB,
  peakRss,
  resetPeakRss,
  SERVER_NODE_FLAGS,
  startServer,
  table,
  uploadAndDelete,
  type ServerVariant,
  median,
} from './lib.js';

interface Variant extends ServerVariant {
  name: string;
  env?: Record<string, string>;
}

interface Figures {
  uploadMBps: number;
  uploadPeakOverWarm: number;
  concurrentPeak: number;
  listsPerSecond: number;
}

async function measure(variant: Variant, files: Record<number, string>): Promise<Figures> {
  const server = await startServer({ UPLOAD_VIDEO_MAX_BYTES: String(512 * MiB), ...variant.env }, variant);
  try {
    const auth = await customer(server.url);
    const send = (size: number) => uploadAndDelete(server.url, auth, files[size]!);
    await send(100 * MiB);
    const warm = peakRss(server.pid);
    resetPeakRss(server.pid);
    const seconds = [await send(100 * MiB), await send(100 * MiB), await send(100 * MiB)];
    const uploadPeak = peakRss(server.pid);
    resetPeakRss(server.pid);
    await Promise.all(Array.from({ length: 5 }, () => send(50 * MiB)));
    const concurrentPeak = peakRss(server.pid);
    for (let i = 0; i < 30; i++) await booking(server.url, auth);
    const list = `${server.url}/api/bookings?limit=20`;
    await cannonLoad(list, 4, 500, { Authorization: auth });
    const lists = await cannonLoad(list, 4, 3000, { Authorization: auth });
    if (lists.errors) throw new Error(`${lists.errors} errors on the list`);
    return {
      uploadMBps: (100 * MiB) / 1e6 / median(seconds),
      uploadPeakOverWarm: uploadPeak - warm,
      concurrentPeak,
      listsPerSecond: lists.rps,
    };
  } finally {
    await server.stop();
  }
}

export async function benchTunings(): Promise<void> {
  const semiSpaceOnly = SERVER_NODE_FLAGS.filter((f) => f.startsWith('--max-semi-space-size'));
  const variants: Variant[] = [
    { name: 'now, npm start flags' },
    { name: 'now, --max-semi-space-size=1 only', nodeFlags: semiSpaceOnly },
    { name: "now, V8's defaults", nodeFlags: [] },
    { name: 'now, no minor GCs', env: { UPLOAD_GC_EVERY_MB: '0' } },
  ];
  const before = process.env.BENCH_BEFORE_ENTRY;
  if (before) {
    const entry = { entry: before, nodeFlags: SERVER_NODE_FLAGS };
    variants.push(
      { name: 'before, every tuning', ...entry },
      { name: 'before, no minor GCs', ...entry, env: { UPLOAD_GC_EVERY_MB: '0' } },
      { name: 'before, no sync writes', ...entry, env: { UPLOAD_SYNC_WRITE_MAX_MS: '0' } },
      { name: 'before, neither', ...entry, env: { UPLOAD_GC_EVERY_MB: '0', UPLOAD_SYNC_WRITE_MAX_MS: '0' } },
    );
  }
  const work = mkdtempSync(join(tmpdir(), 'bench-tunings-'));
  const files: Record<number, string> = {};
  for (const size of [50 * MiB, 100 * MiB]) {
    files[size] = join(work, `${size}.mp4`);
    await pipeline(mediaStream('mp4', size), createWriteStream(files[size]!));
  }
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
  const results = new Map<string, Figures[]>(variants.map((v) => [v.name, []]));
  try {
    // Rounds alternate the variants, so a change in the machine's state touches them all alike.
    for (let round = 0; round < ROUNDS; round++)
      for (const v of variants) results.get(v.name)!.push(await measure(v, files));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const pick = (name: string, f: (x: Figures) => number) => median(results.get(name)!.map(f));
  const base = variants[0]!.name;
  table(
    `Tunings: medians of ${ROUNDS} alternating rounds (ratios against "${base}")`,
    variants.map((v) => {
      const mbps = pick(v.name, (x) => x.uploadMBps);
      const lists = pick(v.name, (x) => x.listsPerSecond);
      const peak = pick(v.name, (x) => x.concurrentPeak);
      return {
        variant: v.name,
        '100 MiB upload MB/s': `${fmt.n(mbps, 0)} (${fmt.ratio(mbps / pick(base, (x) => x.uploadMBps))})`,
        '100 MiB peak over warm-up': fmt.deltaMib(pick(v.name, (x) => x.uploadPeakOverWarm)),
        '5 x 50 MiB peak RSS': `${fmt.mib(peak)} (${fmt.ratio(peak / pick(base, (x) => x.concurrentPeak))})`,
        'GET /api/bookings req/s (SQLite, c = 4)': `${fmt.n(lists, 0)} (${fmt.ratio(lists / pick(base, (x) => x.listsPerSecond))})`,
      };
    }),
  );
}
