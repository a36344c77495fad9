// The invoice as the template prints it: every figure already formatted, nothing computed in the template.
import { createHash } from 'node:crypto';
import { amountInWords, formatRate, formatRupees } from './money.js';
import type { InvoiceSnapshot } from './snapshot.js';

/** Bump when the template or its formatting changes: it is part of every invoice's ETag. */
export const TEMPLATE_VERSION = '1';

export interface InvoiceView {
  number: string;
  invoiceDate: string;
  supplier: InvoiceSnapshot['supplier'];
  recipient: InvoiceSnapshot['recipient'];
  placeOfSupply: InvoiceSnapshot['placeOfSupply'];
  reverseCharge: boolean;
  intraState: boolean;
  lines: {
    index: number;
    description: string;
    scheduled: string;
    sac: string;
    rate: string;
    halfRate: string;
    taxable: string;
    cgst: string;
    sgst: string;
    igst: string;
    total: string;
  }[];
  totals: { taxable: string; cgst: string; sgst: string; igst: string; total: string; words: string };
  notes: string | null;
}

const displayDate = new Intl.DateTimeFormat('en-IN', {
  timeZone: 'Asia/Kolkata',
  day: '2-digit',
  month: 'short',
  year: 'numeric',
});

export function invoiceView(s: InvoiceSnapshot): InvoiceView {
  return {
    number: s.number,
    invoiceDate: displayDate.format(new Date(`${s.invoiceDate}T12:00:00+05:30`)),
    supplier: s.supplier,
    recipient: s.recipient,
    placeOfSupply: s.placeOfSupply,
    reverseCharge: s.reverseCharge,
    intraState: s.supplyType === 'intra-state',
    lines: s.lines.map((l, i) => ({
      index: i + 1,
      description: l.description,
      scheduled: displayDate.format(new Date(l.scheduledAt)),
      sac: l.sac,
      rate: formatRate(l.gstRateBp),
      halfRate: formatRate(l.gstRateBp / 2),
      taxable: formatRupees(l.taxablePaise),
      cgst: formatRupees(l.cgstPaise),
      sgst: formatRupees(l.sgstPaise),
      igst: formatRupees(l.igstPaise),
      total: formatRupees(l.totalPaise),
    })),
    totals: {
      taxable: formatRupees(s.totals.taxablePaise),
      cgst: formatRupees(s.totals.cgstPaise),
      sgst: formatRupees(s.totals.sgstPaise),
      igst: formatRupees(s.totals.igstPaise),
      total: formatRupees(s.totals.totalPaise),
      words: amountInWords(s.totals.totalPaise),
    },
    notes: s.notes,
  };
}

/** Names this exact PDF (snapshot and template version): the render cache's key. */
export function invoiceKey(s: InvoiceSnapshot): string {
  return createHash('sha256').update(TEMPLATE_VERSION).update(JSON.stringify(s)).digest('hex').slice(0, 32);
}

/** A strong validator known without rendering: the snapshot never changes once issued. */
export const invoiceEtag = (s: InvoiceSnapshot): string => `"inv-${invoiceKey(s)}"`;

/** "INV/26-27/000123" -> "INV-26-27-000123.pdf" */
export const invoiceFilename = (number: string) => `${number.replaceAll('/', '-')}.pdf`;
