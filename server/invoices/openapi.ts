// The document downloads and the admin's invoice routes in the OpenAPI document.
import { z } from 'zod';
import {
  binary,
  errorBody,
  errors,
  idPath,
  json,
  jsonRequest,
  roles,
  type Operation,
  type Paths,
} from '../openapi/common.js';
import { exportKindQuery } from '../exports/schemas.js';
import { rangeQuery } from './export-query.js';

const rendering = {
  '503': {
    description:
      'Codes: `pdf_queue_full`, `pdf_unavailable`, `pdf_render_failed`, `storage_unavailable`, `database_unavailable`, `memory_pressure`. Retry after Retry-After.',
    headers: { 'Retry-After': { schema: { type: 'integer' as const } } },
    content: { 'application/json': { schema: errorBody } },
  },
  '504': {
    description: 'The render took longer than PDF_TIMEOUT_MS. Codes: `pdf_timeout`.',
    content: { 'application/json': { schema: errorBody } },
  },
};

const pdf = (who: 'user' | 'admin', what: 'invoice' | 'credit note'): Operation => ({
  summary: `The ${what} PDF of ${who === 'admin' ? 'any' : 'one of the caller’s'} bookings`,
  tags: [who === 'admin' ? 'admin' : 'documents'],
  ...roles(who),
  description:
    what === 'invoice'
      ? 'A GST tax invoice (rule 46), issued on the first request of a confirmed or completed booking, rendered once and stored: every later download sends the same bytes. HEAD, Range, ETag (its SHA-256), 304 and 412 as for files.'
      : 'The credit note (rule 53) issued when an invoiced booking was cancelled; served as the invoice is.',
  requestParams: { path: idPath },
  responses: {
    ...binary('application/pdf', `The ${what}`),
    ...errors.unauthorized,
    ...(who === 'admin' ? errors.forbidden : {}),
    ...errors.notFound(what === 'invoice' ? 'booking' : 'booking or credit note'),
    ...(what === 'invoice' ? errors.conflict('booking_not_confirmed') : {}),
    ...errors.always,
    ...rendering,
  },
});

const file = (summary: string, contentType: string, query: z.ZodObject, description: string): Operation => ({
  summary,
  tags: ['admin'],
  ...roles('admin'),
  description,
  requestParams: { query },
  responses: {
    '200': { description: 'The file', content: { [contentType]: { schema: z.string().meta({ format: 'binary' }) } } },
    ...errors.badRequest('range_too_long'),
    ...errors.unauthorized,
    ...errors.forbidden,
    ...errors.always,
  },
});

const range = 'Documents dated `from`..`to` in India (YYYY-MM-DD, at most 366 days).';

export const invoicePaths: Paths = {
  '/api/bookings/{id}/invoice': { get: pdf('user', 'invoice') },
  '/api/bookings/{id}/credit-note': { get: pdf('user', 'credit note') },
  '/api/admin/bookings/{id}/invoice': { get: pdf('admin', 'invoice') },
  '/api/admin/bookings/{id}/credit-note': { get: pdf('admin', 'credit note') },
  '/api/admin/invoices/issue': {
    post: {
      summary: 'Issue the invoices of a range',
      tags: ['admin'],
      ...roles('admin'),
      description:
        'Every confirmed or completed booking scheduled `from`..`to` without an invoice gets its number (no rendering).',
      requestBody: jsonRequest(rangeQuery),
      responses: {
        '200': json(
          'The numbers issued, in order',
          z.object({ issued: z.number().int(), numbers: z.array(z.string()) }),
        ),
        ...errors.jsonBody('range_too_long'),
        ...errors.unauthorized,
        ...errors.forbidden,
        ...errors.always,
      },
    },
  },
  '/api/admin/invoices/export': {
    get: file(
      'The export ZIP, streamed',
      'application/zip',
      rangeQuery.extend(exportKindQuery.shape),
      `${range} The documents' stored PDFs (full), register.csv, gstr1/*.csv and manifest.json. For large ranges use an export job (/api/admin/exports): its download resumes.`,
    ),
  },
  '/api/admin/invoices/register.csv': {
    get: file('The register', 'text/csv', rangeQuery, `${range} One row per invoice and credit note.`),
  },
  '/api/admin/invoices/gstr1.zip': {
    get: file('The GSTR-1 offline tool’s CSVs', 'application/zip', rangeQuery, range),
  },
};
