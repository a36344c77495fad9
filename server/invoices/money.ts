// Paise to text, without ever turning money into a float.
import { ToWords } from 'to-words';

const grouping = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 0 });
const words = new ToWords({ localeCode: 'en-IN' });

const split = (paise: number) => [Math.trunc(paise / 100), paise % 100] as const;

/** "2358.82": rupees with two decimals (the register CSV); "-1.50" for a net credit. */
export function rupeesDecimal(paise: number): string {
  const [rupees, rest] = split(Math.abs(paise));
  return `${paise < 0 ? '-' : ''}${rupees}.${String(rest).padStart(2, '0')}`;
}

/** "₹2,35,882.00": Indian digit grouping (lakh, crore). */
export function formatRupees(paise: number): string {
  const [rupees, rest] = split(paise);
  return `₹${grouping.format(rupees)}.${String(rest).padStart(2, '0')}`;
}

/** "Rupees Two Thousand Three Hundred Fifty Eight and Eighty Two Paise Only" (Indian system). */
export function amountInWords(paise: number): string {
  const [rupees, rest] = split(paise);
  const main = `Rupees ${rupees === 0 ? 'Zero' : words.convert(rupees)}`;
  return `${main}${rest ? ` and ${words.convert(rest)} Paise` : ''} Only`;
}

/** "9%", "2.5%": a rate in basis points as printed. */
export function formatRate(bp: number): string {
  return `${bp / 100}%`;
}
