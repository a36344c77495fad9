import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Scavenger } from '../server/storage/scavenger.js';
import { SlabFileWriter } from '../server/storage/slab-writer.js';
import { SyncWrites } from '../server/storage/sync-writes.js';
import { openDescriptors } from './helpers/server.js';

const MiB = 1024 * 1024;

describe('slab file writer (real files)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'slab-writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every byte in order, whatever the chunk sizes around the slab size', async () => {
    // Chunks smaller than, equal to and larger than a slab, ending mid-slab.
    const chunks = [1, 4096, 4095, 8192, 20_000, 3, 8192 * 3 + 7, 1].map((n) => randomBytes(n));
    const target = join(dir, 'out');
    await pipeline(Readable.from(chunks), new SlabFileWriter(target, 8192, 2));
    expect(readFileSync(target).equals(Buffer.concat(chunks))).to.equal(true);
  });

  it('puts every byte at its place over many slabs and chunk sizes', async () => {
    const chunks = Array.from({ length: 400 }, (_, i) => randomBytes(1 + ((i * 7919) % 20_000)));
    const target = join(dir, 'many');
    await pipeline(Readable.from(chunks), new SlabFileWriter(target, 16 * 1024, 4));
    expect(readFileSync(target).equals(Buffer.concat(chunks))).to.equal(true);
  });

  it('an empty source makes an empty file', async () => {
    const target = join(dir, 'empty');
    await pipeline(Readable.from([]), new SlabFileWriter(target, 8192, 2));
    expect(readFileSync(target).length).to.equal(0);
  });

  it('never overwrites: an existing file fails the pipeline and is left as it was', async () => {
    const target = join(dir, 'taken');
    writeFileSync(target, 'original');
    const error = await pipeline(Readable.from([Buffer.from('new')]), new SlabFileWriter(target, 8192, 2)).catch(
      (err: NodeJS.ErrnoException) => err,
    );
    expect(error).to.have.property('code', 'EEXIST');
    expect(readFileSync(target, 'utf8')).to.equal('original');
  });

  it('a source that fails mid-way closes the file descriptor', async () => {
    const before = openDescriptors().length;
    async function* failing() {
      yield randomBytes(20_000);
      throw new Error('client went away');
    }
    const writer = new SlabFileWriter(join(dir, 'cut'), 8192, 2);
    const closed = new Promise((resolve) => writer.once('close', resolve));
    const error = await pipeline(Readable.from(failing()), writer).catch((err: Error) => err);
    expect(error).to.have.property('message', 'client went away');
    await closed; // the descriptor is closed once the write under way has returned
    expect(openDescriptors().length).to.equal(before);
  });
});

/** Synchronous writes whose durations are scripted: the nth write takes `writeMs[n]` ms (0 once they run out). */
class ScriptedWrites extends SyncWrites {
  private time = 0;
  writes = 0;
  readonly pauses: number[] = [];

  constructor(private readonly writeMs: number[]) {
    super(10, { now: () => this.time, onPause: (ms) => this.pauses.push(ms) });
  }

  override run<T>(write: () => T): T {
    return super.run(() => {
      this.writes++;
      this.time += this.writeMs.shift() ?? 0;
      return write();
    });
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

describe('synchronous writes and their fallback', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sync-writes-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('quick writes stay synchronous; one descheduled write does not stop them, a stall does', () => {
    const sync = new ScriptedWrites([0.1, 0.1, 15, 0.1, 0.1, 60]);
    for (let i = 0; i < 5; i++) {
      expect(sync.allowed).to.equal(true);
      sync.run(() => undefined);
    }
    expect(sync.pauses).to.deep.equal([]); // the 15 ms write lifted the average to ~3.8 ms, under 10
    sync.run(() => undefined); // 60 ms: the average passes 10 ms
    expect(sync.pauses).to.have.length(1);
    expect(sync.pauses[0]).to.be.greaterThan(10);
    expect(sync.allowed).to.equal(false);
    sync.advance(29_000);
    expect(sync.allowed).to.equal(false);
    sync.advance(1_000);
    expect(sync.allowed).to.equal(true);
  });

  it('0 ms turns them off', () => {
    expect(new SyncWrites(0).allowed).to.equal(false);
  });

  it('a writer writes its slabs synchronously, then through the thread pool after a stall, every byte in order', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => randomBytes(1000 + ((i * 7919) % 9000)));
    const size = chunks.reduce((n, c) => n + c.length, 0);
    const slabs = Math.ceil(size / 8192);
    // The fifth write stalls: it and the four before it are synchronous, every later one is not.
    const sync = new ScriptedWrites([0.1, 0.1, 0.1, 0.1, 100]);
    const target = join(dir, 'mixed');
    await pipeline(Readable.from(chunks), new SlabFileWriter(target, 8192, 2, { syncWrites: sync }));
    expect(readFileSync(target).equals(Buffer.concat(chunks))).to.equal(true);
    expect(sync.writes).to.equal(5);
    expect(sync.pauses).to.have.length(1);
    expect(slabs).to.be.greaterThan(10);
  });

  it('without a stall every slab is written synchronously', async () => {
    const chunks = Array.from({ length: 40 }, () => randomBytes(5000));
    const sync = new ScriptedWrites([]);
    const target = join(dir, 'sync');
    await pipeline(Readable.from(chunks), new SlabFileWriter(target, 8192, 2, { syncWrites: sync }));
    expect(readFileSync(target).equals(Buffer.concat(chunks))).to.equal(true);
    expect(sync.writes).to.equal(Math.ceil((40 * 5000) / 8192));
  });
});

describe('scavenger', () => {
  it('collects the young generation once per `everyBytes` counted', () => {
    const scavenger = new Scavenger(1000);
    scavenger.add(999);
    expect(scavenger.collections).to.equal(0);
    scavenger.add(1);
    scavenger.add(2500);
    expect(scavenger.collections).to.equal(2);
    const off = new Scavenger(0);
    off.add(10 ** 9);
    expect(off.collections).to.equal(0);
  });

  it('frees dead buffers that V8 alone would have left for later', async () => {
    const scavenger = new Scavenger(MiB);
    let garbage: Buffer[] | undefined = Array.from({ length: 16 }, () => Buffer.allocUnsafeSlow(256 * 1024));
    void garbage;
    const before = process.memoryUsage().arrayBuffers;
    garbage = undefined;
    scavenger.add(MiB);
    // Freed memory is handed back by a sweeper that may run just after the collection.
    let after = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 100 && before - after < 4 * MiB; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      after = process.memoryUsage().arrayBuffers;
    }
    expect(before - after).to.be.at.least(4 * MiB);
  });
});
