// What an export request may say: a range of Indian dates (export-query.ts) and which files.
import { z } from 'zod';
import { EXPORT_KINDS } from './repository.js';

export const exportKindQuery = z.object({ kind: z.enum(EXPORT_KINDS).default('full') });
