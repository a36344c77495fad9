// The API contract: the OpenAPI 3.1 document is valid, names exactly the routes the app has, is served
// as /api/openapi.json and written by `npm run openapi`, and /api/docs renders it in a real browser
// under its CSP. (Every JSON answer of the other suites is checked against it: helpers/contract.ts.)
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Express } from 'express';
import puppeteer from 'puppeteer-core';
import request from 'supertest';
import { createApp } from '../server/app.js';
import { discoverChrome } from '../server/pdf/discover.js';
import { DOCS_CSP } from '../server/openapi/routes.js';
import { checkAnswer, contractDocument, takeViolations } from './helpers/contract.js';
import { startContext, type TestContext } from './helpers/context.js';
import { listen } from './helpers/server.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  rawPath?: string;
  handle: { stack?: Layer[] };
}

/** Every METHOD path the Express routers answer, with `:param` written `{param}`. */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') continue;
          const path = `${prefix}${layer.route.path === '/' && prefix ? '' : layer.route.path}`;
          found.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle.stack) {
        walk(
          layer.handle.stack,
          `${prefix}${typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''}`,
        );
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}

const documented = () =>
  Object.entries(contractDocument.paths ?? {})
    .flatMap(([path, item]) =>
      METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();

describe('the API contract (OpenAPI 3.1)', () => {
  let ctx: TestContext;
  before(async () => (ctx = await startContext('sqlite')));
  after(() => ctx?.close());

  it('the document passes an OpenAPI 3.1 validator', async () => {
    const result = await new Validator().validate(structuredClone(contractDocument) as never);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
    expect(contractDocument.openapi).to.equal('3.1.0');
  });

  it('names every route the routers have, and no route they do not have', () => {
    const app = createApp(ctx.rt);
    const routes = routesOf(app).filter((r) => !r.includes('/api/docs/'));
    expect(routes.length).to.be.above(30);
    expect(routes, 'routes missing from the document').to.deep.equal(documented());
  });

  it('documents for every operation its roles, its error statuses with the one error shape, and 500/503', () => {
    for (const [path, item] of Object.entries(contractDocument.paths ?? {})) {
      for (const method of METHODS) {
        const op = (item as Record<string, any>)[method];
        if (!op) continue;
        const name = `${method.toUpperCase()} ${path}`;
        expect(op['x-roles'], name).to.be.an('array').that.is.not.empty;
        if (path === '/api/docs') continue;
        expect(Object.keys(op.responses), name).to.include('500');
        for (const [status, response] of Object.entries<any>(op.responses)) {
          if (Number(status) < 400 || path === '/api/health/ready') continue;
          expect(response.content?.['application/json']?.schema?.$ref, `${name} ${status}`).to.equal(
            '#/components/schemas/Error',
          );
        }
      }
    }
    const upload = (contractDocument.paths as any)['/api/uploads/image'].post;
    expect(upload.requestBody.content['multipart/form-data'].schema.properties.file.format).to.equal('binary');
    expect(upload.description).to.include('image/jpeg').and.include(String(ctx.rt.config.uploads.imageMaxBytes));
    const invoice = (contractDocument.paths as any)['/api/bookings/{id}/invoice'].get.responses;
    expect(Object.keys(invoice)).to.include.members(['200', '206', '304', '412', '416', '409']);
    expect(invoice['200'].headers).to.have.keys(['ETag', 'Accept-Ranges', 'Last-Modified', 'Content-Disposition']);
    expect((contractDocument.paths as any)['/api/auth/login'].post.responses['429'].headers).to.have.key('Retry-After');
    expect((contractDocument.components as any).securitySchemes.bearer).to.include({ type: 'http', scheme: 'bearer' });
  });

  it('serves the document at /api/openapi.json, and `npm run openapi` writes the same', async () => {
    const res = await request(ctx.app).get('/api/openapi.json').expect(200);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(res.body.openapi).to.equal('3.1.0');
    expect(Object.keys(res.body.paths).sort()).to.deep.equal(Object.keys(contractDocument.paths ?? {}).sort());
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'tools/openapi.ts', file], {
        encoding: 'utf8',
        env: { ...process.env, DATA_DIR: dir },
      });
      expect(run.status, run.stderr).to.equal(0);
      const written = JSON.parse(readFileSync(file, 'utf8'));
      expect(Object.keys(written.paths).sort()).to.deep.equal(Object.keys(res.body.paths).sort());
      expect(written.components.schemas).to.have.keys(Object.keys(res.body.components.schemas));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('catches an answer that drifts from its schema, an undocumented status and an undocumented route', () => {
    expect(
      checkAnswer('get', '/api/auth/me', 200, {
        user: { id: 1, email: 'a@b.c', name: 'A', role: 'customer', createdAt: '2026-12-01T00:00:00.000Z' },
      }),
    ).to.equal(undefined);
    expect(checkAnswer('get', '/api/auth/me', 200, { user: { id: '1' } })).to.match(/must be/);
    expect(checkAnswer('get', '/api/auth/me', 418, { error: { code: 'teapot', message: 'x' } })).to.match(
      /not documented/,
    );
    expect(checkAnswer('get', '/api/nowhere', 200, {})).to.match(/not in the document/);
    // And through the recorder an app is wrapped in: a drifting handler is recorded.
    const drifting = express();
    drifting.get('/api/auth/me', (_req, res) => void res.json({ me: 'drifted' }));
    return import('./helpers/contract.js').then(async ({ checkedApp }) => {
      await request(checkedApp(drifting)).get('/api/auth/me').expect(200);
      const found = takeViolations();
      expect(found, JSON.stringify(found)).to.have.length(1);
      expect(found[0]!.route).to.equal('GET /api/auth/me');
    });
  });

  it('/api/docs renders the operations in headless Chromium, from this server only, under its CSP', async function () {
    const chrome = await discoverChrome(process.env.CHROME_PATH);
    if (!chrome) {
      if (process.env.CI === 'true') throw new Error('no Chromium: the docs screenshot test needs one');
      this.skip();
    }
    const page = await request(ctx.app).get('/api/docs/').expect(200);
    expect(page.headers['content-security-policy']).to.equal(DOCS_CSP);
    expect(page.text).to.not.match(/https?:\/\//);
    await request(ctx.app).get('/api/docs/assets/swagger-ui-bundle.js').expect(200);
    await request(ctx.app).get('/api/docs/assets/no-such-file.js').expect(404);

    const http = await listen(ctx.app);
    const browser = await puppeteer.launch({
      executablePath: chrome!.path,
      headless: chrome!.headless,
      args: [...chrome!.extraArgs, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    });
    try {
      const tab = await browser.newPage();
      const refused: string[] = [];
      const elsewhere: string[] = [];
      tab.on('console', (m) => /Content Security Policy|Refused/i.test(m.text()) && refused.push(m.text()));
      tab.on(
        'request',
        (r) => !r.url().startsWith(http.url) && !r.url().startsWith('data:') && elsewhere.push(r.url()),
      );
      await tab.setViewport({ width: 1200, height: 900 });
      await tab.goto(`${http.url}/api/docs/`, { waitUntil: 'networkidle0' });
      await tab.waitForSelector('.opblock', { timeout: 20_000 });
      const operations = await tab.$$eval('.opblock', (blocks) => blocks.length);
      expect(operations).to.equal(documented().length);
      const title = await tab.$eval('.title', (el) => el.textContent ?? '');
      expect(title).to.include('booking-core');
      const shot = Buffer.from(await tab.screenshot({ type: 'png' }));
      expect(shot.subarray(1, 4).toString()).to.equal('PNG');
      expect(shot.length).to.be.above(20_000);
      expect(refused, 'CSP refusals').to.deep.equal([]);
      expect(elsewhere, 'requests to other origins').to.deep.equal([]);
    } finally {
      await browser.close();
      await http.close();
    }
  });
});
