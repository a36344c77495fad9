import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readlinkSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import { statFields } from '../../server/health/process-tree.js';

/** A loopback port free right now (for a child process to listen on). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Serves the app on an ephemeral loopback port (real sockets: streaming, aborts, keep-alive). */
export async function listen(app: Express): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

export const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

export const filesIn = (dir: string) => readdirSync(dir).sort();

/** What this process's open file descriptors point at, optionally only those under `prefix`. */
export function openDescriptors(prefix = ''): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(prefix) ? [target] : [];
    } catch {
      return []; // closed meanwhile (readdir's own descriptor, for one)
    }
  });
}

/** Polls until `check` holds or the time is up (for effects that follow a socket close). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The niceness of a process's main thread (field 19 of its stat; on Linux each thread has its own). */
export const mainThreadNice = (pid: number): number => Number(statFields(`/proc/${pid}/stat`)[16]);

/** Whether a process with this pid is still running (signal 0 only checks). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
