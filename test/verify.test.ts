import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { verify, type CheckResult } from '../tools/verify/checks.js';
import { ADMIN } from './helpers/context.js';
import { operatorHeaders, startChildServer, type ChildServer } from './helpers/child-server.js';

/** TLS in front of a plain HTTP port, as a platform's router is, with a self-signed certificate for 127.0.0.1. */
async function tlsTerminator(port: string) {
  const dir = mkdtempSync(join(tmpdir(), 'verify-tls-'));
  const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  const server = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (client) => {
    const upstream = connect(Number(port), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    certFile,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

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
        '14',
        '15',
        'S1',
        'S2',
        'S3',
      ]);
      const failed = results.filter((r) => !r.ok);
      expect(failed, JSON.stringify(failed, null, 2)).to.deep.equal([]);
      // The uploads it made are gone again.
      const ready = await fetch(`${server.url}/api/health/ready`, { headers: operatorHeaders }).then(
        (r) => r.json() as Promise<any>,
      );
      expect(ready.tempFiles).to.deep.equal({ pdf: 0, uploadsInProgress: 0 });
    });

    it('prints one line per check and a summary from the CLI, and --json', () => {
      const run = (password: string, ...args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'tools/verify/cli.ts', '--url', server.url, ...args], {
          encoding: 'utf8',
          env: { ...process.env, ADMIN_EMAIL: '', ADMIN_PASSWORD: password },
        });
      // The password comes from the environment: the command line takes none.
      const json = run(ADMIN.password, '--email', ADMIN.email, '--json');
      expect(json.status, json.stderr).to.equal(0);
      const report = JSON.parse(json.stdout);
      expect(report.summary).to.include({ passed: 18, failed: 0 });
      const wrong = run('not-the-password', '--email', ADMIN.email);
      expect(wrong.status).to.equal(2);
      expect(wrong.stderr).to.contain('admin credentials refused: 401');
    });

    it('speaks https: every check passes through a TLS terminator in front of the server', async () => {
      const tls = await tlsTerminator(new URL(server.url).port);
      try {
        const run = spawn(
          process.execPath,
          ['--import', 'tsx', 'tools/verify/cli.ts', '--url', tls.url, '--email', ADMIN.email, '--json'],
          { env: { ...process.env, ADMIN_PASSWORD: ADMIN.password, NODE_EXTRA_CA_CERTS: tls.certFile } },
        );
        let stdout = '';
        let stderr = '';
        run.stdout.on('data', (c) => (stdout += c));
        run.stderr.on('data', (c) => (stderr += c));
        const [code] = (await once(run, 'exit')) as [number];
        expect(code, stderr).to.equal(0);
        const report = JSON.parse(stdout);
        expect(report.url).to.match(/^https:/);
        expect(report.summary).to.include({ passed: 18, failed: 0 });
      } finally {
        await tls.close();
      }
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
