// The range of an export, a register or an issue run, and the bookings scheduled in it (read in pages).
import { z } from 'zod';
import { bookingsQuery, BOOKING_STATUSES, type BookingRow, type BookingStatus } from '../bookings/repository.js';
import { dayBound } from '../bookings/schemas.js';
import type { Db } from '../db/connect.js';
import { parseInput } from '../http/errors.js';
import { DomainError } from '../shared/domain-error.js';

export const MAX_RANGE_DAYS = 366;
const PAGE_SIZE = 100;
/** Without a status filter: every booking, since an invoice stays in the books whatever happened later. */
const DEFAULT_STATUSES: BookingStatus[] = [...BOOKING_STATUSES];

export const rangeQuery = z.object({
  from: z.iso.date('from must be a date as YYYY-MM-DD'),
  to: z.iso.date('to must be a date as YYYY-MM-DD'),
});

export interface ExportRange {
  /** Indian calendar dates (the documents' dates for a register or an export). */
  from: string;
  to: string;
  /** Bookings' statuses, for issuing by scheduled date. */
  statuses: BookingStatus[];
  /** Inclusive start and exclusive end, ISO UTC, on bookings.scheduled_at. */
  start: string;
  end: string;
}

export function parseExportRange(input: unknown): ExportRange {
  const q = parseInput(rangeQuery, input);
  if (q.from > q.to) throw new DomainError('invalid', 'validation_failed', 'from must not be after to');
  const start = dayBound(q.from, 'start');
  const end = dayBound(q.to, 'end');
  const days = (Date.parse(end) - Date.parse(start)) / 86_400_000;
  if (days > MAX_RANGE_DAYS)
    throw new DomainError('invalid', 'range_too_long', `the range may cover at most ${MAX_RANGE_DAYS} days`);
  return { from: q.from, to: q.to, statuses: DEFAULT_STATUSES, start, end };
}

/** Bookings scheduled in the range, oldest id first, fetched PAGE_SIZE at a time. */
export async function* bookingsInRange(db: Db, range: ExportRange): AsyncGenerator<BookingRow> {
  let after = 0;
  for (;;) {
    const rows: BookingRow[] = await bookingsQuery(db)
      .where('b.scheduled_at', '>=', range.start)
      .andWhere('b.scheduled_at', '<', range.end)
      .whereIn('b.status', range.statuses)
      .andWhere('b.id', '>', after)
      .orderBy('b.id')
      .limit(PAGE_SIZE);
    yield* rows;
    if (rows.length < PAGE_SIZE) return;
    after = rows[rows.length - 1]!.id;
  }
}
