// One Chromium for the whole process, launched by the main thread; workers connect to it over CDP.
// (A worker that launches its own browser leaves orphaned Chromium processes behind when piscina
// terminates the thread, and N browsers cost ~1.5x the memory.) Restarted every PDF_BROWSER_RENDERS
// renders, like Gotenberg, to shed whatever a long-lived browser accumulates (its successor is launched
// first, so no render waits); relaunched when it dies.
// The main thread only starts and stops the process (chromium-process.ts); it never loads puppeteer.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ChromiumProcess } from './chromium-process.js';
import type { ChromeExecutable } from './discover.js';
import { ownedName, sweepStale } from '../shared/temp-files.js';
import { endOrphanedBrowsers } from './orphans.js';

interface Generation {
  id: number;
  process: ChromiumProcess;
  wsEndpoint: string;
  pid?: number;
  profileDir: string;
  renders: number;
  inFlight: number;
  retired: boolean;
  /** A successor is being launched; this browser keeps rendering until it is up. */
  replacing: boolean;
  alive: boolean;
  closing?: Promise<void>;
}

export interface BrowserLease {
  wsEndpoint: string;
  /** False once the browser behind this lease has exited (the render may be retried on a new one). */
  readonly alive: boolean;
  release(): void;
}

const BASE_ARGS = [
  '--headless', // the headless shell ignores it; a full Chromium needs it
  '--remote-debugging-port=0', // the workers connect over CDP; the port is read from stderr
  '--hide-scrollbars',
  '--disable-gpu',
  '--disable-dev-shm-usage', // Heroku's /dev/shm is tiny
  '--disable-background-networking', // nothing leaves the machine, and no failed look-ups at start
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--disable-breakpad',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--mute-audio',
  '--password-store=basic',
  '--font-render-hinting=none',
  '--force-color-profile=srgb', // the same colours on every machine
  // Pages that are not in front must render at full speed (puppeteer's launcher sets these too).
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
  '--disable-hang-monitor',
  '--disable-ipc-flooding-protection',
];

/**
 * Fewer Chromium processes for the same work, measured here with two pages rendering side by side:
 * 8 processes and 208 MiB PSS idle (259 peak) by default, 2 processes and 156 MiB (206 peak) with
 * these, at the same PDFs per second. The GPU and network services run inside the browser process
 * and all pages share one renderer (every page holds the same trusted template). Low-end device mode
 * (Chromium's settings for small phones: smaller caches and tiles) keeps a browser that has rendered
 * a few hundred invoices at ~195 MiB PSS instead of ~285, within ~5 % of the PDFs per second; a
 * PDF is drawn as vectors, so its output does not change.
 */
export const LEAN_ARGS = [
  '--in-process-gpu',
  '--disable-software-rasterizer',
  '--enable-features=NetworkServiceInProcess2',
  '--renderer-process-limit=1',
  '--enable-low-end-device-mode',
];

const LAUNCH_TIMEOUT_MS = 30_000;

/** Without the sandbox there is nothing for the zygote to prepare; Chromium needs it otherwise. */
function sandboxArgs(): string[] {
  // The sandbox needs user namespaces a root process cannot use; only then is it turned off.
  return process.getuid?.() === 0 ? ['--no-sandbox', '--no-zygote'] : [];
}

/** Every flag the renderer's Chromium runs with (the benchmarks launch their baselines with them too). */
export function chromiumArgs(exe: ChromeExecutable, lean = true): string[] {
  return [...BASE_ARGS, ...(lean ? LEAN_ARGS : []), ...sandboxArgs(), ...exe.extraArgs];
}

/** Chromium's target ids: 32 hex digits. */
const TARGET_ID = /^[0-9A-F]{32}$/i;
/** The DevTools HTTP endpoint beside a browser's WebSocket one (same host and port). */
const devtoolsHttp = (gen: Generation) => `http://${new URL(gen.wsEndpoint).host}`;

export class BrowserManager {
  private current?: Generation;
  private launching?: Promise<Generation>;
  private readonly generations = new Set<Generation>();
  private nextId = 1;
  private closed = false;
  launches = 0;
  crashes = 0;
  lastError?: string;

  constructor(
    readonly executable: ChromeExecutable | undefined,
    private readonly options: { profileRoot: string; restartAfterRenders: number; lean: boolean; logger: Logger },
  ) {
    // A server killed before it could close its browser left the browser running, and its profile.
    const ended = endOrphanedBrowsers(options.profileRoot);
    if (ended) options.logger.warn({ processes: ended }, 'ended Chromium left running by an earlier server');
    sweepStale(options.profileRoot);
  }

  async acquire(): Promise<BrowserLease> {
    const gen = await this.ready();
    gen.inFlight++;
    let released = false;
    return {
      wsEndpoint: gen.wsEndpoint,
      get alive() {
        return gen.alive;
      },
      release: () => {
        if (released) return;
        released = true;
        gen.inFlight--;
        gen.renders++;
        if (gen.renders >= this.options.restartAfterRenders) this.replace(gen);
        if (gen.retired && gen.inFlight === 0) void this.closeGeneration(gen);
      },
    };
  }

