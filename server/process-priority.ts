// The server's scheduling priority beside Chromium's. Chromium, where it may (root, or CAP_SYS_NICE:
// a container running as root), sets its browser's and renderer's main, compositor and IO threads to
// nice -8 (its "display" priority) and its other threads to 0, whatever it inherited (the same values
// whether started at 0 or at -8). On two cores rendering then outranks the event loop: in the soak
// (bench/memory.ts) the main thread was runnable but waiting for a core ~45 % of the time, and 100 MiB
// uploads took 1.8-2.7 s. So, where it may, the server takes SERVER_NICE (default -8: the same as those
// threads, not above them) at start-up, before it starts threads of its own (the PDF workers and
// libuv's pool inherit it). Where it may not (a Heroku dyno), neither may Chromium: both stay at 0.
import { getPriority, setPriority } from 'node:os';
import type { Logger } from 'pino';

/** Raises the calling thread (the main thread, first thing) to `nice` where allowed; returns the niceness in force. */
export function takePriority(nice: number, logger: Logger): number {
  const current = getPriority();
  if (nice >= current) return current;
  try {
    setPriority(nice); // on Linux, the calling thread and the threads it starts from now on
    logger.info({ nice, was: current }, "raised the server's priority to that of Chromium's display threads");
    return nice;
  } catch {
    logger.info({ nice: current }, "kept the server's priority: raising it needs root or CAP_SYS_NICE");
    return current;
  }
}
