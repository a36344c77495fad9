import type { BookingView } from './views.js';
import type { Knex } from 'knex';
import type { Db } from '../db/connect.js';
import { nowIso } from '../db/time.js';
import type { ServiceRow } from './catalogue.js';
import { computeTax } from './gst.js';

export const BOOKING_STATUSES = ['pending', 'confirmed', 'completed', 'cancelled'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/** Which status changes an admin may make; completed and cancelled are final. */
export const NEXT_STATUSES: Record<BookingStatus, readonly BookingStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['completed', 'cancelled'],
  completed: [],
  cancelled: [],
};

export interface Billing {
  name: string;
  address: string;
  city: string;
  state: string;
  pincode: string;
  gstin?: string | null;
}

export interface BookingRow {
  id: number;
  user_id: number;
  service_id: number;
  service_code: string;
  service_name: string;
  scheduled_at: string;
  status: BookingStatus;
  notes: string | null;
  billing_name: string;
  billing_address: string;
  billing_city: string;
  billing_state: string;
  billing_pincode: string;
  billing_gstin: string | null;
  sac: string;
  gst_rate_bp: number;
  taxable_paise: number;
  cgst_paise: number;
  sgst_paise: number;
  igst_paise: number;
  total_paise: number;
  created_at: string;
  updated_at: string;
  invoice_number: string | null;
}

/** Bookings joined with their service and (if issued) invoice number. */
export function bookingsQuery(db: Db): Knex.QueryBuilder {
  return db('bookings as b')
    .join('services as s', 's.id', 'b.service_id')
    .leftJoin('invoices as i', 'i.booking_id', 'b.id')
    .select('b.*', 's.code as service_code', 's.name as service_name', 'i.number as invoice_number');
}

/** One booking (the caller's own when `ownerId` is given). */
function bookingById(db: Db, id: number, ownerId?: number): Knex.QueryBuilder {
  const query = bookingsQuery(db).where('b.id', id);
  if (ownerId !== undefined) query.andWhere('b.user_id', ownerId);
  return query;
}

export async function findBooking(db: Db, id: number, ownerId?: number): Promise<BookingRow | undefined> {
  return bookingById(db, id, ownerId).first();
}

/** As findBooking, with its issued invoice's snapshot (JSON) if it has one: a download in one query. */
export async function findBookingWithInvoice(
  db: Db,
  id: number,
  ownerId?: number,
): Promise<(BookingRow & { invoice_snapshot: string | null }) | undefined> {
  return bookingById(db, id, ownerId).select('i.snapshot as invoice_snapshot').first();
}

export async function createBooking(
  db: Db,
  input: {
    userId: number;
    service: ServiceRow;
    scheduledAt: string;
    notes?: string;
    billing: Billing;
    supplierState: string;
    status?: BookingStatus;
  },
): Promise<number> {
  const { service, billing } = input;
  const tax = computeTax(Number(service.price_paise), service.gst_rate_bp, billing.state === input.supplierState);
  const now = nowIso();
  const [id] = await db('bookings').insert({
    user_id: input.userId,
    service_id: service.id,
    scheduled_at: input.scheduledAt,
    status: input.status ?? 'pending',
    notes: input.notes ?? null,
    billing_name: billing.name,
    billing_address: billing.address,
    billing_city: billing.city,
    billing_state: billing.state,
    billing_pincode: billing.pincode,
    billing_gstin: billing.gstin ?? null,
    sac: service.sac,
    gst_rate_bp: tax.gstRateBp,
    taxable_paise: tax.taxablePaise,
    cgst_paise: tax.cgstPaise,
    sgst_paise: tax.sgstPaise,
    igst_paise: tax.igstPaise,
    total_paise: tax.totalPaise,
    created_at: now,
    updated_at: now,
  });
  return Number(id);
}

export function publicBooking(b: BookingRow, supplierState: string): BookingView {
  return {
    id: b.id,
    serviceCode: b.service_code,
    serviceName: b.service_name,
    scheduledAt: b.scheduled_at,
    status: b.status,
    notes: b.notes,
    billing: {
      name: b.billing_name,
      address: b.billing_address,
      city: b.billing_city,
      state: b.billing_state,
      pincode: b.billing_pincode,
      gstin: b.billing_gstin,
    },
    sac: b.sac,
    amounts: {
      taxablePaise: Number(b.taxable_paise),
      gstRateBp: b.gst_rate_bp,
      cgstPaise: Number(b.cgst_paise),
      sgstPaise: Number(b.sgst_paise),
      igstPaise: Number(b.igst_paise),
      totalPaise: Number(b.total_paise),
    },
    supplyType: b.billing_state === supplierState ? 'intra-state' : 'inter-state',
    invoiceNumber: b.invoice_number ?? null,
    createdAt: b.created_at,
    updatedAt: b.updated_at,
  };
}
