// The invoice register accountants file GST returns from: one row per invoice, rupees with two
// decimals, and a closing TOTAL row when there is any invoice. Streamed row by row (csv-stringify), never built whole.
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Db } from '../db/connect.js';
import { invoicesInRange, type ExportRange } from './export-query.js';
import { rupeesDecimal } from './money.js';
import { parseSnapshot } from './numbering.js';

export const REGISTER_COLUMNS = [
  'invoice_number',
  'invoice_date',
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
const money = (t: Totals) => [t.taxablePaise, t.cgstPaise, t.sgstPaise, t.igstPaise, t.totalPaise].map(rupeesDecimal);

async function* registerRecords(db: Db, range: ExportRange, counted: { rows: number }): AsyncGenerator<string[]> {
  const sum: Totals = { taxablePaise: 0, cgstPaise: 0, sgstPaise: 0, igstPaise: 0, totalPaise: 0 };
  for await (const row of invoicesInRange(db, range)) {
    const s = parseSnapshot(row);
    for (const key of Object.keys(sum) as (keyof Totals)[]) sum[key] += s.totals[key];
    counted.rows++;
    yield [
      s.number,
      s.invoiceDate,
      s.recipient.name,
      s.recipient.gstin ?? '',
      `${s.placeOfSupply.code}-${s.placeOfSupply.name}`,
      s.lines.map((l) => l.sac).join(' '),
      ...money(s.totals),
    ];
  }
  if (counted.rows > 0) yield ['TOTAL', '', '', '', '', '', ...money(sum)];
}

/** A CSV stream of the register; `counted.rows` holds the number of invoice rows once it ends. */
export function registerCsv(db: Db, range: ExportRange, counted = { rows: 0 }): Readable {
  // A billing name is the customer's own text: "=HYPERLINK(...)" must reach a spreadsheet as text, not
  // as a formula (CSV injection). csv-stringify prefixes such cells with a quote.
  const csv = stringify({ header: true, columns: REGISTER_COLUMNS, escape_formulas: true });
  const source = Readable.from(registerRecords(db, range, counted));
  source.on('error', (err) => csv.destroy(err));
  return source.pipe(csv);
}
