// The verifier's HTTP client: JSON calls, streamed downloads with hashing, and a poller that watches
// /api/health/memory while a long step runs. It never holds a large body in memory.
import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Seen {
  /** Every status code the verifier received, to report any 5xx at the end. */
  statuses: number[];
}

export class Client {
  readonly seen: Seen = { statuses: [] };
  /** The admin's bearer, once logged in: it shows health details and fresh memory readings. */
  operator?: string;
  constructor(readonly baseUrl: string) {}

  url(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(this.url(path), init);
    this.seen.statuses.push(res.status);
    return res;
  }

  /** A memory reading taken now (an operator's `?fresh`), not the guard's last sample. */
  memory<T = any>(): Promise<T> {
    return this.json('/api/health/memory?fresh=1', { auth: this.operator });
  }

  /** A JSON call; a non-2xx answer throws ApiError with the server's error code. */
  async json<T = any>(path: string, init: { method?: string; auth?: string; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (init.auth) headers.Authorization = init.auth;
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const res = await this.fetch(path, { method: init.method ?? 'GET', headers, body });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, parsed?.error?.code ?? 'unknown', parsed?.error?.message ?? text);
    return parsed as T;
  }

  /**
   * Streams a body, returning its status, headers, size, sha256 and (optionally) its first bytes.
   * Plain node:http(s), not fetch: fetch adds "Cache-Control: no-cache" to conditional requests, which
   * (rightly) makes a server ignore If-None-Match.
   */
  download(path: string, headers: Record<string, string> = {}, keepBytes = 0) {
    return new Promise<{ status: number; headers: Map<string, string>; size: number; sha256: string; head: Buffer }>(
      (resolve, reject) => {
        const get = this.baseUrl.startsWith('https:') ? httpsGet : httpGet;
        get(this.url(path), { headers }, (res) => {
          this.seen.statuses.push(res.statusCode!);
          const hash = createHash('sha256');
          const kept: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            hash.update(chunk);
            if (size < keepBytes) kept.push(chunk.subarray(0, keepBytes - size));
            size += chunk.length;
          });
          res.on('end', () => {
            const names = new Map(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
            resolve({
              status: res.statusCode!,
              headers: names,
              size,
              sha256: hash.digest('hex'),
              head: Buffer.concat(kept),
            });
          });
          res.on('error', reject);
        }).on('error', reject);
      },
    );
  }
}

export interface MemoryWatch {
  startRss: number;
  maxRss: number;
  maxPercent: number;
  maxHealthMs: number;
  samples: number;
}

/**
 * Polls /api/health/memory (and /api/health's latency) every `everyMs` until stopped. The figures are
 * the server's own; the verifier's memory never enters them.
 */
export async function watchMemory(client: Client, everyMs = 100): Promise<{ stop(): Promise<MemoryWatch> }> {
  const first = await client.memory();
  const watch: MemoryWatch = {
    startRss: first.process.rss,
    maxRss: first.process.rss,
    maxPercent: first.percent,
    maxHealthMs: 0,
    samples: 1,
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const health = await client.fetch('/api/health').catch(() => undefined);
      await health?.arrayBuffer();
      watch.maxHealthMs = Math.max(watch.maxHealthMs, health?.ok ? performance.now() - started : Infinity);
      const m = await client.memory().catch(() => undefined);
      if (m) {
        watch.maxRss = Math.max(watch.maxRss, m.process.rss);
        watch.maxPercent = Math.max(watch.maxPercent, m.percent);
        watch.samples++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return watch;
    },
  };
}
