import { pageQuery } from '../shared/pagination.js';
import { z } from 'zod';
import { isGstin, stateByCode } from './gst.js';
import { BOOKING_STATUSES } from './repository.js';

const billing = z
  .object({
    name: z.string().trim().min(1).max(120),
    address: z.string().trim().min(1).max(300),
    city: z.string().trim().min(1).max(80),
    state: z.string().refine((s) => stateByCode(s) !== undefined, 'must be a two-digit GST state code such as "29"'),
    pincode: z.string().regex(/^[1-9]\d{5}$/, 'must be a six-digit PIN code'),
    gstin: z.string().trim().toUpperCase().refine(isGstin, 'is not a valid GSTIN').optional().nullable(),
  })
  .refine((b) => !b.gstin || b.gstin.slice(0, 2) === b.state, {
    path: ['gstin'],
    message: 'first two digits must equal the billing state code',
  });

/** ISO 8601 with an offset ("2026-12-01T10:30:00+05:30" or "...Z"), stored as UTC. */
const isoDateTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

export const createBookingBody = z.object({
  serviceCode: z.string().min(1).max(40),
  scheduledAt: isoDateTime.refine((s) => Date.parse(s) > Date.now(), 'must be in the future'),
  notes: z.string().max(2000).optional(),
  billing,
});

export const listQuery = pageQuery;

/** Dates as YYYY-MM-DD (whole UTC days) or full ISO date-times. */
const dateBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const adminListQuery = pageQuery.extend({
  status: z.enum(BOOKING_STATUSES).optional(),
  from: dateBound.optional(),
  to: dateBound.optional(),
});

export const adminPatchBody = z
  .object({
    status: z.enum(BOOKING_STATUSES),
    /** Recorded on the credit note when an invoiced booking is cancelled. */
    reason: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

/** A path id: anything but a positive integer is "not found", the same as an unknown id. */
export function parseId(raw: string): number | undefined {
  return /^[1-9]\d{0,15}$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
}

/** Start of the day (inclusive) or end of the day (exclusive upper bound) for YYYY-MM-DD. */
export function dayBound(value: string, edge: 'start' | 'end'): string {
  if (value.length > 10) return new Date(value).toISOString();
  const start = new Date(`${value}T00:00:00.000Z`);
  if (edge === 'end') start.setUTCDate(start.getUTCDate() + 1);
  return start.toISOString();
}
