// Runs server/index.ts as a real child process (signals, exit codes, Chromium on a real shutdown).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEnv } from './context.js';
import { freePort } from './server.js';

export interface ChildServer {
  url: string;
  child: ChildProcess;
  dataDir: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Child servers' METRICS_TOKEN: the bearer that shows health details and /metrics. */
export const METRICS_TOKEN = 'child-metrics-token-0123456789';
export const operatorHeaders = { Authorization: `Bearer ${METRICS_TOKEN}` };

let built: Promise<void> | undefined;
/** `npm run build` once per test process, for suites that run the compiled server as deployed. */
export function buildOnce(): Promise<void> {
  built ??= new Promise((resolve, reject) => {
    const tsc = spawn(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      stdio: 'inherit',
    });
    tsc.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the build failed (${code})`))));
  });
  return built;
}

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs server/<entry> (index or worker) with the test environment, its output collected. */
async function spawnEntry(
  entry: 'index' | 'worker',
  env: Record<string, string>,
  dataDir: string,
  compiled: boolean | undefined,
): Promise<Spawned> {
  if (compiled) await buildOnce();
  const args = compiled ? [`dist/server/${entry}.js`] : ['--import', 'tsx', `server/${entry}.ts`];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...testEnv(dataDir, { LOG_LEVEL: 'info', METRICS_TOKEN, ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

export interface ChildWorker extends Spawned {
  dataDir: string;
  /** SIGTERM and wait (the data folder stays: a later worker may be started on it). */
  stop(): Promise<void>;
}

/** A worker process (npm run worker), once it says it is running. */
export async function startChildWorker(
  env: Record<string, string>,
  dataDir = mkdtempSync(join(tmpdir(), 'booking-core-worker-')),
  options: { compiled?: boolean } = {},
): Promise<ChildWorker> {
  const spawned = await spawnEntry('worker', env, dataDir, options.compiled);
  const until = Date.now() + 30_000;
  while (!spawned.output().includes('booking-core worker running')) {
    if (spawned.child.exitCode !== null) throw new Error(`worker exited early:\n${spawned.output()}`);
    if (Date.now() > until) throw new Error(`worker did not start:\n${spawned.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    ...spawned,
    dataDir,
    async stop() {
      if (spawned.child.exitCode === null && spawned.child.signalCode === null) {
        spawned.child.kill('SIGTERM');
        await spawned.exited;
      }
    },
  };
}

export async function startChildServer(
  env: Record<string, string> = {},
  /** An existing DATA_DIR (a restart after a crash); a fresh one by default. */
  dataDir = mkdtempSync(join(tmpdir(), 'booking-core-child-')),
  /** Run dist/server/index.js (built first) instead of the sources through tsx. */
  options: { compiled?: boolean } = {},
): Promise<ChildServer> {
  const port = await freePort();
  const {
    child,
    output: collected,
    exited,
  } = await spawnEntry('index', { PORT: String(port), HOST: '127.0.0.1', ...env }, dataDir, options.compiled);
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${collected()}`);
    const up = await fetch(`${url}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > until) throw new Error(`server did not start:\n${collected()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    dataDir,
    output: collected,
    exited,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
