// Shared by the benchmarks: a compiled server as a child process, /proc memory readings, a closed-loop
// load generator with exact percentiles, and table printing. Every figure is measured in the run.
import autocannon from 'autocannon';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once, type EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import knex from 'knex';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { peakRss as readPeakRss, processMemory, processTree } from '../server/health/process-tree.js';

export const MiB = 1024 * 1024;
export const ADMIN = { email: 'bench-admin@example.test', password: 'bench-admin-password' };

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The V8 flags of `npm start` (the Procfile's too), then any from BENCH_NODE_FLAGS (profiling, trials). */
export const SERVER_NODE_FLAGS = [
  ...(JSON.parse(readFileSync('package.json', 'utf8')).scripts.start as string)
    .split(' ')
    .filter((w) => w.startsWith('--')),
  ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];

let built = false;
function buildOnce(): void {
  if (!built)
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      stdio: 'inherit',
    });
  built = true;
}

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface ServerVariant {
  /** V8 flags instead of those of `npm start` (tunings.ts measures with and without them). */
  nodeFlags?: string[];
  /** Another compiled entry point (an earlier build, as the "before" of a comparison). */
  entry?: string;
}

/** The compiled server (node dist/server/index.js), as production runs it, with request logs off. */
export async function startServer(env: Record<string, string> = {}, variant: ServerVariant = {}): Promise<BenchServer> {
  buildOnce();
  const dataDir = mkdtempSync(join(tmpdir(), 'booking-bench-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...(variant.nodeFlags ?? SERVER_NODE_FLAGS), variant.entry ?? 'dist/server/index.js'],
    {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        LOGIN_RATE_LIMIT: '10000',
        REGISTER_RATE_LIMIT: '10000',
        UPLOADS_AT_ONCE: '10', // the benches run five uploads of one customer at once
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${url}/api/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 200 || child.exitCode !== null) throw new Error('bench server did not start');
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    dataDir,
    child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A baseline server from bench/baselines/ in its own process, with the server's V8 flags. */
export async function startBaseline(script: string, dir: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, join('bench/baselines', script), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [port] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${port.toString().trim()}`, stop: () => child.kill() };
}

/**
 * Uploads a file with curl: a separate, lean client process reading from the page cache. Seconds come
 * from curl's own clock (connect to the last byte of the response), so its start-up is not counted.
 */
export async function curlUpload(
  url: string,
  auth: string,
  file: string,
): Promise<{ status: number; seconds: number; body: any }> {
  const { stdout } = await promisify(execFile)('curl', [
    '-sS',
    '-H',
    `Authorization: ${auth}`,
    '-F',
    `file=@${file};type=video/mp4`,
    '-w',
    '\n%{http_code} %{time_total}',
    url,
  ]);
  const lines = stdout.trimEnd().split('\n');
  const [status, seconds] = lines.pop()!.split(' ');
  return { status: Number(status), seconds: Number(seconds), body: JSON.parse(lines.join('\n') || 'null') };
}

/** Uploads `file` as a video through the server with curl, requires the 201, deletes it; returns curl's seconds. */
export async function uploadAndDelete(serverUrl: string, auth: string, file: string): Promise<number> {
  const { status, seconds, body } = await curlUpload(`${serverUrl}/api/uploads/video`, auth, file);
  if (status !== 201) throw new Error(`upload failed: ${status} ${JSON.stringify(body)}`);
  await fetch(`${serverUrl}${body.url}`, { method: 'DELETE', headers: { Authorization: auth } });
  return seconds;
}

/**
 * GETs each of `requests` once, at most `parallel` at a time, with one curl process (-Z), discarding
 * the bodies: a client that costs ~0.5 ms of CPU per 10 MiB, where autocannon, parsing bodies in
 * JavaScript, used both cores and measured itself rather than the server. Every answer is checked.
 */
export async function curlGets(
  requests: { url: string; headers?: Record<string, string> }[],
  opts: { parallel: number; expect: { status: number; bytes: number } },
): Promise<LoadResult & { megabytesPerSecond: number; p99: number }> {
  const args = ['-Z', '--parallel-max', String(opts.parallel)];
  // Headers apply to every URL after them up to the next --next, which starts a new group.
  let group: string | undefined;
  for (const { url, headers = {} } of requests) {
    const key = JSON.stringify(headers);
    if (key !== group) {
      if (group !== undefined) args.push('--next');
      args.push('-sS', '-w', '%{http_code} %{size_download} %{time_total}\n');
      for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
      group = key;
    }
    args.push(url, '-o', '/dev/null');
  }
  const started = performance.now();
  const { stdout } = await promisify(execFile)('curl', args, { maxBuffer: 16 * MiB });
  const seconds = (performance.now() - started) / 1000;
  const answers = stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const statuses: Record<number, number> = {};
  for (const [status] of answers) statuses[Number(status)] = (statuses[Number(status)] ?? 0) + 1;
  const good = answers.filter(
    ([status, bytes]) => `${status} ${bytes}` === `${opts.expect.status} ${opts.expect.bytes}`,
  ).length;
  const times = answers.map(([, , total]) => Number(total) * 1000).sort((a, b) => a - b);
  return {
    requests: answers.length,
    errors: requests.length - good,
    seconds,
    rps: answers.length / seconds,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    max: times[times.length - 1] ?? NaN,
    statuses,
    megabytesPerSecond: (good * opts.expect.bytes) / 1e6 / seconds,
  };
}

/** `url` downloaded `count` times (see curlGets). */
export function curlDownloads(
  url: string,
  opts: {
    count: number;
    parallel: number;
    headers?: Record<string, string>;
    expect: { status: number; bytes: number };
  },
): ReturnType<typeof curlGets> {
  return curlGets(
    Array.from({ length: opts.count }, () => ({ url, headers: opts.headers })),
    opts,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function json(url: string, init: { method?: string; auth?: string; body?: unknown } = {}): Promise<any> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.auth ? { Authorization: init.auth } : {}),
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function customer(url: string): Promise<string> {
  const email = `bench-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`;
  return `Bearer ${(await json(`${url}/api/auth/register`, { method: 'POST', body: { email, password: 'bench-password-1', name: 'Bench Customer' } })).token}`;
}

export async function adminToken(url: string): Promise<string> {
  return `Bearer ${(await json(`${url}/api/auth/login`, { method: 'POST', body: ADMIN })).token}`;
}

export async function booking(
  url: string,
  auth: string,
  scheduledAt = new Date(Date.now() + 86_400_000).toISOString(),
  state = '29',
): Promise<number> {
  const body = {
    serviceCode: 'gst-returns-monthly',
    scheduledAt,
    billing: { name: 'Bench Traders', address: '1 MG Road', city: 'Bengaluru', state, pincode: '560001' },
  };
  const { id } = await json(`${url}/api/bookings`, { method: 'POST', auth, body });
  // Confirmed by the admin, so that its invoice can be issued.
  if (!adminAuths.has(url)) adminAuths.set(url, adminToken(url));
  await json(`${url}/api/admin/bookings/${id}`, {
    method: 'PATCH',
    auth: await adminAuths.get(url),
    body: { status: 'confirmed' },
  });
  return id;
}
const adminAuths = new Map<string, Promise<string>>();

/** Peak RSS since the last reset (VmHWM); resetting needs write access to /proc/PID/clear_refs. */
export function peakRss(pid: number): number {
  return readPeakRss(pid) ?? 0;
}
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Memory of the server process and, separately, of its Chromium descendants. */
export function serverMemory(pid: number): { nodeRss: number; nodePss: number; chromeRss: number; chromePss: number } {
  const node = processMemory(pid) ?? { rss: 0, pss: 0 };
  let chromeRss = 0;
  let chromePss = 0;
  for (const p of processTree([pid])) {
    if (p === pid) continue;
    const m = processMemory(p);
    if (m) {
      chromeRss += m.rss;
      chromePss += m.pss;
    }
  }
  return { nodeRss: node.rss, nodePss: node.pss, chromeRss, chromePss };
}

/** Samples serverMemory every `ms` until stopped; returns averages and peaks. */
export function sampleMemory(pid: number, ms = 250) {
  const samples: ReturnType<typeof serverMemory>[] = [];
  const timer = setInterval(() => samples.push(serverMemory(pid)), ms);
  samples.push(serverMemory(pid));
  return {
    stop() {
      clearInterval(timer);
      samples.push(serverMemory(pid));
      const stat = (f: (s: (typeof samples)[number]) => number) => ({
        avg: samples.reduce((n, s) => n + f(s), 0) / samples.length,
        peak: Math.max(...samples.map(f)),
      });
      return {
        samples: samples.length,
        nodeRss: stat((s) => s.nodeRss),
        nodePss: stat((s) => s.nodePss),
        chromeRss: stat((s) => s.chromeRss),
        chromePss: stat((s) => s.chromePss),
        sumPss: stat((s) => s.nodePss + s.chromePss),
      };
    },
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1000 });

/** A lean GET over a keep-alive agent (fetch costs the shared CPU more than the server under test). */
export function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Five uploads at once (as the targets name them): their wall time and the server's peak RSS meanwhile. */
export async function concurrentUploads(
  pid: number,
  send: () => Promise<unknown>,
): Promise<{ seconds: number; peak: number }> {
  resetPeakRss(pid);
  const started = performance.now();
  await Promise.all(Array.from({ length: 5 }, send));
  return { seconds: (performance.now() - started) / 1000, peak: peakRss(pid) };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  max: number;
  statuses: Record<number, number>;
}

/** Closed loop: `concurrency` clients each send requests back to back until `total` are done. */
export async function load(
  concurrency: number,
  total: number,
  /** The status, or the status with the client's own timing of the request. */
  send: (i: number) => Promise<number | { status: number; ms: number }>,
): Promise<LoadResult> {
  const times: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        let ms: number | undefined;
        try {
          const sent = await send(i);
          const status = typeof sent === 'number' ? sent : sent.status;
          if (typeof sent !== 'number') ms = sent.ms;
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status >= 400) errors++;
        } catch {
          errors++;
        }
        times.push(ms ?? performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    requests: total,
    errors,
    seconds,
    rps: total / seconds,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    max: times[times.length - 1]!,
    statuses,
  };
}

/**
 * The same figures from autocannon, a much lighter client than node:http in this process (the client
 * shares the two cores with the server). Every response time is kept, so p95 is exact.
 */
export async function cannonLoad(
  url: string,
  connections: number,
  amount: number,
  headers: Record<string, string> = {},
  /** Requests taken in turn by all connections together: paths, or paths with their own headers. */
  paths?: (string | { path: string; headers?: Record<string, string> })[],
): Promise<LoadResult> {
  const times: number[] = [];
  const statuses: Record<number, number> = {};
  // One counter for all connections (autocannon would start each connection at the first request).
  let next = 0;
  const requests: autocannon.Request[] | undefined = paths && [
    {
      setupRequest: (req) => {
        const p = paths[next++ % paths.length]!;
        if (typeof p === 'string') return { ...req, path: p };
        return { ...req, path: p.path, headers: { ...req.headers, ...p.headers } };
      },
    },
  ];
  // Without a callback autocannon returns its instance, an event emitter that is also a promise.
  const instance = autocannon({ url, connections, amount, headers, requests }) as unknown as EventEmitter &
    Promise<autocannon.Result>;
  let lastResponse = 0;
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    lastResponse = performance.now();
    times.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const started = performance.now();
  const result = await instance;
  // Until the last response: autocannon itself only finishes on its next one-second tick.
  const seconds = (lastResponse - started) / 1000;
  times.sort((a, b) => a - b);
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    requests: times.length,
    errors,
    seconds,
    rps: times.length / seconds,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    max: times[times.length - 1] ?? NaN,
    statuses,
  };
}

export const fmt = {
  mib: (b: number) => `${(b / MiB).toFixed(1)} MiB`,
  /** A change in MiB with its sign: +4.1 MiB, -0.6 MiB. */
  deltaMib: (b: number) => `${b < 0 ? '-' : '+'}${(Math.abs(b) / MiB).toFixed(1)} MiB`,
  ms: (n: number) => `${n.toFixed(1)} ms`,
  n: (n: number, d = 1) => n.toFixed(d),
  ratio: (n: number) => `${n.toFixed(2)}x`,
};

export function table(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n## ${title}\n`);
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

export function verdict(name: string, ok: boolean, detail: string): Record<string, string> {
  return { target: name, measured: detail, met: ok ? 'yes' : 'NO' };
}

const MYSQL = process.env.MYSQL_TEST_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A new, empty MySQL database for a bench server: its URL, and `drop` to remove it afterwards. */
export async function benchDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(MYSQL);
  const admin = knex({
    client: 'mysql2',
    connection: { host: base.hostname, port: Number(base.port || 3306), user: base.username, password: base.password },
    pool: { min: 0, max: 1 },
  });
  await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.raw(`CREATE DATABASE \`${name}\``);
  const url = new URL(MYSQL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.destroy();
    },
  };
}
