// What an issued invoice says, frozen at issue time: later edits to a booking or to the supplier's
// settings never change an invoice that exists.
import type { BookingRow } from '../bookings/repository.js';
import { stateByCode } from '../bookings/gst.js';
import type { Config } from '../config.js';

export interface InvoiceSnapshot {
  number: string;
  issuedAt: string;
  /** The invoice's date in India (Asia/Kolkata), YYYY-MM-DD. */
  invoiceDate: string;
  financialYear: string;
  bookingId: number;
  supplier: { name: string; address: string; gstin: string; stateCode: string; stateName: string };
  recipient: {
    name: string;
    address: string;
    city: string;
    pincode: string;
    stateCode: string;
    stateName: string;
    gstin: string | null;
  };
  placeOfSupply: { code: string; name: string };
  reverseCharge: false;
  supplyType: 'intra-state' | 'inter-state';
  lines: {
    description: string;
    sac: string;
    scheduledAt: string;
    gstRateBp: number;
    taxablePaise: number;
    cgstPaise: number;
    sgstPaise: number;
    igstPaise: number;
    totalPaise: number;
  }[];
  totals: { taxablePaise: number; cgstPaise: number; sgstPaise: number; igstPaise: number; totalPaise: number };
  notes: string | null;
}

export function buildSnapshot(
  booking: BookingRow,
  supplier: Config['supplier'],
  issue: { number: string; issuedAt: string; invoiceDate: string; financialYear: string },
): InvoiceSnapshot {
  const amounts = {
    taxablePaise: Number(booking.taxable_paise),
    cgstPaise: Number(booking.cgst_paise),
    sgstPaise: Number(booking.sgst_paise),
    igstPaise: Number(booking.igst_paise),
    totalPaise: Number(booking.total_paise),
  };
  // For services to a registered or unregistered recipient, the place of supply is the recipient's state.
  const placeCode = booking.billing_state;
  return {
    ...issue,
    bookingId: booking.id,
    supplier: { ...supplier, stateCode: supplier.state, stateName: stateByCode(supplier.state)! },
    recipient: {
      name: booking.billing_name,
      address: booking.billing_address,
      city: booking.billing_city,
      pincode: booking.billing_pincode,
      stateCode: booking.billing_state,
      stateName: stateByCode(booking.billing_state) ?? booking.billing_state,
      gstin: booking.billing_gstin,
    },
    placeOfSupply: { code: placeCode, name: stateByCode(placeCode) ?? placeCode },
    reverseCharge: false,
    supplyType: booking.billing_state === supplier.state ? 'intra-state' : 'inter-state',
    lines: [
      {
        description: booking.service_name,
        sac: booking.sac,
        scheduledAt: booking.scheduled_at,
        gstRateBp: booking.gst_rate_bp,
        ...amounts,
      },
    ],
    totals: amounts,
    notes: booking.notes,
  };
}
