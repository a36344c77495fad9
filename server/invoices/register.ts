// The register accountants file GST returns from: one row per issued document (tax invoices and credit
// notes) dated in the range in India, rupees with two decimals, and nothing else. No total row: a return
// tool would import it as one more invoice. The totals and the first and last serial of each series go
// in the export's manifest (RegisterSummary), which also says whether any serial is missing. Streamed
// row by row (csv-stringify), never built whole.
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Db } from '../db/connect.js';
import { documentsInRange, type IssuedDocument } from './documents-query.js';
import { spreadsheetText } from './csv-text.js';
import { rupeesDecimal } from './money.js';

export const REGISTER_COLUMNS = [
  'document_type',
  'document_number',
  'document_date',
  'original_invoice_number',
  'original_invoice_date',
  'customer',
  'customer_gstin',
  'place_of_supply',
  'sac',
  'taxable_value',
  'cgst',
  'sgst',
  'igst',
  'total',
];

type Totals = { taxablePaise: number; cgstPaise: number; sgstPaise: number; igstPaise: number; totalPaise: number };
const TOTAL_KEYS = ['taxablePaise', 'cgstPaise', 'sgstPaise', 'igstPaise', 'totalPaise'] as const;
const money = (t: Totals) => TOTAL_KEYS.map((k) => rupeesDecimal(t[k]));

export interface SeriesSummary {
  documentType: IssuedDocument['type'];
  /** "INV/26-27" or "CN/26-27": the number up to its serial. */
  series: string;
  count: number;
  first: string;
  last: string;
  /** Serials between the first and the last that are not in the range: must be empty. */
  missingSerials: number[];
  totals: { taxable: string; cgst: string; sgst: string; igst: string; total: string };
}

/** Counts and totals per series as the register is written; read once it has ended. */
export class RegisterSummary {
  rows = 0;
  private readonly series = new Map<
    string,
    { type: IssuedDocument['type']; serials: number[]; numbers: Map<number, string>; sum: Totals }
  >();

  add(doc: IssuedDocument): void {
    this.rows++;
    const name = doc.snapshot.number.slice(0, doc.snapshot.number.lastIndexOf('/'));
    let entry = this.series.get(name);
    if (!entry) {
      entry = {
        type: doc.type,
        serials: [],
        numbers: new Map(),
        sum: { taxablePaise: 0, cgstPaise: 0, sgstPaise: 0, igstPaise: 0, totalPaise: 0 },
      };
      this.series.set(name, entry);
    }
    entry.serials.push(doc.serial);
    entry.numbers.set(doc.serial, doc.snapshot.number);
    for (const key of TOTAL_KEYS) entry.sum[key] += doc.snapshot.totals[key];
  }

  summaries(): SeriesSummary[] {
    return [...this.series].map(([series, entry]) => {
      const serials = [...entry.serials].sort((a, b) => a - b);
      const seen = new Set(serials);
      const missingSerials: number[] = [];
      for (let s = serials[0]!; s <= serials.at(-1)!; s++) if (!seen.has(s)) missingSerials.push(s);
      const [taxable, cgst, sgst, igst, total] = money(entry.sum);
      return {
        documentType: entry.type,
        series,
        count: serials.length,
        first: entry.numbers.get(serials[0]!)!,
        last: entry.numbers.get(serials.at(-1)!)!,
        missingSerials,
        totals: { taxable: taxable!, cgst: cgst!, sgst: sgst!, igst: igst!, total: total! },
      };
    });
  }

  get noSerialMissing(): boolean {
    return this.summaries().every((s) => s.missingSerials.length === 0);
  }
}

function record(doc: IssuedDocument): string[] {
  const s = doc.snapshot;
  const credit = doc.type === 'credit_note' ? doc.snapshot : undefined;
  const text = [
    doc.type,
    s.number,
    credit ? credit.noteDate : (s as { invoiceDate: string }).invoiceDate,
    credit?.original.number ?? '',
    credit?.original.date ?? '',
    s.recipient.name,
    s.recipient.gstin ?? '',
    `${s.placeOfSupply.code}-${s.placeOfSupply.name}`,
    s.lines.map((l) => l.sac).join(' '),
  ];
  return [...text.map(spreadsheetText), ...money(s.totals)];
}

async function* registerRecords(db: Db, from: string, to: string, summary: RegisterSummary): AsyncGenerator<string[]> {
  for await (const doc of documentsInRange(db, from, to)) {
    summary.add(doc);
    yield record(doc);
  }
}

/** A CSV stream of the register of documents dated `from`..`to` (Indian dates). */
export function registerCsv(db: Db, range: { from: string; to: string }, summary = new RegisterSummary()): Readable {
  // A billing name is the customer's own text: "=HYPERLINK(...)" must reach a spreadsheet as text, not
  // as a formula (CSV injection): every text cell goes through spreadsheetText.
  const csv = stringify({ header: true, columns: REGISTER_COLUMNS });
  const source = Readable.from(registerRecords(db, range.from, range.to, summary));
  source.on('error', (err) => csv.destroy(err));
  return source.pipe(csv);
}
