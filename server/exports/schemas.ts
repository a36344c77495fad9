// What an export request may say: a range of Indian dates (export-query.ts) and which files.
import { z } from 'zod';
import { isoDateTime } from '../openapi/common.js';
import { EXPORT_KINDS } from './repository.js';

export const exportKindQuery = z.object({ kind: z.enum(EXPORT_KINDS).default('full') });

export const jobView = z
  .object({
    id: z.number().int(),
    url: z.string().meta({ description: 'this job' }),
    kind: z.enum(EXPORT_KINDS),
    range: z.object({ from: z.iso.date(), to: z.iso.date() }).meta({ description: 'Indian calendar dates' }),
    state: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'expired']),
    progress: z.object({ done: z.number().int(), total: z.number().int() }).meta({ description: 'documents' }),
    attempts: z.number().int(),
    createdAt: isoDateTime,
    startedAt: isoDateTime.nullable(),
    finishedAt: isoDateTime.nullable(),
    expiresAt: isoDateTime.nullable(),
    error: z.string().nullable(),
    result: z.object({ size: z.number().int(), sha256: z.string(), url: z.string() }).nullable(),
  })
  .meta({ id: 'ExportJob' });
export type JobView = z.infer<typeof jobView>;
