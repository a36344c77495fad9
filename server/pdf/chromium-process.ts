// Starts one Chromium process and tells the caller its DevTools WebSocket endpoint. The main thread
// needs nothing more (the workers drive pages through puppeteer-core over that endpoint), and doing
// it here keeps ~15 MiB of launcher modules (@puppeteer/browsers pulls in its download CLI) out of a
// process that must stay small.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Chromium prints this on stderr once it listens for DevTools connections. */
const DEVTOOLS_LINE = /^DevTools listening on (ws:\/\/\S+)$/;
/** Lines kept to explain a failed start. */
const KEPT_LINES = 20;

export class ChromiumProcess {
  /** Resolves once the process has exited, whatever the reason. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly killOnExit = () => this.kill();

  private constructor(executable: string, args: string[]) {
    // Its own process group, so that killing it takes its renderers and utilities along.
    this.child = spawn(executable, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    // Never leave a browser behind, even if this process exits without closing it.
    process.once('exit', this.killOnExit);
    void this.exited.then(() => process.off('exit', this.killOnExit));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Launches and waits for the DevTools endpoint; a process that fails to start is killed. */
  static async launch(
    executable: string,
    args: string[],
    timeoutMs: number,
  ): Promise<{ process: ChromiumProcess; wsEndpoint: string }> {
    const chromium = new ChromiumProcess(executable, args);
    try {
      return { process: chromium, wsEndpoint: await chromium.endpoint(timeoutMs) };
    } catch (err) {
      await chromium.close();
      throw err;
    }
  }

  private endpoint(timeoutMs: number): Promise<string> {
    const lines: string[] = [];
    const stderr = createInterface({ input: this.child.stderr! });
    let timer: NodeJS.Timeout | undefined;
    return new Promise<string>((resolve, reject) => {
      const fail = (why: string) =>
        reject(new Error(`Chromium did not start: ${why}${lines.length ? `\n${lines.join('\n')}` : ''}`));
      timer = setTimeout(() => fail(`no DevTools endpoint after ${timeoutMs} ms`), timeoutMs);
      this.child.once('error', (err) => fail(err.message));
      void this.exited.then(() => fail(`exited with code ${this.child.exitCode ?? this.child.signalCode}`));
      stderr.on('line', (line) => {
        const match = DEVTOOLS_LINE.exec(line);
        if (match) resolve(match[1]!);
        else lines.splice(0, Math.max(0, lines.push(line) - KEPT_LINES));
      });
    }).finally(() => {
      clearTimeout(timer);
      // Chromium keeps writing to stderr: the interface goes on draining it, nobody listens.
      stderr.removeAllListeners('line');
    });
  }

  /** Kills the whole process group at once: a headless browser has nothing to save. */
  kill(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.pid) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  async close(): Promise<void> {
    this.kill();
    await this.exited;
  }
}
