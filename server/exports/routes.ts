// /api/admin/exports: export jobs. POST asks for one (202, or 200 with the live twin of the same
// request), GET reads or lists, GET /:id/download sends the result send-style (Range, ETag, HEAD: a
// broken download resumes), DELETE cancels a live job or removes a finished one.
import { Router, type Request } from 'express';
import { authenticate, currentUser, requireRole } from '../auth/middleware.js';
import type { TokenService } from '../auth/tokens.js';
import { parseId } from '../bookings/schemas.js';
import { servedObject, serveObject } from '../files/serve.js';
import { conflict, notFound, parseInput } from '../http/errors.js';
import { parseExportRange } from '../invoices/export-query.js';
import { pageQuery } from '../shared/pagination.js';
import { exportFilename } from './producer.js';
import type { ExportJobRow } from './repository.js';
import { exportKindQuery, type JobView } from './schemas.js';
import type { ExportJobs } from './service.js';

interface Deps {
  tokens: TokenService;
  exports: ExportJobs;
}

const BASE = '/api/admin/exports';

/** The job as the API shows it: times in ISO UTC, the range in Indian dates. */
export function describeJob(job: ExportJobRow): JobView {
  return {
    id: job.id,
    url: `${BASE}/${job.id}`,
    kind: job.kind,
    range: { from: job.range_from, to: job.range_to },
    state: job.state,
    progress: { done: Number(job.done), total: Number(job.total) },
    attempts: Number(job.attempts),
    createdAt: job.created_at,
    startedAt: job.started_at,
    finishedAt: job.finished_at,
    expiresAt: job.expires_at,
    error: job.error,
    result:
      job.state === 'completed'
        ? { size: Number(job.result_size), sha256: job.result_sha256!, url: `${BASE}/${job.id}/download` }
        : null,
  };
}

export function exportJobRoutes(deps: Deps): Router {
  const { exports } = deps;
  const router = Router();
  router.use(authenticate(deps.tokens), requireRole('admin'));

  const jobFor = async (req: Request) => {
    const id = parseId(String(req.params.id));
    if (!id) throw notFound('export job');
    return exports.get(id);
  };

  router.post('/', async (req, res) => {
    const range = parseExportRange(req.body ?? {});
    const { kind } = parseInput(exportKindQuery, req.body ?? {});
    const { job, created } = await exports.request({
      kind,
      from: range.from,
      to: range.to,
      requestedBy: currentUser(req).id,
    });
    res
      .status(created ? 202 : 200)
      .location(`${BASE}/${job.id}`)
      .json(describeJob(job));
  });

  router.get('/', async (req, res) => {
    const q = parseInput(pageQuery, req.query);
    const page = await exports.repository.list(q.limit, q.cursor);
    res.json({ items: page.items.map(describeJob), nextCursor: page.nextCursor });
  });

  router.get('/:id', async (req, res) => {
    res.json(describeJob(await jobFor(req)));
  });

  router.get('/:id/download', async (req, res) => {
    const job = await jobFor(req);
    if (job.state !== 'completed')
      throw conflict('export_not_ready', `the export is ${job.state}; its result can be downloaded once completed`);
    await serveObject(
      req,
      res,
      exports.results,
      servedObject({
        name: job.result_name,
        size: Number(job.result_size),
        etag: `"${job.result_sha256}"`,
        lastModified: new Date(job.finished_at!),
        contentType: 'application/zip',
        downloadName: exportFilename({ kind: job.kind, range: { from: job.range_from, to: job.range_to } }),
        inline: false,
        cacheControl: 'private, no-cache',
      }),
    );
  });

  router.delete('/:id', async (req, res) => {
    const job = await jobFor(req);
    const done = await exports.cancelOrRemove(job.id);
    if (done === 'removed') return void res.status(204).end();
    res.json(describeJob(await exports.get(job.id)));
  });

  return router;
}
