// The PDF renderer as the routes see it: a bounded piscina pool (PDF_WORKERS threads, PDF_QUEUE_MAX
// waiting tasks) in front of one Chromium. A full queue is refused at once with 503 + Retry-After
// rather than piling up memory; a render over PDF_TIMEOUT_MS is a 504; a render that fails because
// Chromium died is retried once on a fresh browser. The worker writes the PDF to a temp file and the
// caller stores it (invoices/archive.ts), so no PDF is ever held in the main thread's memory.
import { join } from 'node:path';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Piscina } from 'piscina';
import type { Config } from '../config.js';
import { DomainError } from '../shared/domain-error.js';
import type { PageOpened, RenderResult, RenderTask } from '../../workers/render-invoice.js';
import { BrowserManager } from './browser.js';
import { discoverChrome, INSTALL_HINT } from './discover.js';
import { countFiles, ownedName, sweepStale } from '../shared/temp-files.js';

export type { RenderResult };

/** The worker module, compiled (dist/workers/*.js) or run from source through tsx (workers/*.ts). */
const WORKER_FILE = new URL(
  `../../workers/render-invoice${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/** Extra time the main thread grants past the worker's own timeout before it terminates the thread. */
const HARD_TIMEOUT_GRACE_MS = 5_000;
const QUEUE_FULL_RETRY_AFTER_S = 2;
const CONNECTION_LOST =
  /Connection closed|Target closed|Session closed|WebSocket is not open|browser has disconnected|ECONNREFUSED/i;

export interface RendererStats {
  rendered: number;
  failed: number;
  timedOut: number;
  rejectedQueueFull: number;
  retriedAfterCrash: number;
}

export interface RenderObserver {
  onRendered?(seconds: number): void;
}

export class PdfRenderer {
  readonly stats: RendererStats = { rendered: 0, failed: 0, timedOut: 0, rejectedQueueFull: 0, retriedAfterCrash: 0 };
  private readonly pool: Piscina<RenderTask, RenderResult>;
  private closing = false;

  private constructor(
    private readonly config: Config['pdf'],
    readonly browsers: BrowserManager,
    private readonly logger: Logger,
    private readonly observer: RenderObserver,
  ) {
    this.pool = new Piscina({
      filename: WORKER_FILE.href,
      workerData: { templatesDir: config.templatesDir },
      // Workers start with the first render and stop after PDF_WORKER_IDLE_MS without one: a server
      // that is not rendering does not carry their ~40 MiB each.
      minThreads: 0,
      maxThreads: config.workers,
      maxQueue: config.queueMax,
      concurrentTasksPerWorker: 1,
      // A render is asynchronous I/O (CDP over a WebSocket): a worker waiting for its next task must
      // keep its event loop running rather than block in Atomics.wait.
      atomics: 'disabled',
      idleTimeout: config.workerIdleMs,
      resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 },
    });
    // Each worker keeps one page open in Chromium, and a page outlives the connection that opened it:
    // when piscina ends a thread (idle for PDF_WORKER_IDLE_MS, or a render aborted), its page is closed
    // here, or every idle spell would leave one behind until the next browser restart.
    const pages = new Map<number, PageOpened['invoicePage']>();
    this.pool.on('message', (message: Partial<PageOpened> | null) => {
      if (message?.invoicePage) pages.set(message.invoicePage.thread, message.invoicePage);
    });
    this.pool.on('workerDestroy', (worker: { id: number }) => {
      const page = pages.get(worker.id);
      pages.delete(worker.id);
      if (page) void this.browsers.closePage(page.wsEndpoint, page.targetId);
    });
  }

  static async start(config: Config, logger: Logger, observer: RenderObserver = {}): Promise<PdfRenderer> {
    const swept = sweepStale(config.pdf.tmpDir);
    if (swept) logger.warn({ files: swept }, 'removed PDF temp files left by an earlier process');
    let executable;
    try {
      executable = await discoverChrome(config.pdf.chromePath);
    } catch (err) {
      logger.error({ err }, 'CHROME_PATH is unusable');
    }
    if (!executable) logger.warn(INSTALL_HINT);
    const browsers = new BrowserManager(executable, {
      profileRoot: join(config.dataDir, 'chromium-profiles'),
      restartAfterRenders: config.pdf.browserRenders,
      lean: config.pdf.leanChromium,
      logger,
    });
    return new PdfRenderer(config.pdf, browsers, logger, observer);
  }

  /**
   * Launches Chromium ahead of the first invoice (the server does at start-up; tests and tools that
   * render nothing never start one). Without it the first render launches the browser itself.
   */
  warmUp(): void {
    this.browsers.warmUp();
  }

  get available(): boolean {
    return this.browsers.executable !== undefined;
  }

  get queueSize(): number {
    return this.pool.queueSize;
  }

  /** Renders one invoice view to a temp file; the caller owns (and must delete) the file. */
  async render(view: unknown, signal?: AbortSignal): Promise<RenderResult> {
    if (!this.available) throw new DomainError('unavailable', 'pdf_unavailable', INSTALL_HINT, 60);
    if (this.closing) throw new DomainError('unavailable', 'shutting_down', 'the server is restarting', 5);
    if (this.pool.queueSize >= this.config.queueMax) throw this.queueFull();
    const started = process.hrtime.bigint();
    try {
      const result = await this.attempt(view, signal).catch(async (err) => {
        if (!(err instanceof BrowserDied)) throw err;
        this.stats.retriedAfterCrash++;
        this.logger.warn('render failed because Chromium exited; retrying once on a new browser');
        return this.attempt(view, signal);
      });
      this.stats.rendered++;
      this.observer.onRendered?.(Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    } catch (err) {
      if (err instanceof DomainError) throw err;
      this.stats.failed++;
      this.logger.error({ err }, 'invoice render failed');
      throw new DomainError('unavailable', 'pdf_render_failed', 'the invoice could not be rendered; try again', 5);
    }
  }

  private queueFull(): DomainError {
    this.stats.rejectedQueueFull++;
    return new DomainError(
      'unavailable',
      'pdf_queue_full',
      'too many invoices are being rendered; try again shortly',
      QUEUE_FULL_RETRY_AFTER_S,
    );
  }

  private async attempt(view: unknown, signal?: AbortSignal): Promise<RenderResult> {
    const lease = await this.browsers.acquire();
    const outPath = join(this.config.tmpDir, ownedName('.pdf'));
    const hardTimeout = AbortSignal.timeout(this.config.timeoutMs + HARD_TIMEOUT_GRACE_MS);
    try {
      return await this.pool.run(
        {
          wsEndpoint: lease.wsEndpoint,
          view,
          outPath,
          timeoutMs: this.config.timeoutMs,
          pageRenders: this.config.pageRenders,
        },
        { signal: signal ? AbortSignal.any([signal, hardTimeout]) : hardTimeout },
      );
    } catch (err) {
      await unlink(outPath).catch(() => {});
      const e = err as Error & { code?: string };
      if (e.message === 'Task queue is at limit') throw this.queueFull();
      if (e.code === 'RENDER_TIMEOUT' || e.message?.startsWith('render timed out') || hardTimeout.aborted) {
        this.stats.timedOut++;
        throw new DomainError('timeout', 'pdf_timeout', `rendering took longer than ${this.config.timeoutMs} ms`);
      }
      if (signal?.aborted) throw new DomainError('client_gone', 'client_closed', 'the client went away');
      // The worker may notice the dead connection before this thread hears of the browser's exit.
      if (!lease.alive || CONNECTION_LOST.test(e.message ?? '')) throw new BrowserDied();
      throw err;
    } finally {
      lease.release();
    }
  }

  countTempFiles(): Promise<number> {
    return countFiles(this.config.tmpDir);
  }

  status() {
    return {
      state: !this.available ? 'unavailable' : this.closing ? 'closing' : 'ready',
      hint: this.available ? undefined : INSTALL_HINT,
      workers: this.config.workers,
      queue: { size: this.pool.queueSize, max: this.config.queueMax },
      browser: this.browsers.status(),
      ...this.stats,
    };
  }

  /** Waits for running renders, stops the workers, then closes Chromium (no process left behind). */
  async close(): Promise<void> {
    this.closing = true;
    await this.pool.close().catch(() => {});
    await this.browsers.close();
  }
}

class BrowserDied extends Error {}
