// Text in a CSV that a spreadsheet would run as a formula (=HYPERLINK(...), +cmd, -2+3, @SUM) is written
// with a leading quote, as csv-stringify's escape_formulas does. Only text is escaped: a net credit's
// amount (-1999.00) must stay a number for the GST tool.
const FORMULA_START = /^[=+\-@\t\r]/;

export const spreadsheetText = (value: string): string => (FORMULA_START.test(value) ? `'${value}` : value);
