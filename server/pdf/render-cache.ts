// Rendered invoices on disk, bounded by size (PDF_CACHE_MB), least recently used first out. An issued
// invoice never changes and its key is its ETag (snapshot + template version), so a repeat download
// streams the stored PDF and Chromium is not involved. A rendered temp file joins the cache as a hard
// link, so the temp file's own life (streamed, then deleted) is unchanged.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { link, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

import { LRUCache } from 'lru-cache';
import { wholeFile } from '../storage/storage.js';

const KEY = /^[0-9a-f]{16,64}$/;
const SUFFIX = '.pdf';

/**
 * A PDF ready to send: open() at most once (a small temp PDF comes back as its bytes, anything else as
 * a stream); done() releases it (closes, or deletes a temp file).
 */
export interface PdfSource {
  size: number;
  open(): Buffer | Readable;
  done(): Promise<void>;
}

export class RenderCache {
  hits = 0;
  misses = 0;
  private readonly index?: LRUCache<string, number>;

  constructor(
    private readonly dir: string,
    readonly maxBytes: number,
  ) {
    if (maxBytes <= 0) return;
    mkdirSync(dir, { recursive: true });
    this.index = new LRUCache<string, number>({
      maxSize: maxBytes,
      sizeCalculation: (size) => Math.max(1, size),
      // Evicted (or replaced): the file goes too, at once, so the folder never holds more than the
      // index. A reader that has it open keeps reading.
      dispose: (_size, key) => rmSync(this.path(key), { force: true }),
    });
    // What an earlier process kept, oldest first, so the newest are the last to go.
    const kept = readdirSync(dir)
      .filter((name) => name.endsWith(SUFFIX) && KEY.test(name.slice(0, -SUFFIX.length)))
      .map((name) => ({ key: name.slice(0, -SUFFIX.length), ...statSync(join(dir, name)) }))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const file of kept) this.add(file.key, file.size);
  }

  get enabled(): boolean {
    return this.index !== undefined;
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid cache key: ${key}`);
    return join(this.dir, `${key}${SUFFIX}`);
  }

  /** The stored PDF, opened (so an eviction meanwhile cannot take it away), or undefined. */
  async open(key: string): Promise<PdfSource | undefined> {
    const size = this.index?.get(key);
    if (size === undefined) {
      this.misses++;
      return undefined;
    }
    const handle = await open(this.path(key), 'r').catch(() => undefined);
    if (!handle) {
      this.index!.delete(key); // removed behind our back
      this.misses++;
      return undefined;
    }
    this.hits++;
    let streamed = false;
    return {
      size,
      open: () => {
        streamed = true;
        return handle.createReadStream(wholeFile(size));
      },
      done: async () => {
        if (!streamed) await handle.close().catch(() => {});
      },
    };
  }

  /** Keeps a rendered file (a temp file the caller still owns and deletes) under `key`. */
  async keep(key: string, file: { path: string; size: number }): Promise<void> {
    if (!this.index || this.index.has(key) || file.size > this.maxBytes) return;
    // Another request may have kept the same invoice a moment ago (EEXIST), or the temp folder is on
    // another file system (EXDEV): either way the download goes on without caching.
    const linked = await link(file.path, this.path(key)).then(
      () => true,
      () => false,
    );
    if (linked) this.add(key, file.size);
  }

  /** Indexes a file now in the folder; one the index refuses (larger than the cache) leaves at once. */
  private add(key: string, size: number): void {
    this.index!.set(key, size);
    if (!this.index!.has(key)) rmSync(this.path(key), { force: true });
  }

  status() {
    return {
      enabled: this.enabled,
      files: this.index?.size ?? 0,
      bytes: this.index?.calculatedSize ?? 0,
      maxBytes: this.maxBytes,
      hits: this.hits,
      misses: this.misses,
    };
  }
}
