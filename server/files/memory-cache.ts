// Small stored objects held in memory, bounded in total bytes, least recently used out. The web app
// embeds thumbnails and avatars on every page; serving those from memory skips the open, read and
// close of each request (three trips through libuv's thread pool: most of a 4 KiB file's cost). Larger
// objects stream from storage as before: there the transfer dominates and the page cache holds them.
// Safe because objects never change: names are never reused, and deleting evicts.
import { LRUCache } from 'lru-cache';
import { wholeFile, type ByteRange, type Storage } from '../storage/storage.js';
import type { ObjectBytes } from './serve.js';

/** Above this an object is streamed: a larger one would crowd out many small ones for little gain. */
const MEMORY_CACHE_MAX_OBJECT = 64 * 1024;

export class MemoryCachedStorage implements ObjectBytes {
  private readonly held?: LRUCache<string, Buffer, number>;

  constructor(
    private readonly storage: Storage,
    maxBytes: number,
  ) {
    if (maxBytes <= 0) return; // UPLOADS_MEMORY_CACHE_MB=0: every read streams from storage
    this.held = new LRUCache<string, Buffer, number>({
      maxSize: maxBytes,
      sizeCalculation: (bytes) => bytes.length,
      // Concurrent first requests for a name share one read.
      fetchMethod: (name, _stale, { context: size }) => this.readWhole(name, size),
    });
  }

  read(name: string, range?: ByteRange) {
    return this.storage.read(name, range);
  }

  /** The whole object from memory (read into it on first use), or undefined when it is not cached. */
  async whole(object: { name: string; size: number }): Promise<Buffer | undefined> {
    if (!this.held || object.size === 0 || object.size > MEMORY_CACHE_MAX_OBJECT) return undefined;
    return this.held.fetch(object.name, { context: object.size });
  }

  forget(name: string): void {
    this.held?.delete(name);
  }

  /** Into one buffer of exactly `size` bytes (not slices of a shared pool, so the bound is honest). */
  private async readWhole(name: string, size: number): Promise<Buffer> {
    const bytes = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    for await (const chunk of (await this.storage.read(name, wholeFile(size))) as AsyncIterable<Buffer>) {
      chunk.copy(bytes, filled);
      filled += chunk.length;
    }
    if (filled !== size) throw new Error(`stored object ${name} has ${filled} bytes, its row says ${size}`);
    return bytes;
  }
}
