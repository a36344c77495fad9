// GSTR-1 as the GST offline tool imports it: one CSV per table, for the documents dated in the range in
// India. Text cells are escaped against spreadsheet formulas (csv-text.ts); amounts are plain numbers.
// Built in one pass over the documents. The per-document tables (b2b, b2cl, cdnr, cdnur) keep one
// row per document, the summaries (b2cs, hsn, docs) one per group, so memory is a few hundred bytes a
// document.
import { stringify } from 'csv-stringify/sync';
import type { Db } from '../db/connect.js';
import { documentsInRange, type IssuedDocument } from './documents-query.js';
import { spreadsheetText } from './csv-text.js';
import { rupeesDecimal } from './money.js';
import { RegisterSummary } from './register.js';

export const GSTR1_COLUMNS = {
  b2b: [
    'GSTIN/UIN of Recipient',
    'Receiver Name',
    'Invoice Number',
    'Invoice date',
    'Invoice Value',
    'Place Of Supply',
    'Reverse Charge',
    'Applicable % of Tax Rate',
    'Invoice Type',
    'E-Commerce GSTIN',
    'Rate',
    'Taxable Value',
    'Cess Amount',
  ],
  b2cl: [
    'Invoice Number',
    'Invoice date',
    'Invoice Value',
    'Place Of Supply',
    'Applicable % of Tax Rate',
    'Rate',
    'Taxable Value',
    'Cess Amount',
    'E-Commerce GSTIN',
  ],
  b2cs: [
    'Type',
    'Place Of Supply',
    'Applicable % of Tax Rate',
    'Rate',
    'Taxable Value',
    'Cess Amount',
    'E-Commerce GSTIN',
  ],
  cdnr: [
    'GSTIN/UIN of Recipient',
    'Receiver Name',
    'Note Number',
    'Note Date',
    'Note Type',
    'Place Of Supply',
    'Reverse Charge',
    'Note Supply Type',
    'Note Value',
    'Applicable % of Tax Rate',
    'Rate',
    'Taxable Value',
    'Cess Amount',
  ],
  cdnur: [
    'UR Type',
    'Note Number',
    'Note Date',
    'Note Type',
    'Place Of Supply',
    'Note Value',
    'Applicable % of Tax Rate',
    'Rate',
    'Taxable Value',
    'Cess Amount',
  ],
  hsn: [
    'HSN',
    'Description',
    'UQC',
    'Total Quantity',
    'Total Value',
    'Rate',
    'Taxable Value',
    'Integrated Tax Amount',
    'Central Tax Amount',
    'State/UT Tax Amount',
    'Cess Amount',
  ],
  docs: ['Nature of Document', 'Sr. No. From', 'Sr. No. To', 'Total Number', 'Cancelled'],
} as const;

/** From this date the HSN summary is reported apart for B2B and B2C supplies. */
const HSN_SPLIT_FROM = '2025-05-01';
/** Rule 59(4): an inter-state invoice to an unregistered recipient above this value is B2C (large). */
const b2clThresholdPaise = (invoiceDate: string) => (invoiceDate < '2024-08-01' ? 25_000_000 : 10_000_000);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** 2026-04-05 -> 05-Apr-2026 */
export const toolDate = (date: string) =>
  `${date.slice(8, 10)}-${MONTHS[Number(date.slice(5, 7)) - 1]}-${date.slice(0, 4)}`;
const rate = (bp: number) => String(bp / 100);

type Line = IssuedDocument['snapshot']['lines'][number];
type Kind = 'b2b' | 'b2cl' | 'b2cs';

/** Where an invoice goes (a credit note follows the invoice it credits). */
function kindOf(doc: IssuedDocument): Kind {
  const s = doc.snapshot;
  if (s.recipient.gstin) return 'b2b';
  const invoiceDate = doc.type === 'credit_note' ? doc.snapshot.original.date : doc.snapshot.invoiceDate;
  const large = s.supplyType === 'inter-state' && s.totals.totalPaise > b2clThresholdPaise(invoiceDate);
  return large ? 'b2cl' : 'b2cs';
}

interface Sums {
  value: number;
  taxable: number;
  igst: number;
  cgst: number;
  sgst: number;
}
const add = (into: Sums, line: Line, sign: 1 | -1) => {
  into.value += sign * line.totalPaise;
  into.taxable += sign * line.taxablePaise;
  into.igst += sign * line.igstPaise;
  into.cgst += sign * line.cgstPaise;
  into.sgst += sign * line.sgstPaise;
};
const zero = (): Sums => ({ value: 0, taxable: 0, igst: 0, cgst: 0, sgst: 0 });

export interface Gstr1File {
  name: string;
  csv: string;
}

