// The admin's explicit act of issuing: every confirmed or completed booking scheduled in the range that
// has no invoice gets one (numbers only; each PDF is rendered on its first request or export).
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { DomainError } from '../shared/domain-error.js';
import { bookingsInRange, type ExportRange } from './export-query.js';
import { issueInvoice } from './numbering.js';

/** Returns the numbers issued, in order. */
export async function issueInvoicesInRange(deps: { db: Db; config: Config }, range: ExportRange): Promise<string[]> {
  const issued: string[] = [];
  for await (const booking of bookingsInRange(deps.db, { ...range, statuses: ['confirmed', 'completed'] })) {
    if (booking.invoice_number) continue;
    try {
      issued.push((await issueInvoice(deps.db, booking, deps.config)).number);
    } catch (err) {
      // Cancelled meanwhile: nothing to issue.
      if (!(err instanceof DomainError && err.kind === 'conflict')) throw err;
    }
  }
  return issued;
}
