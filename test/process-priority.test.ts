import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';

/** Runs takePriority(nice) in a fresh process (it changes that process's own scheduling) and reports. */
function inChild(nice: number): { before: number; after: number; returned: number; worker: number } {
  const script = `
    import { getPriority } from 'node:os';
    import { Worker } from 'node:worker_threads';
    import { pino } from 'pino';
    import { takePriority } from './server/process-priority.ts';
    const before = getPriority();
    const returned = takePriority(${nice}, pino({ level: 'silent' }));
    const after = getPriority();
    // A thread started afterwards (as the PDF workers are) reports its own niceness.
    const code = "Promise.all([import('node:worker_threads'), import('node:os')])" +
      '.then(([threads, os]) => threads.parentPort.postMessage(os.getPriority()))';
    const worker = new Worker(code, { eval: true });
    worker.once('message', (n) => {
      console.log(JSON.stringify({ before, after, returned, worker: n }));
      void worker.terminate();
    });
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).to.equal(0);
  return JSON.parse(run.stdout);
}

describe('server priority beside Chromium (SERVER_NICE)', () => {
  const mayRaise = process.getuid?.() === 0;

  it(`${mayRaise ? 'raises' : 'cannot raise (not root), so keeps'} the main thread and the threads it starts after`, () => {
    const result = inChild(-8);
    expect(result.before).to.equal(getPriority());
    expect(result.after).to.equal(mayRaise ? -8 : result.before);
    expect(result.returned).to.equal(result.after);
    expect(result.worker).to.equal(result.after);
  });

  it('SERVER_NICE=0 leaves the priority as it is', () => {
    const result = inChild(0);
    expect([result.after, result.worker]).to.deep.equal([result.before, result.before]);
  });
});
