import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../server/config.js';

describe('config', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'booking-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has working defaults: port 8002, SQLite in DATA_DIR, pool 2 + 2', () => {
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.port).to.equal(8002);
    expect(c.database).to.deep.equal({ kind: 'sqlite', filename: join(dir, 'booking-core.sqlite') });
    expect(c.dbPool).to.include({ min: 2, max: 4 });
    expect(c.uploads.dir).to.equal(join(dir, 'uploads'));
    // A database that does not answer is given up on within seconds (503), not the pool's old 30 s.
    expect(c.dbPool).to.include({ acquireTimeoutMs: 3000, queryTimeoutMs: 5000 });
    // No default changes the process's priority on its host.
    expect(c.serverNice).to.equal(0);
  });

  it('generates a JWT secret once outside production and keeps it private in DATA_DIR', () => {
    const first = loadConfig({ DATA_DIR: dir }).auth.jwtSecret;
    expect(first).to.have.length.greaterThan(40);
    expect(loadConfig({ DATA_DIR: dir }).auth.jwtSecret).to.equal(first);
    expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).to.equal(0o600);
    expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim()).to.equal(first);
  });

  it('requires JWT_SECRET in production and generates nothing', () => {
    expect(() => loadConfig({ DATA_DIR: dir, NODE_ENV: 'production' })).to.throw(ConfigError, /JWT_SECRET/);
    expect(existsSync(join(dir, 'jwt-secret'))).to.equal(false);
  });

  it('lists every bad value in one message', () => {
    try {
      loadConfig({
        DATA_DIR: dir,
        PORT: 'eighty',
        PDF_WORKERS: '0',
        SUPPLIER_GSTIN: '29ABCDE1234F1Z5',
        DATABASE_URL: 'postgres://x',
      });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const message = (err as Error).message;
      for (const name of ['PORT', 'PDF_WORKERS', 'SUPPLIER_GSTIN', 'DATABASE_URL']) expect(message).to.contain(name);
    }
  });

  it('reads mysql:// and sqlite: URLs', () => {
    expect(loadConfig({ DATA_DIR: dir, DATABASE_URL: 'mysql://u:p@db:3306/app' }).database).to.deep.equal({
      kind: 'mysql',
      url: 'mysql://u:p@db:3306/app',
    });
    expect(loadConfig({ DATA_DIR: dir, DATABASE_URL: `sqlite:${dir}/other.db` }).database).to.deep.equal({
      kind: 'sqlite',
      filename: `${dir}/other.db`,
    });
  });

  it('refuses an invoice prefix that would not leave room for the serial in 16 characters', () => {
    expect(() => loadConfig({ DATA_DIR: dir, INVOICE_PREFIX: 'INVOICE' })).to.throw(ConfigError, /INVOICE_PREFIX/);
  });

  it('the Procfile starts the web process as npm start does (same V8 flags, same entry point)', () => {
    const start = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start as string;
    const web = /^web: (.+)$/m.exec(readFileSync('Procfile', 'utf8'))?.[1];
    expect(web).to.equal(start);
    expect(start).to.match(/^node (--[\w-]+(=\d+)? )+dist\/server\/index\.js$/);
    // V8 flags change between Node versions: this Node must accept every one, or the dyno would not start.
    const flags = start.split(' ').filter((w) => w.startsWith('--'));
    expect(() => execFileSync(process.execPath, [...flags, '-e', '0'], { stdio: 'pipe' })).not.to.throw();
  });
});
