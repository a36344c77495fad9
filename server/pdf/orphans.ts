// Chromium left running by a server that was killed (SIGKILL, the OOM killer) before it could close it:
// ~200 MiB each, and the next start would launch another beside it. The marker is the profile folder
// the server gave it (--user-data-dir under DATA_DIR/chromium-profiles, named with the server's pid):
// a browser whose profile belongs to a process that is gone is ended, with its whole process group.
// Nothing else is touched: another server's browser (its owner alive) and unrelated Chromiums keep running.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { alive, ownerOf } from '../shared/temp-files.js';

/** Pids of processes started with a --user-data-dir directly under `profileRoot` whose owner is gone. */
export function orphanedBrowsers(profileRoot: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    const profile = args.find((a) => a.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length);
    if (!profile || dirname(profile) !== profileRoot) continue;
    const owner = ownerOf(basename(profile));
    if (owner !== undefined && owner !== process.pid && !alive(owner)) found.push(pid);
  }
  return found;
}

/** Ends every orphaned browser under `profileRoot` (SIGKILL to its process group); returns how many. */
export function endOrphanedBrowsers(profileRoot: string): number {
  const pids = orphanedBrowsers(profileRoot);
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL'); // the browser leads its own group (it was spawned detached)
    } catch {
      try {
        process.kill(pid, 'SIGKILL'); // a child of the browser: not a group leader
      } catch {}
    }
  }
  return pids.length;
}
