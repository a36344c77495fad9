// The invoice as the template prints it: every figure already formatted, nothing computed in the template.
import { amountInWords, formatRate, formatRupees } from './money.js';
import type { CreditNoteSnapshot } from './credit-notes.js';
import type { InvoiceSnapshot } from './snapshot.js';

export interface InvoiceView {
  /** What the document is, as printed: a tax invoice, or a credit note (rule 53: "nature of document"). */
  document: { title: string; numberLabel: string; dateLabel: string; totalLabel: string; footer: string };
  /** For a credit note: the tax invoice it credits, and why. */
  original: { number: string; date: string } | null;
  reason: string | null;
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

/** A date in India (YYYY-MM-DD) as printed: 05 Apr 2026. */
const printedDate = (date: string) => displayDate.format(new Date(`${date}T12:00:00+05:30`));

export const TAX_INVOICE: InvoiceView['document'] = {
  title: 'Tax Invoice',
  numberLabel: 'Invoice No.',
  dateLabel: 'Invoice Date',
  totalLabel: 'Total',
  footer: 'Tax is not payable on reverse charge basis. This is a computer-generated invoice.',
};
const CREDIT_NOTE: InvoiceView['document'] = {
  title: 'Credit Note',
  numberLabel: 'Credit Note No.',
  dateLabel: 'Credit Note Date',
  totalLabel: 'Total Credited',
  footer: 'Issued under section 34 of the CGST Act, 2017. This is a computer-generated credit note.',
};

export function invoiceView(s: InvoiceSnapshot): InvoiceView {
  return documentView(s, s.invoiceDate, TAX_INVOICE, null, null, s.notes);
}

/** A credit note prints as its invoice's layout, with the original invoice's number and date. */
export function creditNoteView(s: CreditNoteSnapshot): InvoiceView {
  const original = { number: s.original.number, date: printedDate(s.original.date) };
  return documentView(s, s.noteDate, CREDIT_NOTE, original, s.reason, null);
}

function documentView(
  s: Omit<InvoiceSnapshot, 'invoiceDate' | 'notes'>,
  date: string,
  document: InvoiceView['document'],
  original: InvoiceView['original'],
  reason: string | null,
  notes: string | null,
): InvoiceView {
  return {
    document,
    original,
    reason,
    number: s.number,
    invoiceDate: printedDate(date),
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
    notes,
  };
}

/** "INV/26-27/000123" -> "INV-26-27-000123.pdf" */
export const invoiceFilename = (number: string) => `${number.replaceAll('/', '-')}.pdf`;
