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

  it('keeps files on the local disk by default and in S3 when S3_BUCKET is set', () => {
    expect(loadConfig({ DATA_DIR: dir }).storage).to.deep.equal({ driver: 'local' });
    expect(loadConfig({ DATA_DIR: dir }).redisUrl).to.equal(undefined);
    const s3 = loadConfig({
      DATA_DIR: dir,
      S3_BUCKET: 'practice-files',
      S3_PREFIX: 'booking-core/',
      S3_ENDPOINT: 'https://minio.internal:9000',
      S3_FORCE_PATH_STYLE: 'true',
      REDIS_URL: 'rediss://:secret@cache.internal:6380',
    });
    expect(s3.storage).to.deep.include({
      driver: 's3',
      bucket: 'practice-files',
      prefix: 'booking-core/',
      endpoint: 'https://minio.internal:9000',
      forcePathStyle: true,
      partBytes: 8 * 1024 * 1024,
    });
    expect(s3.redisUrl).to.equal('rediss://:secret@cache.internal:6380');
  });

  it('refuses S3 and Redis settings that cannot work', () => {
    const refused = (env: Record<string, string>, name: string) =>
      expect(() => loadConfig({ DATA_DIR: dir, ...env })).to.throw(ConfigError, new RegExp(name));
    refused({ S3_ENDPOINT: 'http://minio:9000' }, 'S3_ENDPOINT: is set but S3_BUCKET is not');
    refused(
      { DATABASE_URL: 'mysql://root@db/app', DB_POOL_MIN: '1', DB_POOL_MAX: '1' },
      'DB_POOL_MAX: must be at least 2',
    );
    refused({ PDF_RENDERING: 'worker' }, 'PDF_RENDERING: worker needs REDIS_URL');
    refused({ S3_BUCKET: 'files', S3_PREFIX: 'no-slash' }, 'S3_PREFIX');
    refused({ S3_BUCKET: 'files', S3_PART_MB: '4' }, 'S3_PART_MB');
    refused(
      { S3_BUCKET: 'files', S3_PART_MB: '5', UPLOAD_VIDEO_MAX_BYTES: String(60_000 * 1024 * 1024) },
      'S3_PART_MB',
    );
    refused({ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL');
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
