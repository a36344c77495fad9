import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Scavenger } from '../server/storage/scavenger.js';
import { SlabFileWriter } from '../server/storage/slab-writer.js';
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

describe('slab writer: what it is kept for', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'slab-effect-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // The HTTP parser hands an upload over in 64 KiB chunks; written as they come (fs.createWriteStream)
  // that is one write(2) per chunk. Through 256 KiB slabs it is a quarter as many, each a full slab.
  it('writes 64 KiB chunks to disk as whole 256 KiB slabs: far fewer write calls than a write stream', () => {
    // syscw counts every write(2) of a process, so each writer runs alone in a fresh process where
    // nothing else writes; the thread pool's wake-ups are counted too, hence a comparison, not a count.
    const callsFor = (writer: string) => {
      const script = `
        import { createWriteStream, readFileSync } from 'node:fs';
        import { randomBytes } from 'node:crypto';
        import { Readable } from 'node:stream';
        import { pipeline } from 'node:stream/promises';
        import { SlabFileWriter } from './server/storage/slab-writer.ts';
        const chunks = Array.from({ length: 256 }, () => randomBytes(64 * 1024)); // 16 MiB
        const calls = () => Number(/^syscw: (\\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
        const target = ${JSON.stringify(join(dir, 'out'))};
        const before = calls();
        await pipeline(Readable.from(chunks), ${writer});
        const after = calls();
        const same = readFileSync(target).equals(Buffer.concat(chunks));
        process.stdout.write(JSON.stringify({ calls: after - before, same }));
      `;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).to.equal(0);
      const result = JSON.parse(run.stdout) as { calls: number; same: boolean };
      expect(result.same, writer).to.equal(true);
      return result.calls;
    };
    const slabCalls = callsFor('new SlabFileWriter(target, 256 * 1024, 2)');
    const streamCalls = callsFor('createWriteStream(target)');
    expect(slabCalls, `${slabCalls} write calls against ${streamCalls}`).to.be.below(streamCalls / 2);
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
