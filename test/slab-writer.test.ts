import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SlabFileWriter } from '../server/storage/slab-writer.js';

const openDescriptors = () => readdirSync('/proc/self/fd').length;

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
    const before = openDescriptors();
    async function* failing() {
      yield randomBytes(20_000);
      throw new Error('client went away');
    }
    const writer = new SlabFileWriter(join(dir, 'cut'), 8192, 2);
    const closed = new Promise((resolve) => writer.once('close', resolve));
    const error = await pipeline(Readable.from(failing()), writer).catch((err: Error) => err);
    expect(error).to.have.property('message', 'client went away');
    await closed; // the descriptor is closed once the write under way has returned
    expect(openDescriptors()).to.equal(before);
  });
});
