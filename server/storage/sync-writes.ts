// Whether an upload's next slab may be written synchronously. Into the page cache a 256 KiB write
// takes ~0.1 ms here, while the trip through libuv's thread pool and back waits for a turn of the
// event loop: beside busy traffic, one turn per slab held the soak's 100 MiB upload to ~25 MB/s
// (p95 3-5 s; written synchronously, 1.5-2.2 s). But when dirty pages pile up faster than the disk takes
// them, the kernel makes writers sleep for tens of milliseconds, and a synchronous write would stall
// every request. So writes are timed, and when their moving average passes `maxMs`, all writes go
// back to the thread pool for a while. An average, not one write: on two saturated cores a write is
// sometimes descheduled for ~10 ms (seen in the soak) with the disk keeping up; a real stall is long
// enough, or comes often enough, to lift the average past the bound within a write or three.

/** How long writes stay on the thread pool after the average passes the bound: time for the disk to catch up. */
const COOLDOWN_MS = 30_000;
/** The newest write's weight in the moving average. */
const WEIGHT = 0.25;

export class SyncWrites {
  private averageMs = 0;
  private pausedUntil = -Infinity;

  /** `maxMs` 0 turns synchronous writes off (every write goes through the thread pool). */
  constructor(
    private readonly maxMs: number,
    private readonly options: {
      /** Told the moving average each time slow writes send writing back to the thread pool. */
      onPause?: (averageMs: number) => void;
      now?: () => number;
    } = {},
  ) {}

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  get allowed(): boolean {
    return this.maxMs > 0 && this.now() >= this.pausedUntil;
  }

  /** Runs a synchronous write and times it; slow writes pause synchronous writing. */
  run<T>(write: () => T): T {
    const started = this.now();
    try {
      return write();
    } finally {
      const finished = this.now();
      this.averageMs += WEIGHT * (finished - started - this.averageMs);
      if (this.averageMs > this.maxMs) {
        this.options.onPause?.(this.averageMs);
        this.pausedUntil = finished + COOLDOWN_MS;
        this.averageMs = 0;
      }
    }
  }
}
