// GET /api/openapi.json (the contract, built once per process) and /api/docs: Swagger UI from the npm
// package, served by this server (no CDN) under a CSP that allows just what the page needs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { Config } from '../config.js';
import { openApiDocument } from './document.js';

const require = createRequire(import.meta.url);
const SWAGGER_UI = dirname(require.resolve('swagger-ui-dist/package.json'));
/** The project's root, from the sources or from dist/ (the build copies no HTML: both read server/openapi/docs). */
const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url));
const DOCS = join(ROOT, 'server/openapi/docs');
const { version } = require(join(ROOT, 'package.json')) as { version: string };

/** Scripts and styles from this origin, the document from this origin, Swagger UI's inline styles and data: images. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function contractRoutes(config: Config): Router {
  const router = Router();
  let document: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= JSON.stringify(openApiDocument(config, version));
    res.type('application/json').setHeader('Cache-Control', 'no-cache');
    res.send(document);
  });
  const docs = Router();
  docs.use((_req, res, next) => (res.setHeader('Content-Security-Policy', DOCS_CSP), next()));
  docs.get('/', (_req, res) => res.sendFile(join(DOCS, 'index.html')));
  docs.get('/init.js', (_req, res) => res.sendFile(join(DOCS, 'init.js')));
  // A name the package does not have falls through to the JSON 404.
  docs.use('/assets', express.static(SWAGGER_UI, { index: false, maxAge: '1d' }));
  router.use('/docs', docs);
  return router;
}
