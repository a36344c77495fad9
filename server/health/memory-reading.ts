// What "memory in use" means for this process, read from the most specific source there is:
// 1. the cgroup's limit when the process runs in a limited container (a dyno, a pod);
// 2. MEMORY_LIMIT_MB when set: this process plus its Chromium tree against that budget;
// 3. the machine's total and available memory.
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { treeMemory } from './process-tree.js';

export type LimitSource = 'cgroup' | 'MEMORY_LIMIT_MB' | 'system';

export interface MemoryReading {
  source: LimitSource;
  total: number;
  used: number;
  available: number;
  percent: number;
  process: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  chromium: { rss: number; pss: number; processes: number };
}

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Limits above this are "unlimited" markers (cgroup v1 writes 2^63 rounded to a page). */
const UNLIMITED = 2 ** 60;

interface CgroupFiles {
  limit: string;
  usage: string;
  stat: string;
  inactiveField: string;
}

const V2_FILES = { limit: 'memory.max', usage: 'memory.current', inactiveField: 'inactive_file' };
const V1_FILES = {
  limit: 'memory.limit_in_bytes',
  usage: 'memory.usage_in_bytes',
  inactiveField: 'total_inactive_file',
};

function cgroupFiles(dir: string, names: typeof V2_FILES): CgroupFiles {
  return {
    limit: `${dir}/${names.limit}`,
    usage: `${dir}/${names.usage}`,
    stat: `${dir}/memory.stat`,
    inactiveField: names.inactiveField,
  };
}

/** Finds this process's memory cgroup (v2 unified, else v1) if it sets a real limit. */
export function findCgroup(): CgroupFiles | undefined {
  const lines = read('/proc/self/cgroup')?.split('\n') ?? [];
  const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'))?.split(':')[2];
  // The same three files under v2 and v1 names; our own cgroup first, then the mount's root.
  const candidates: CgroupFiles[] = [
    ...[v2 && `/sys/fs/cgroup${v2}`, '/sys/fs/cgroup'].map((dir) => dir && cgroupFiles(dir, V2_FILES)),
    ...[v1 && `/sys/fs/cgroup/memory${v1}`, '/sys/fs/cgroup/memory'].map((dir) => dir && cgroupFiles(dir, V1_FILES)),
  ].filter((c): c is CgroupFiles => Boolean(c));
  return candidates.find((c) => {
    const limit = Number(read(c.limit));
    return Number.isFinite(limit) && limit > 0 && limit < UNLIMITED && read(c.usage) !== undefined;
  });
}

function statField(text: string | undefined, field: string): number {
  const match = text?.match(new RegExp(`^${field} (\\d+)$`, 'm'));
  return match ? Number(match[1]) : 0;
}

function meminfoAvailable(): number {
  const match = read('/proc/meminfo')?.match(/^MemAvailable:\s+(\d+) kB$/m);
  return match ? Number(match[1]) * 1024 : freemem();
}

export interface SamplerOptions {
  limitBytes?: number;
  /** Root pids of the Chromium processes this process owns. */
  chromiumPids: () => number[];
}

/**
 * Readings taken on the memory guard's timer. The Chromium tree is read only when a reading needs it:
 * walking /proc and every renderer's page tables (smaps_rollup) cost the main thread ~12 ms a second
 * beside busy renders (profiled in the invoices bench), and only MEMORY_LIMIT_MB counts it in "used".
 * Otherwise it is read, once per reading, when someone looks (/api/health/memory, a metrics scrape).
 */
export function createMemorySampler(options: SamplerOptions): () => MemoryReading {
  const cgroup = findCgroup();
  return () => {
    const mem = process.memoryUsage();
    let tree: MemoryReading['chromium'] | undefined;
    const chromium = () => (tree ??= treeMemory(options.chromiumPids()));
    let source: LimitSource;
    let total: number;
    let used: number;
    if (cgroup) {
      source = 'cgroup';
      total = Number(read(cgroup.limit));
      // Page cache the kernel can drop at once (inactive files, e.g. just-written uploads) is not pressure.
      used = Number(read(cgroup.usage)) - statField(read(cgroup.stat), cgroup.inactiveField);
    } else if (options.limitBytes) {
      source = 'MEMORY_LIMIT_MB';
      total = options.limitBytes;
      used = mem.rss + chromium().pss;
    } else {
      source = 'system';
      total = totalmem();
      used = total - meminfoAvailable();
    }
    used = Math.max(0, used);
    return {
      source,
      total,
      used,
      available: Math.max(0, total - used),
      percent: Math.round((used / total) * 1000) / 10,
      process: {
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
      },
      get chromium() {
        return chromium();
      },
    };
  };
}