  /** Starts the browser ahead of the first invoice; failures are logged and retried on demand. */
  warmUp(): void {
    if (this.executable && !this.closed) this.ready().catch(() => {});
  }

  private ready(): Promise<Generation> {
    if (this.closed) return Promise.reject(new Error('renderer is shutting down'));
    if (this.current?.alive && !this.current.retired) return Promise.resolve(this.current);
    this.launching ??= this.launch().finally(() => (this.launching = undefined));
    return this.launching;
  }

  private async launch(): Promise<Generation> {
    const exe = this.executable;
    if (!exe) throw new Error('no browser');
    const profileDir = join(this.options.profileRoot, ownedName('-profile'));
    let launched: Awaited<ReturnType<typeof ChromiumProcess.launch>>;
    try {
      launched = await ChromiumProcess.launch(
        exe.path,
        [...chromiumArgs(exe, this.options.lean), `--user-data-dir=${profileDir}`],
        LAUNCH_TIMEOUT_MS,
      );
    } catch (err) {
      this.lastError = (err as Error).message;
      rmSync(profileDir, { recursive: true, force: true });
      this.options.logger.error({ err, executable: exe.path }, 'could not launch Chromium');
      throw err;
    }
    const gen: Generation = {
      id: this.nextId++,
      process: launched.process,
      wsEndpoint: launched.wsEndpoint,
      pid: launched.process.pid,
      profileDir,
      renders: 0,
      inFlight: 0,
      retired: false,
      replacing: false,
      alive: true,
    };
    this.launches++;
    this.generations.add(gen);
    void launched.process.exited.then(() => {
      gen.alive = false;
      if (this.current === gen) this.current = undefined;
      if (!gen.closing) {
        this.crashes++;
        this.options.logger.warn(
          { generation: gen.id, pid: gen.pid },
          'Chromium exited unexpectedly; relaunching on demand',
        );
        void this.closeGeneration(gen);
      }
    });
    this.current = gen;
    this.options.logger.info({ generation: gen.id, pid: gen.pid, executable: exe.path }, 'Chromium started');
    return gen;
  }

  /**
   * Launches the successor while `gen` keeps rendering, and retires `gen` once the successor is up:
   * no invoice waits for a launch (~0.5-1 s here, which stalled every render in flight). If the
   * launch fails, `gen` carries on and the next render tries again.
   */
  private replace(gen: Generation): void {
    if (gen.replacing || gen.retired || this.closed) return;
    gen.replacing = true;
    this.launching ??= this.launch().finally(() => (this.launching = undefined));
    this.launching.then(
      () => this.retire(gen),
      () => (gen.replacing = false),
    );
  }

  private retire(gen: Generation): void {
    gen.retired = true;
    if (this.current === gen) this.current = undefined;
    if (gen.inFlight === 0) void this.closeGeneration(gen);
  }

  private closeGeneration(gen: Generation): Promise<void> {
    gen.closing ??= (async () => {
      // The whole process group goes (browser, renderer, utilities): a headless browser has nothing
      // to save, and its profile is deleted right after.
      await gen.process.close().catch(() => {});
      gen.alive = false;
      this.generations.delete(gen);
      rmSync(gen.profileDir, { recursive: true, force: true });
    })();
    return gen.closing;
  }

  /**
   * Closes a page through the browser's DevTools HTTP endpoint, if its browser still runs: for pages
   * whose worker thread has ended (a page outlives the connection that opened it).
   */
  async closePage(wsEndpoint: string, targetId: string): Promise<void> {
    const gen = [...this.generations].find((g) => g.alive && g.wsEndpoint === wsEndpoint);
    if (!gen || !TARGET_ID.test(targetId)) return;
    await fetch(`${devtoolsHttp(gen)}/json/close/${targetId}`).catch(() => {});
  }

  /** How many pages the current browser has open (the tests' check that none is left behind). */
  async openPages(): Promise<number> {
    const gen = this.current;
    if (!gen?.alive) return 0;
    const targets = (await (await fetch(`${devtoolsHttp(gen)}/json/list`)).json()) as { type: string }[];
    return targets.filter((t) => t.type === 'page').length;
  }

  /** Kills the browser's process group now (tests use it to simulate a crash). */
  crashForTest(): void {
    if (this.current?.pid) process.kill(-this.current.pid, 'SIGKILL');
  }

  /** The browser processes' root pids, for memory figures. */
  pids(): number[] {
    return [...this.generations].filter((g) => g.alive && g.pid).map((g) => g.pid!);
  }

  status() {
    return {
      executable: this.executable?.path ?? null,
      source: this.executable?.source ?? null,
      headless: this.executable?.headless ?? null,
      running: this.current?.alive === true,
      pid: this.current?.pid ?? null,
      generation: this.current?.id ?? null,
      rendersOnCurrent: this.current?.renders ?? 0,
      launches: this.launches,
      crashes: this.crashes,
      lastError: this.lastError ?? null,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.launching?.catch(() => {});
    await Promise.all([...this.generations].map((g) => this.closeGeneration(g)));
  }
}
