// Export jobs in the OpenAPI document.
import { binary, errors, idPath, json, jsonRequest, page, roles, type Paths } from '../openapi/common.js';
import { rangeQuery } from '../invoices/export-query.js';
import { pageQuery } from '../shared/pagination.js';
import { exportKindQuery, jobView } from './schemas.js';

const admin = { tags: ['exports'], ...roles('admin') };
const guarded = { ...errors.unauthorized, ...errors.forbidden };

export const exportPaths: Paths = {
  '/api/admin/exports': {
    post: {
      ...admin,
      summary: 'Ask for an export job',
      description:
        'Runs on a worker process (with REDIS_URL) or in the web process. `kind`: `full` (PDFs, register, GSTR-1, manifest) or `returns` (all but the PDFs). The same request while one is queued or running answers 200 with that job.',
      requestBody: jsonRequest(rangeQuery.extend(exportKindQuery.shape)),
      responses: {
        '202': json('A new job (`Location` names it)', jobView),
        '200': json('The live job for the same request', jobView),
        ...errors.jsonBody('range_too_long'),
        ...guarded,
        ...errors.always,
      },
    },
    get: {
      ...admin,
      summary: 'Recent export jobs, newest first',
      requestParams: { query: pageQuery },
      responses: { '200': json('One page', page(jobView)), ...errors.badRequest(), ...guarded, ...errors.always },
    },
  },
  '/api/admin/exports/{id}': {
    get: {
      ...admin,
      summary: 'An export job: state, progress, result',
      requestParams: { path: idPath },
      responses: { '200': json('The job', jobView), ...guarded, ...errors.notFound('export job'), ...errors.always },
    },
    delete: {
      ...admin,
      summary: 'Cancel a live job, or remove a finished one',
      description: 'Cancelling stops its renders and removes its partial result; removing deletes its result too.',
      requestParams: { path: idPath },
      responses: {
        '200': json('Cancelled', jobView),
        '204': { description: 'Removed' },
        ...guarded,
        ...errors.notFound('export job'),
        ...errors.conflict('export_changed'),
        ...errors.always,
      },
    },
  },
  '/api/admin/exports/{id}/download': {
    get: {
      ...admin,
      summary: 'The job’s ZIP',
      description: 'From the store, send-style: a broken download resumes with Range.',
      requestParams: { path: idPath },
      responses: {
        ...binary('application/zip', 'The ZIP'),
        ...guarded,
        ...errors.notFound('export job'),
        ...errors.conflict('export_not_ready'),
        ...errors.always,
      },
    },
  },
};
