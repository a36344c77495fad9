// Credit notes (CGST Act s.34, CGST Rules r.53): cancelling a booking whose tax invoice was issued
// credits that invoice in full, in the same transaction as the status change. The note has its own
// series; the invoice itself is never changed or deleted.
import type { Knex } from 'knex';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import {
  amountColumns,
  ensureSequence,
  indianDate,
  issueMoment,
  parseSnapshot,
  takeNumber,
  type InvoiceRow,
  type Series,
} from './numbering.js';
import type { InvoiceSnapshot } from './snapshot.js';

export interface CreditNoteSnapshot extends Omit<InvoiceSnapshot, 'invoiceDate' | 'notes'> {
  kind: 'credit-note';
  /** The note's date in India (Asia/Kolkata), YYYY-MM-DD. */
  noteDate: string;
  reason: string | null;
  /** The tax invoice it credits (rule 53(1)(g)). */
  original: { number: string; date: string };
}

export interface CreditNoteRow {
  id: number;
  booking_id: number;
  invoice_id: number;
  number: string;
  financial_year: string;
  serial: number;
  issued_at: string;
  reason: string | null;
  snapshot: string;
}

export const creditNoteSeries = (config: Pick<Config, 'creditNotePrefix'>): Series => ({
  prefix: config.creditNotePrefix,
  setting: 'CREDIT_NOTE_PREFIX',
  sequences: 'credit_note_sequences',
});

export const findCreditNoteForBooking = (db: Db | Knex.Transaction, bookingId: number) =>
  db<CreditNoteRow>('credit_notes').where({ booking_id: bookingId }).first();

export const parseCreditNote = (row: Pick<CreditNoteRow, 'snapshot'>): CreditNoteSnapshot => JSON.parse(row.snapshot);

/** Prepares what `creditInvoice` needs before its transaction: the series' row for this year (ensureSequence). */
export async function prepareCreditNote(db: Db, config: Pick<Config, 'creditNotePrefix'>) {
  const { financialYear } = indianDate(new Date());
  const series = creditNoteSeries(config);
  await ensureSequence(db, series, financialYear);
  return { financialYear, series };
}

/** Issues the credit note for `invoice` inside `trx` (the cancellation's transaction). */
export async function creditInvoice(
  trx: Knex.Transaction,
  invoice: InvoiceRow,
  reason: string | null,
  prepared: Awaited<ReturnType<typeof prepareCreditNote>>,
): Promise<CreditNoteSnapshot> {
  const { number, serial } = await takeNumber(trx, prepared.series, prepared.financialYear);
  const { issuedAt, date } = issueMoment(prepared.financialYear);
  const { invoiceDate, notes: _notes, ...credited } = parseSnapshot(invoice);
  const snapshot: CreditNoteSnapshot = {
    ...credited,
    kind: 'credit-note',
    number,
    issuedAt: issuedAt.toISOString(),
    noteDate: date,
    financialYear: prepared.financialYear,
    reason,
    original: { number: invoice.number, date: invoiceDate },
  };
  await trx('credit_notes').insert({
    booking_id: invoice.booking_id,
    invoice_id: invoice.id,
    number,
    financial_year: prepared.financialYear,
    serial,
    issued_at: snapshot.issuedAt,
    reason,
    ...amountColumns(snapshot.totals),
    snapshot: JSON.stringify(snapshot),
  });
  return snapshot;
}
