// Free space of every file system the server writes to (the SQLite file and stored documents, uploads,
// PDF temp files), read with statfs(2) when asked: health figures, Prometheus gauges, and the up-front
// check that refuses an upload which would leave less than the floor (507 before a byte is written,
// rather than a full disk half-way through).
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DiskFigure {
  /** What the server keeps there: data, uploads, pdfTmp. */
  use: string;
  path: string;
  freeBytes: number;
  totalBytes: number;
  status: 'ok' | 'warning';
}

export interface DiskReport {
  status: 'ok' | 'warning';
  floorBytes: number;
  filesystems: DiskFigure[];
}

/**
 * Space an unprivileged process may use (f_bavail), and the file system's size. A folder not made yet
 * will be made on the file system of its nearest existing parent, so that is the one measured.
 */
export async function freeSpace(path: string): Promise<{ freeBytes: number; totalBytes: number }> {
  try {
    const s = await statfs(path);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(path) === path) throw err;
    return freeSpace(dirname(path));
  }
}

export class DiskMonitor {
  constructor(
    /** Each place the server writes to, by what it keeps there. */
    private readonly places: Record<string, string>,
    readonly floorBytes: number,
  ) {}

  async report(): Promise<DiskReport> {
    const filesystems = await Promise.all(
      Object.entries(this.places).map(async ([use, path]): Promise<DiskFigure> => {
        const { freeBytes, totalBytes } = await freeSpace(path);
        return { use, path, freeBytes, totalBytes, status: freeBytes < this.floorBytes ? 'warning' : 'ok' };
      }),
    );
    return {
      status: filesystems.some((f) => f.status === 'warning') ? 'warning' : 'ok',
      floorBytes: this.floorBytes,
      filesystems,
    };
  }

  /** Whether `bytes` more written under `path` still leave the floor free. */
  async hasRoomFor(path: string, bytes: number): Promise<boolean> {
    return (await freeSpace(path)).freeBytes - bytes >= this.floorBytes;
  }
}
