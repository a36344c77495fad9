// Which documents a register covers: every tax invoice and credit note whose document date, in India,
// falls in the range, whatever happened to its booking later. Read in pages, never all at once.
import type { Db } from '../db/connect.js';
import { parseCreditNote, type CreditNoteSnapshot } from './credit-notes.js';
import { parseSnapshot } from './numbering.js';
import type { InvoiceSnapshot } from './snapshot.js';

const PAGE_SIZE = 100;
const IST_OFFSET = '+05:30';

/** Inclusive start and exclusive end, ISO UTC, of Indian calendar dates `from` to `to`. */
export function indianDayBounds(from: string, to: string): { start: string; end: string } {
  const end = new Date(`${to}T00:00:00${IST_OFFSET}`);
  end.setUTCDate(end.getUTCDate() + 1);
  return { start: new Date(`${from}T00:00:00${IST_OFFSET}`).toISOString(), end: end.toISOString() };
}

export type IssuedDocument =
  | { type: 'invoice'; id: number; serial: number; financialYear: string; snapshot: InvoiceSnapshot }
  | { type: 'credit_note'; id: number; serial: number; financialYear: string; snapshot: CreditNoteSnapshot };

interface DocumentRow {
  id: number;
  serial: number;
  financial_year: string;
  issued_at: string;
  snapshot: string;
}

async function* rowsOf(db: Db, table: 'invoices' | 'credit_notes', start: string, end: string) {
  let after = 0;
  for (;;) {
    const rows: DocumentRow[] = await db(table)
      .where('issued_at', '>=', start)
      .andWhere('issued_at', '<', end)
      .andWhere('id', '>', after)
      .orderBy('id')
      .limit(PAGE_SIZE)
      .select('id', 'serial', 'financial_year', 'issued_at', 'snapshot');
    yield* rows;
    if (rows.length < PAGE_SIZE) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** The invoices dated in the range, then its credit notes, each in issue order. */
export async function* documentsInRange(db: Db, from: string, to: string): AsyncGenerator<IssuedDocument> {
  const { start, end } = indianDayBounds(from, to);
  const common = (row: DocumentRow) => ({ id: row.id, serial: Number(row.serial), financialYear: row.financial_year });
  for await (const row of rowsOf(db, 'invoices', start, end))
    yield { type: 'invoice', ...common(row), snapshot: parseSnapshot(row) };
  for await (const row of rowsOf(db, 'credit_notes', start, end))
    yield { type: 'credit_note', ...common(row), snapshot: parseCreditNote(row) };
}

/** How many documents `documentsInRange` yields (an export job's progress total). */
export async function countDocumentsInRange(db: Db, from: string, to: string): Promise<number> {
  const { start, end } = indianDayBounds(from, to);
  let total = 0;
  for (const table of ['invoices', 'credit_notes'] as const) {
    const row = await db(table)
      .where('issued_at', '>=', start)
      .andWhere('issued_at', '<', end)
      .count({ n: '*' })
      .first();
    total += Number(row?.n ?? 0);
  }
  return total;
}
