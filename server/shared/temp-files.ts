// Temp files (PDFs, browser profiles) carry the owning process's pid in their name, so a start-up
// sweep removes what a crashed process left behind without touching a live neighbour's files.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const ownedName = (suffix: string, prefix = '') => `${prefix}${process.pid}-${randomUUID()}${suffix}`;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid an owned name was made by (its first field), or undefined for another name. */
export function ownerOf(name: string, prefix = ''): number | undefined {
  const pid = Number(name.slice(prefix.length).split('-')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Creates `dir` and removes entries (named with `prefix`) whose owning process is gone. */
export function sweepStale(dir: string, prefix = ''): number {
  mkdirSync(dir, { recursive: true });
  let removed = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

export async function countFiles(dir: string, prefix = ''): Promise<number> {
  return (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(prefix)).length;
}