/** The GSTR-1 CSVs of the documents dated `from`..`to` (Indian dates), in the offline tool's layout. */
export async function gstr1Files(db: Db, from: string, to: string): Promise<Gstr1File[]> {
  const rows: Record<'b2b' | 'b2cl' | 'cdnr' | 'cdnur', string[][]> = { b2b: [], b2cl: [], cdnr: [], cdnur: [] };
  const b2cs = new Map<string, { place: string; rateBp: number; taxable: number }>();
  const hsn = new Map<string, { file: string; sac: string; description: string; rateBp: number; sums: Sums }>();
  const series = new RegisterSummary();

  for await (const doc of documentsInRange(db, from, to)) {
    series.add(doc);
    const s = doc.snapshot;
    const kind = kindOf(doc);
    const place = `${s.placeOfSupply.code}-${s.placeOfSupply.name}`;
    const credit = doc.type === 'credit_note';
    const date = credit ? doc.snapshot.noteDate : doc.snapshot.invoiceDate;
    const value = rupeesDecimal(s.totals.totalPaise);
    for (const line of s.lines) {
      const r = rate(line.gstRateBp);
      const taxable = rupeesDecimal(line.taxablePaise);
      if (!credit && kind === 'b2b')
        rows.b2b.push([
          s.recipient.gstin!,
          spreadsheetText(s.recipient.name),
          s.number,
          toolDate(date),
          value,
          place,
          'N',
          '',
          'Regular B2B',
          '',
          r,
          taxable,
          '',
        ]);
      if (!credit && kind === 'b2cl') rows.b2cl.push([s.number, toolDate(date), value, place, '', r, taxable, '', '']);
      if (credit && kind === 'b2b')
        rows.cdnr.push([
          s.recipient.gstin!,
          spreadsheetText(s.recipient.name),
          s.number,
          toolDate(date),
          'C',
          place,
          'N',
          'Regular B2B',
          value,
          '',
          r,
          taxable,
          '',
        ]);
      if (credit && kind === 'b2cl')
        rows.cdnur.push(['B2CL', s.number, toolDate(date), 'C', place, value, '', r, taxable, '']);
      if (kind === 'b2cs') {
        // Net of their credit notes: a note against a B2C (small) invoice reduces its group.
        const key = `${place}|${line.gstRateBp}`;
        const group = b2cs.get(key) ?? { place, rateBp: line.gstRateBp, taxable: 0 };
        group.taxable += (credit ? -1 : 1) * line.taxablePaise;
        b2cs.set(key, group);
      }
      const file = date < HSN_SPLIT_FROM ? 'hsn' : kind === 'b2b' ? 'hsn_b2b' : 'hsn_b2c';
      const hsnKey = `${file}|${line.sac}|${line.gstRateBp}`;
      const entry = hsn.get(hsnKey) ?? {
        file,
        sac: line.sac,
        description: line.description,
        rateBp: line.gstRateBp,
        sums: zero(),
      };
      add(entry.sums, line, credit ? -1 : 1);
      hsn.set(hsnKey, entry);
    }
  }

  const csv = (columns: readonly string[], records: string[][]) =>
    stringify(records, { header: true, columns: [...columns] });
  const hsnRows = (file: string) =>
    [...hsn.values()]
      .filter((h) => h.file === file)
      .sort((a, b) => a.sac.localeCompare(b.sac) || a.rateBp - b.rateBp)
      .map((h) => [
        h.sac,
        spreadsheetText(h.description),
        'NA',
        '0',
        rupeesDecimal(h.sums.value),
        rate(h.rateBp),
        rupeesDecimal(h.sums.taxable),
        rupeesDecimal(h.sums.igst),
        rupeesDecimal(h.sums.cgst),
        rupeesDecimal(h.sums.sgst),
        '',
      ]);
  const b2csRows = [...b2cs.values()]
    .sort((a, b) => a.place.localeCompare(b.place) || a.rateBp - b.rateBp)
    .map((g) => ['OE', g.place, '', rate(g.rateBp), rupeesDecimal(g.taxable), '', '']);
  const docsRows = series.summaries().map((s) => [
    s.documentType === 'invoice' ? 'Invoices for outward supply' : 'Credit Note',
    s.first,
    s.last,
    String(s.count),
    '0', // a number once issued is never cancelled: a credit note credits it
  ]);

  const files: Gstr1File[] = [
    { name: 'b2b.csv', csv: csv(GSTR1_COLUMNS.b2b, rows.b2b) },
    { name: 'b2cl.csv', csv: csv(GSTR1_COLUMNS.b2cl, rows.b2cl) },
    { name: 'b2cs.csv', csv: csv(GSTR1_COLUMNS.b2cs, b2csRows) },
    { name: 'cdnr.csv', csv: csv(GSTR1_COLUMNS.cdnr, rows.cdnr) },
    { name: 'cdnur.csv', csv: csv(GSTR1_COLUMNS.cdnur, rows.cdnur) },
  ];
  if (from < HSN_SPLIT_FROM) files.push({ name: 'hsn.csv', csv: csv(GSTR1_COLUMNS.hsn, hsnRows('hsn')) });
  if (to >= HSN_SPLIT_FROM) {
    files.push({ name: 'hsn_b2b.csv', csv: csv(GSTR1_COLUMNS.hsn, hsnRows('hsn_b2b')) });
    files.push({ name: 'hsn_b2c.csv', csv: csv(GSTR1_COLUMNS.hsn, hsnRows('hsn_b2c')) });
  }
  files.push({ name: 'docs.csv', csv: csv(GSTR1_COLUMNS.docs, docsRows) });
  return files;
}
