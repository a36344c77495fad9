// Invoice numbers: <PREFIX>/<YY-YY>/<serial>, sequential per Indian financial year (April to March),
// at most 16 characters (GST Rule 46), assigned once in a transaction and never reused.
import type { Knex } from 'knex';
import type { BookingRow, BookingStatus } from '../bookings/repository.js';
import type { Config } from '../config.js';
import { isMysql, isUniqueViolation, type Db } from '../db/connect.js';
import { DomainError } from '../shared/domain-error.js';
import { buildSnapshot, type InvoiceSnapshot } from './snapshot.js';

export const MAX_INVOICE_NUMBER_LENGTH = 16;

const istParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The date in India and its financial year: 2027-03-31 is in "26-27", 2027-04-01 in "27-28". */
export function indianDate(at: Date): { date: string; financialYear: string } {
  const date = istParts.format(at); // en-CA formats as YYYY-MM-DD
  const year = Number(date.slice(0, 4));
  const start = Number(date.slice(5, 7)) >= 4 ? year : year - 1;
  const yy = (n: number) => String(n % 100).padStart(2, '0');
  return { date, financialYear: `${yy(start)}-${yy(start + 1)}` };
}

export function serialDigits(prefix: string): number {
  return MAX_INVOICE_NUMBER_LENGTH - prefix.length - '/YY-YY/'.length;
}

/**
 * The moment of issue, read once the serial is taken (under the sequence's lock), so serials and
 * document dates rise together: a range of dates always holds an unbroken run of serials.
 */
export function issueMoment(financialYear: string): { issuedAt: Date; date: string } {
  const issuedAt = new Date();
  const { date, financialYear: now } = indianDate(issuedAt);
  // Midnight of 1 April passed while this issuer waited for the lock: its serial is last year's.
  if (now !== financialYear)
    throw new DomainError('unavailable', 'financial_year_changed', 'a new financial year began just now; try again', 1);
  return { issuedAt, date };
}

/** A document's amounts as its row keeps them beside the snapshot (for queries and sums). */
export const amountColumns = (t: InvoiceSnapshot['totals']) => ({
  taxable_paise: t.taxablePaise,
  cgst_paise: t.cgstPaise,
  sgst_paise: t.sgstPaise,
  igst_paise: t.igstPaise,
  total_paise: t.totalPaise,
});

/** A document series: invoices, or credit notes, each numbered on its own. */
export interface Series {
  prefix: string;
  /** The setting that holds the prefix, named in the error when serials run out. */
  setting: 'INVOICE_PREFIX' | 'CREDIT_NOTE_PREFIX';
  /** Its table of last serials per financial year. */
  sequences: 'invoice_sequences' | 'credit_note_sequences';
}

export const invoiceSeries = (config: Pick<Config, 'invoicePrefix'>): Series => ({
  prefix: config.invoicePrefix,
  setting: 'INVOICE_PREFIX',
  sequences: 'invoice_sequences',
});

export function formatInvoiceNumber(
  prefix: string,
  financialYear: string,
  serial: number,
  setting: Series['setting'] = 'INVOICE_PREFIX',
): string {
  const digits = serialDigits(prefix);
  if (String(serial).length > digits) {
    throw new DomainError(
      'exhausted',
      setting === 'INVOICE_PREFIX' ? 'invoice_numbers_exhausted' : 'credit_note_numbers_exhausted',
      `no ${digits}-digit serial left for ${financialYear}; shorten ${setting}`,
    );
  }
  return `${prefix}/${financialYear}/${String(serial).padStart(digits, '0')}`;
}

/**
 * Creates the series' row for the year if missing. Outside the numbering transaction: an
 * insert-if-missing inside it takes gap locks that deadlock concurrent issuers on InnoDB.
 */
export async function ensureSequence(db: Db, series: Series, financialYear: string): Promise<void> {
  await db(series.sequences)
    .insert({ financial_year: financialYear, last_serial: 0 })
    .onConflict('financial_year')
    .ignore();
}

/** The next number of the series, taken under the sequence row's lock (the transaction holds it). */
export async function takeNumber(
  trx: Knex.Transaction,
  series: Series,
  financialYear: string,
): Promise<{ number: string; serial: number }> {
  const lock = trx(series.sequences).where({ financial_year: financialYear }).first('last_serial');
  const { last_serial } = await (trx.client.config.client === 'mysql2' ? lock.forUpdate() : lock);
  const serial = Number(last_serial) + 1;
  await trx(series.sequences).where({ financial_year: financialYear }).update({ last_serial: serial });
  return { number: formatInvoiceNumber(series.prefix, financialYear, serial, series.setting), serial };
}

export interface InvoiceRow {
  id: number;
  booking_id: number;
  number: string;
  financial_year: string;
  serial: number;
  issued_at: string;
  snapshot: string;
}

export const findInvoiceForBooking = (db: Db | Knex.Transaction, bookingId: number) =>
  db<InvoiceRow>('invoices').where({ booking_id: bookingId }).first();

export const parseSnapshot = (row: Pick<InvoiceRow, 'snapshot'>): InvoiceSnapshot => JSON.parse(row.snapshot);

/** A tax invoice is issued for a confirmed or completed booking only (409 otherwise). */
function refuseUninvoiceable(status: BookingStatus): void {
  if (status === 'pending')
    throw new DomainError(
      'conflict',
      'booking_not_confirmed',
      'the booking is not confirmed yet: its tax invoice is issued once the practice confirms it',
    );
  if (status === 'cancelled')
    throw new DomainError('conflict', 'booking_cancelled', 'a cancelled booking without an invoice cannot be invoiced');
}

/**
 * The booking's invoice, issued now if it has none. Concurrent first requests get the same number:
 * the sequence row is locked for the transaction, and a second insert for the same booking hits the
 * unique key, rolls back (returning its serial) and reads the winner's invoice instead.
 */
export async function issueInvoice(
  db: Db,
  booking: BookingRow,
  config: Pick<Config, 'invoicePrefix' | 'supplier'>,
): Promise<InvoiceSnapshot> {
  const existing = await findInvoiceForBooking(db, booking.id);
  if (existing) return parseSnapshot(existing);
  refuseUninvoiceable(booking.status);

  const { financialYear } = indianDate(new Date());
  const series = invoiceSeries(config);
  await ensureSequence(db, series, financialYear);
  try {
    return await db.transaction(async (trx) => {
      // The booking's status is read again under its row lock, the lock a cancellation takes too: a
      // booking cancelled at this moment is either invoiced first (and then credited) or not invoiced.
      const current = trx('bookings').where({ id: booking.id }).first('status');
      refuseUninvoiceable(((await (isMysql(db) ? current.forUpdate() : current)) as { status: BookingStatus }).status);
      const { number, serial } = await takeNumber(trx, series, financialYear);
      const { issuedAt, date } = issueMoment(financialYear);
      const snapshot = buildSnapshot(booking, config.supplier, {
        number,
        issuedAt: issuedAt.toISOString(),
        invoiceDate: date,
        financialYear,
      });
      await trx('invoices').insert({
        booking_id: booking.id,
        number,
        financial_year: financialYear,
        serial,
        issued_at: snapshot.issuedAt,
        customer_name: snapshot.recipient.name,
        customer_gstin: snapshot.recipient.gstin,
        place_of_supply: snapshot.placeOfSupply.code,
        sac: booking.sac,
        ...amountColumns(snapshot.totals),
        snapshot: JSON.stringify(snapshot),
      });
      return snapshot;
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = await findInvoiceForBooking(db, booking.id);
    if (!winner) throw err;
    return parseSnapshot(winner);
  }
}
