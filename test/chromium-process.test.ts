import { expect } from 'chai';
import { ChromiumProcess } from '../server/pdf/chromium-process.js';
import { processAlive } from './helpers/server.js';

describe('Chromium process wrapper', () => {
  it('rejects with the exit code and what the process printed when it exits before listening', async () => {
    const err = await ChromiumProcess.launch('/bin/sh', ['-c', 'echo "no display" >&2; exit 3'], 5000).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message)
      .to.match(/exited with code 3/)
      .and.to.include('no display');
  });

  it('kills a process that never prints its endpoint, after the timeout', async () => {
    let pid: number | undefined;
    const started = Date.now();
    const err = await ChromiumProcess.launch('/bin/sh', ['-c', 'echo $$ >&2; exec sleep 30'], 300).then(
      () => undefined,
      (e: Error) => e,
    );
    pid = Number(err?.message.split('\n')[1]);
    expect(err?.message).to.include('no DevTools endpoint after 300 ms');
    expect(Date.now() - started).to.be.below(5000);
    expect(processAlive(pid)).to.equal(false);
  });

  it('resolves with the endpoint it prints, and close() ends the whole process group', async () => {
    const script = 'sleep 30 & echo "DevTools listening on ws://127.0.0.1:9/devtools/browser/x" >&2; wait';
    const { process: chromium, wsEndpoint } = await ChromiumProcess.launch('/bin/sh', ['-c', script], 5000);
    expect(wsEndpoint).to.equal('ws://127.0.0.1:9/devtools/browser/x');
    const pid = chromium.pid!;
    expect(processAlive(pid)).to.equal(true);
    await chromium.close();
    expect(processAlive(pid)).to.equal(false);
  });
});
