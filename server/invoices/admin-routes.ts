import { Router, type RequestHandler } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { authenticate, requireRole } from '../auth/middleware.js';
import type { TokenService } from '../auth/tokens.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import type { DocumentArchive } from './archive.js';
import { parseExportRange } from './export-query.js';
import { issueInvoicesInRange } from './issue-range.js';
import { streamExport } from '../exports/stream.js';
import { ZipFile } from 'yazl';
import { gstr1Files } from './gstr1.js';
import { registerCsv } from './register.js';

interface Deps {
  db: Db;
  tokens: TokenService;
  config: Config;
  documents: DocumentArchive;
  logger: Logger;
  heavyGuard: RequestHandler;
}

/** /api/admin/invoices: the bulk export and the register alone. */
export function adminInvoiceRoutes(deps: Deps): Router {
  const router = Router();
  router.use(authenticate(deps.tokens), requireRole('admin'));

  router.get('/export', deps.heavyGuard, (req, res) => streamExport(deps, req, res));

  // Issuing is explicit: the confirmed and completed bookings scheduled in the range get their invoices.
  router.post('/issue', async (req, res) => {
    const range = parseExportRange(req.body ?? {});
    const numbers = await issueInvoicesInRange(deps, range);
    res.json({ issued: numbers.length, numbers });
  });

  // The GSTR-1 offline tool's CSVs alone, for the documents dated in the range.
  router.get('/gstr1.zip', async (req, res) => {
    const range = parseExportRange(req.query);
    const zip = new ZipFile();
    for (const file of await gstr1Files(deps.db, range.from, range.to))
      zip.addBuffer(Buffer.from(file.csv), file.name, { compress: true });
    zip.end();
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="gstr1-${range.from}_${range.to}.zip"`);
    res.setHeader('Cache-Control', 'no-store');
    await pipeline(zip.outputStream, res);
  });

  router.get('/register.csv', async (req, res) => {
    const range = parseExportRange(req.query);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="register-${range.from}_${range.to}.csv"`);
    res.setHeader('Cache-Control', 'no-store');
    await pipeline(registerCsv(deps.db, range), res);
  });

  return router;
}
