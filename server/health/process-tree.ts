// Memory of a process tree (Chromium and its renderers) read from /proc. PSS (proportional set size)
// is preferred: RSS counts the pages Chromium's processes share once per process.
import { readdirSync, readFileSync } from 'node:fs';

const PAGE_SIZE = 4096;

/**
 * The fields of a /proc stat file (a process's or a thread's) from the third on, state first: the
 * command name before them may contain spaces and parentheses, so they resume after the last ")".
 */
export function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function parentOf(pid: number): number | undefined {
  try {
    return Number(statFields(`/proc/${pid}/stat`)[1]);
  } catch {
    return undefined;
  }
}

/** The roots and all their descendants that are still running. */
export function processTree(roots: number[]): number[] {
  if (roots.length === 0) return [];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const alive = new Set(roots.filter((pid) => parentOf(pid) !== undefined));
  const queue = [...alive];
  while (queue.length) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (!alive.has(child)) {
        alive.add(child);
        queue.push(child);
      }
    }
  }
  return [...alive];
}

function kilobytesField(text: string, field: string): number | undefined {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) * 1024 : undefined;
}

export interface ProcessMemory {
  rss: number;
  pss: number;
}

export function processMemory(pid: number): ProcessMemory | undefined {
  try {
    const rss = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_SIZE;
    let pss = rss;
    try {
      pss = kilobytesField(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss') ?? rss;
    } catch {}
    return { rss, pss };
  } catch {
    return undefined;
  }
}

export function treeMemory(roots: number[]): ProcessMemory & { processes: number } {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pid of processTree(roots)) {
    const m = processMemory(pid);
    if (!m) continue;
    rss += m.rss;
    pss += m.pss;
    processes++;
  }
  return { rss, pss, processes };
}

/** Peak RSS of a process since start (or since its counters were last reset). */
export function peakRss(pid: number): number | undefined {
  try {
    return kilobytesField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
  } catch {
    return undefined;
  }
}
