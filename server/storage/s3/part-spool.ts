// Splits an upload into S3 parts spooled to temp files, so a part costs disk, not memory: each part is
// written to its own file as the bytes arrive and sent from that file with its length (as tus's S3
// store does). lib-storage's in-memory parts grew RSS by 71 MiB for one 100 MiB upload here.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ownedName } from '../../shared/temp-files.js';
import type { Scavenger } from '../scavenger.js';

export const SPOOL_PREFIX = 's3-part-';

export interface SpooledPart {
  path: string;
  size: number;
  /** The source ended with this part. */
  last: boolean;
}

/**
 * Yields one part file at a time, each at least `partBytes` (but the last), and reads on only when
 * asked for the next: at most one part is being written while the caller sends the ones before it.
 * A yielded file belongs to the caller, who removes it; the one being written is removed here when the
 * source fails or the caller stops.
 */
export async function* spoolParts(
  source: Readable,
  dir: string,
  partBytes: number,
  scavenger?: Scavenger,
): AsyncGenerator<SpooledPart> {
  let path: string | undefined;
  let file: FileHandle | undefined;
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (!file) {
        path = join(dir, ownedName('', SPOOL_PREFIX));
        file = await open(path, 'w', 0o600);
        size = 0;
      }
      await file.write(chunk);
      size += chunk.length;
      scavenger?.add(chunk.length);
      if (size >= partBytes) {
        await file.close();
        file = undefined;
        const full = path!;
        path = undefined;
        yield { path: full, size, last: false };
      }
    }
    if (file) {
      await file.close();
      file = undefined;
      const rest = path!;
      path = undefined;
      yield { path: rest, size, last: true };
    } else {
      // The source ended exactly on a part boundary (or was empty).
      yield { path: '', size: 0, last: true };
    }
  } finally {
    await file?.close().catch(() => {});
    if (path) await unlink(path).catch(() => {});
  }
}
