import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OBJECT_NAME, type ByteRange, type Storage, type StoredObject } from './storage.js';
import { countFiles, ownedName, sweepStale } from '../shared/temp-files.js';

const PENDING_PREFIX = '.partial-';

/** Files in one folder. Writes go to a dot-prefixed temp file in the same folder, then rename(2) atomically. */
export class LocalStorage implements Storage {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(name: string): string {
    // Names come from the server, but check anyway: nothing outside `dir` is ever opened.
    if (!OBJECT_NAME.test(name)) throw new Error(`invalid object name: ${name}`);
    return join(this.dir, name);
  }

  /**
   * Durable before it is visible: the bytes are flushed to disk (fsync) before the rename, and the
   * folder after it, so a 201 is never followed by a file that a power cut took back.
   */
  async put(name: string, source: Readable): Promise<StoredObject> {
    const target = this.path(name);
    const temp = join(this.dir, ownedName('', PENDING_PREFIX));
    try {
      // `wx`: a fresh file or nothing; `flush`: fsync before close.
      await pipeline(source, createWriteStream(temp, { flags: 'wx', flush: true }));
      await rename(temp, target);
      await this.syncFolder();
    } catch (err) {
      source.destroy();
      await unlink(temp).catch(() => {});
      throw err;
    }
    return (await this.stat(name))!;
  }

  private async syncFolder(): Promise<void> {
    const folder = await open(this.dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  read(name: string, range?: ByteRange): Readable {
    return createReadStream(this.path(name), { ...range, highWaterMark: 64 * 1024 });
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    try {
      const s = await stat(this.path(name));
      return { size: s.size, modifiedAt: s.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    await unlink(this.path(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  countPending(): Promise<number> {
    return countFiles(this.dir, PENDING_PREFIX);
  }

  async sweepPending(): Promise<number> {
    return sweepStale(this.dir, PENDING_PREFIX);
  }
}
