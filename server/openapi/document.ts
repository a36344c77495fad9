// The API's contract, built from the zod schemas the routes validate with and answer through: no
// hand-written copy. Served at /api/openapi.json; `npm run openapi` writes it to a file.
import { createDocument, type ZodOpenApiObject } from 'zod-openapi';
import type { Config } from '../config.js';
import { authPaths } from '../auth/openapi.js';
import { bookingPaths } from '../bookings/openapi.js';
import { exportPaths } from '../exports/openapi.js';
import { healthPaths } from '../health/openapi.js';
import { invoicePaths } from '../invoices/openapi.js';
import { uploadPaths } from '../uploads/openapi.js';
import { errors, roles, type Paths } from './common.js';

const contractPaths: Paths = {
  '/api/openapi.json': {
    get: {
      summary: 'This document',
      tags: ['contract'],
      ...roles('anyone'),
      responses: { '200': { description: 'OpenAPI 3.1' }, ...errors.always },
    },
  },
  '/api/docs': {
    get: {
      summary: 'This document for people (Swagger UI)',
      tags: ['contract'],
      ...roles('anyone'),
      responses: { '200': { description: 'An HTML page', content: { 'text/html': {} } } },
    },
  },
};

export function openApiDocument(config: Config, version: string): ReturnType<typeof createDocument> {
  const spec: ZodOpenApiObject = {
    openapi: '3.1.0',
    info: {
      title: 'booking-core',
      version,
      description: [
        'Bookings, GST invoices and credit notes, uploads and exports for a tax-consulting practice.',
        '',
        '- **Errors** all have one shape, `{ "error": { "code", "message" } }`; each operation lists its statuses and codes.',
        '- **Auth**: `Authorization: Bearer <token>` from `/api/auth/login` or `/register`. Tokens are revoked by a password change or `logout-all`. `x-roles` says who may call each operation (user: any logged-in account; admin: admins only).',
        '- **Money** is integer paise; times are ISO 8601 in UTC; dates that decide a tax period are Indian calendar dates.',
        '- **Pages**: `?limit` (1-100, default 20) and `?cursor` (the previous page’s `nextCursor`), newest first.',
        '- **Binary answers** (files, PDFs, ZIPs) support HEAD, `Range` (206, 416), `ETag` (the SHA-256), `If-None-Match` (304) and `If-Match` (412).',
        `- **Rate limits**: login and password changes ${config.auth.loginRateLimit}, registrations ${config.auth.registerRateLimit} per client per ${config.auth.loginRateWindowMs / 1000} s; 429 with \`Retry-After\` and \`RateLimit\` headers. Every 503 carries \`Retry-After\`.`,
      ].join('\n'),
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
      },
    },
    paths: {
      ...authPaths,
      ...bookingPaths,
      ...invoicePaths,
      ...exportPaths,
      ...uploadPaths(config),
      ...healthPaths,
      ...contractPaths,
    },
  };
  return createDocument(spec);
}
