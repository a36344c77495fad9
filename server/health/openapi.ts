// Health, readiness, memory and metrics in the OpenAPI document. Their detailed answers are operator
// figures that grow with the server; the document names the fields a client may rely on.
import { z } from 'zod';
import { errors, json, roles, type Paths } from '../openapi/common.js';

const detail = 'Anonymous callers get the states only; the METRICS_TOKEN bearer or an admin’s token gets the details.';
const drivers = z.object({
  database: z.enum(['sqlite', 'mysql']),
  storage: z.enum(['local', 's3']),
  sharedState: z.enum(['memory', 'redis']),
  jobs: z.enum(['in-process', 'bullmq']),
  rendering: z.enum(['web', 'worker']),
});
const level = z.enum(['ok', 'warning', 'critical']);

export const healthPaths: Paths = {
  '/api/health': {
    get: {
      summary: 'Liveness',
      tags: ['health'],
      ...roles('anyone'),
      description: detail,
      responses: {
        '200': json('Alive', z.object({ status: z.literal('ok'), drivers, memory: level }).loose()),
        ...errors.always,
      },
    },
  },
  '/api/health/ready': {
    get: {
      summary: 'Readiness',
      tags: ['health'],
      ...roles('anyone'),
      description: `503 while draining for shutdown or when the database, storage or Redis does not answer. ${detail}`,
      responses: {
        '200': json('Ready', z.object({ status: z.literal('ready'), failed: z.array(z.string()) }).loose()),
        '503': json(
          'Not ready: `failed` names the checks',
          z.object({ status: z.literal('unavailable'), failed: z.array(z.string()) }).loose(),
        ),
        '500': errors.always['500'],
      },
    },
  },
  '/api/health/memory': {
    get: {
      summary: 'Memory figures and the guard’s state',
      tags: ['health'],
      ...roles('anyone'),
      description: 'From the guard’s last sample; `?fresh` (operators) samples now.',
      responses: {
        '200': json('The figures', z.object({ status: level, guard: z.enum(['on', 'off']) }).loose()),
        ...errors.always,
      },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics',
      tags: ['health'],
      ...roles('operator'),
      security: [{ metricsToken: [] }],
      responses: {
        '200': { description: 'Prometheus text', content: { 'text/plain': { schema: z.string() } } },
        ...errors.unauthorized,
        ...errors.notFound('metrics (production without METRICS_TOKEN)'),
        ...errors.always,
      },
    },
  },
};
