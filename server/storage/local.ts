import { createReadStream, mkdirSync, open as openFd } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MissingObjectError,
  OBJECT_NAME,
  type ByteRange,
  type ListedObject,
  type Storage,
  type StoredObject,
} from './storage.js';
import { SlabFileWriter, type WriteTuning } from './slab-writer.js';
import { countFiles, ownedName, sweepStale } from '../shared/temp-files.js';

const PENDING_PREFIX = '.partial-';
const openForReading = promisify(openFd);
/**
 * Each upload is written through SLAB_COUNT slabs of SLAB_BYTES (slab-writer.ts): 256 KiB slabs move as
 * many MB/s as larger ones with less peak RSS; bench/RESULTS.md has the with-and-without figures.
 */
const SLAB_BYTES = 256 * 1024;
const SLAB_COUNT = 2;

/** Files in one folder. Writes go to a dot-prefixed temp file in the same folder, then rename(2) atomically. */
export class LocalStorage implements Storage {
  readonly driver = 'local';

  constructor(
    /** The folder (tests look inside it). */
    readonly dir: string,
    private readonly tuning: WriteTuning = {},
  ) {
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
      await pipeline(source, new SlabFileWriter(temp, SLAB_BYTES, SLAB_COUNT, this.tuning));
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

  /** Opened first, so a missing file rejects before the caller commits to an answer. */
  async read(name: string, range?: ByteRange): Promise<Readable> {
    let fd: number;
    try {
      fd = await openForReading(this.path(name), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingObjectError(name);
      throw err;
    }
    // The callback-based fs.read underneath, not a FileHandle's promises (slower per chunk).
    return createReadStream('', { fd, ...range, highWaterMark: 64 * 1024 });
  }

  async *list(): AsyncIterable<ListedObject> {
    for (const name of await readdir(this.dir)) {
      if (!OBJECT_NAME.test(name)) continue;
      const found = await this.stat(name);
      if (found) yield { name, ...found };
    }
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

  /** Temp files are named by their process, not their object: a dead process's are all removed. */
  async discardPending(): Promise<void> {
    sweepStale(this.dir, PENDING_PREFIX);
  }
}
