// GET /api/admin/invoices/export: the export ZIP streamed in the response, for small ranges. Large ones
// are better run as jobs (/api/admin/exports): a broken download of a job's result resumes.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { parseExportRange } from '../invoices/export-query.js';
import { parseInput } from '../http/errors.js';
import { exportKindQuery } from './schemas.js';
import { exportFilename, produceExport, type ProducerDeps } from './producer.js';

export async function streamExport(deps: ProducerDeps & { logger: Logger }, req: Request, res: Response) {
  const request = { range: parseExportRange(req.query), kind: parseInput(exportKindQuery, req.query).kind };
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort(new Error('the client went away'));
  });

  // Headers go out at once: a platform router drops a response that sends nothing for 30 s.
  res.status(200);
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Disposition', `attachment; filename="${exportFilename(request)}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.flushHeaders();
  try {
    await produceExport(deps, request, res, { signal: gone.signal });
  } catch (err) {
    if (!gone.signal.aborted) throw err;
    deps.logger.info('export stopped: the client went away');
  }
}
