import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { verify, type CheckResult } from '../tools/verify/checks.js';
import { ADMIN } from './helpers/context.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';

const byId = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r]));

describe('npm run verify (deployment checklist)', function () {
  this.timeout(180_000);

  describe('against a healthy server', () => {
    let server: ChildServer;
    before(async () => (server = await startChildServer()));
    after(() => server?.stop());

    it('passes every check and leaves nothing behind', async () => {
      const results = await verify({ url: server.url, ...ADMIN });
      expect(results.map((r) => r.id)).to.deep.equal([
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
        '8',
        '9',
        '10',
        '11',
        '12',
        '13',
        'S1',
        'S2',
        'S3',
      ]);
      const failed = results.filter((r) => !r.ok);
      expect(failed, JSON.stringify(failed, null, 2)).to.deep.equal([]);
      // The uploads it made are gone again.
      const ready = await fetch(`${server.url}/api/health/ready`).then((r) => r.json() as Promise<any>);
      expect(ready.tempFiles).to.deep.equal({ pdf: 0, uploadsInProgress: 0 });
    });

    it('prints one line per check and a summary from the CLI, and --json', () => {
      const run = (...args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'tools/verify/cli.ts', '--url', server.url, ...args], {
          encoding: 'utf8',
          env: { ...process.env, ADMIN_EMAIL: '', ADMIN_PASSWORD: '' },
        });
      const json = run('--email', ADMIN.email, '--password', ADMIN.password, '--json');
      expect(json.status, json.stderr).to.equal(0);
      const report = JSON.parse(json.stdout);
      expect(report.summary).to.include({ passed: 16, failed: 0 });
      const wrong = run('--email', ADMIN.email, '--password', 'not-the-password');
      expect(wrong.status).to.equal(2);
      expect(wrong.stderr).to.contain('admin credentials refused: 401');
    });
  });

  it('fails the upload check with the reason when the image limit is 1 MiB', async () => {
    const server = await startChildServer({ UPLOAD_IMAGE_MAX_BYTES: String(1024 * 1024) });
    try {
      const checks = byId(await verify({ url: server.url, ...ADMIN }));
      expect(checks['1']!.ok).to.equal(true);
      expect(checks['2']!.ok).to.equal(false);
      expect(checks['2']!.figure).to.match(/^413 payload_too_large/);
      for (const id of ['3', '4', '6', '7', '8', '9', '10', '12', '13']) expect(checks[id]!.ok, id).to.equal(true);
    } finally {
      await server.stop();
    }
  });

  it('fails the heavy checks with 503 memory_pressure when the guard is forced to critical', async () => {
    const server = await startChildServer({ MEMORY_WARNING_PERCENT: '1', MEMORY_CRITICAL_PERCENT: '2' });
    try {
      const checks = byId(await verify({ url: server.url, ...ADMIN }));
      for (const id of ['1', '2', '3']) expect(checks[id]!.figure, id).to.match(/503 memory_pressure/);
      for (const id of ['4', '5']) expect(checks[id]!.figure, id).to.match(/^503/);
      expect(checks['12']!.figure).to.contain('statuses 503,503,503,503,503');
      for (const id of ['1', '2', '3', '4', '5', '6', '12', 'S2']) expect(checks[id]!.ok, id).to.equal(false);
      expect(checks['11']!.ok).to.equal(true);
      expect(checks['11']!.figure).to.match(/^critical/);
      expect(checks['13']!.ok).to.equal(true);
    } finally {
      await server.stop();
    }
  });

  it('exits 2 with a clear message when the server is unreachable', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/verify/cli.ts', '--url', 'http://127.0.0.1:9', '--token', 'x'],
      { encoding: 'utf8' },
    );
    expect(run.status).to.equal(2);
    expect(run.stderr).to.contain('cannot reach http://127.0.0.1:9');
  });
});
