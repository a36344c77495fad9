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

export function formatInvoiceNumber(prefix: string, financialYear: string, serial: number): string {
  const digits = serialDigits(prefix);
  if (String(serial).length > digits) {
    throw new DomainError(
      'exhausted',
      'invoice_numbers_exhausted',
      `no ${digits}-digit serial left for ${financialYear}; shorten INVOICE_PREFIX`,
    );
  }
  return `${prefix}/${financialYear}/${String(serial).padStart(digits, '0')}`;
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

  const issuedAt = new Date();
  const { date, financialYear } = indianDate(issuedAt);
  // Created outside the transaction: an insert-if-missing inside it takes gap locks that deadlock
  // concurrent issuers on InnoDB.
  await db('invoice_sequences')
    .insert({ financial_year: financialYear, last_serial: 0 })
    .onConflict('financial_year')
    .ignore();
  try {
    return await db.transaction(async (trx) => {
      // The booking's status is read again under its row lock, the lock a cancellation takes too: a
      // booking cancelled at this moment is either invoiced first (and then credited) or not invoiced.
      const current = trx('bookings').where({ id: booking.id }).first('status');
      refuseUninvoiceable(((await (isMysql(db) ? current.forUpdate() : current)) as { status: BookingStatus }).status);
      const lock = trx('invoice_sequences').where({ financial_year: financialYear }).first('last_serial');
      const { last_serial } = await (isMysql(db) ? lock.forUpdate() : lock);
      const serial = Number(last_serial) + 1;
      await trx('invoice_sequences').where({ financial_year: financialYear }).update({ last_serial: serial });
      const number = formatInvoiceNumber(config.invoicePrefix, financialYear, serial);
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
        taxable_paise: snapshot.totals.taxablePaise,
        cgst_paise: snapshot.totals.cgstPaise,
        sgst_paise: snapshot.totals.sgstPaise,
        igst_paise: snapshot.totals.igstPaise,
        total_paise: snapshot.totals.totalPaise,
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
