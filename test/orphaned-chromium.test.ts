// A server killed with SIGKILL leaves its Chromium running; the next start in the same DATA_DIR ends
// that orphan (and only it), then renders with a browser of its own.
import { expect } from 'chai';
import { processTree } from '../server/health/process-tree.js';
import { operatorHeaders, startChildServer } from './helpers/child-server.js';
import { eventually, processAlive } from './helpers/server.js';

const browserPid = async (url: string): Promise<number> => {
  let pid: number | null = null;
  await eventually(async () => {
    const health = await fetch(`${url}/api/health`, { headers: operatorHeaders }).then((r) => r.json() as Promise<any>);
    pid = health.pdf.browser.running ? health.pdf.browser.pid : null;
    return pid !== null;
  }, 30_000);
  return pid!;
};

describe('Chromium left by a killed server', function () {
  this.timeout(90_000);

  it('the next start in the same DATA_DIR ends it, whole process tree, and keeps its own', async () => {
    const first = await startChildServer();
    // The server starts its browser once it listens.
    const orphan = await browserPid(first.url);
    const orphanTree = processTree([orphan]);
    first.child.kill('SIGKILL');
    await first.exited;
    await new Promise((r) => setTimeout(r, 300));
    expect(processAlive(orphan), 'Chromium outlives a SIGKILLed server').to.equal(true);

    const second = await startChildServer({}, first.dataDir);
    try {
      await eventually(() => orphanTree.every((pid) => !processAlive(pid)), 10_000);
      expect(second.output()).to.include('ended Chromium left running by an earlier server');
      const own = await browserPid(second.url);
      expect(own).not.to.equal(orphan);
      expect(processAlive(own)).to.equal(true);
    } finally {
      await second.stop();
    }
  });
});
