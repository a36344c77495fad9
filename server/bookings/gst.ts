// GST rules this product depends on: state codes, GSTIN checks and the CGST/SGST vs IGST split.
// All money is integer paise; rates are basis points (1800 = 18 %).

/** GST state and union-territory codes (the first two digits of a GSTIN). */
export const GST_STATES: Readonly<Record<string, string>> = {
  '01': 'Jammu and Kashmir',
  '02': 'Himachal Pradesh',
  '03': 'Punjab',
  '04': 'Chandigarh',
  '05': 'Uttarakhand',
  '06': 'Haryana',
  '07': 'Delhi',
  '08': 'Rajasthan',
  '09': 'Uttar Pradesh',
  '10': 'Bihar',
  '11': 'Sikkim',
  '12': 'Arunachal Pradesh',
  '13': 'Nagaland',
  '14': 'Manipur',
  '15': 'Mizoram',
  '16': 'Tripura',
  '17': 'Meghalaya',
  '18': 'Assam',
  '19': 'West Bengal',
  '20': 'Jharkhand',
  '21': 'Odisha',
  '22': 'Chhattisgarh',
  '23': 'Madhya Pradesh',
  '24': 'Gujarat',
  '26': 'Dadra and Nagar Haveli and Daman and Diu',
  '27': 'Maharashtra',
  '29': 'Karnataka',
  '30': 'Goa',
  '31': 'Lakshadweep',
  '32': 'Kerala',
  '33': 'Tamil Nadu',
  '34': 'Puducherry',
  '35': 'Andaman and Nicobar Islands',
  '36': 'Telangana',
  '37': 'Andhra Pradesh',
  '38': 'Ladakh',
  '97': 'Other Territory',
};

export function stateByCode(code: string): string | undefined {
  return Object.hasOwn(GST_STATES, code) ? GST_STATES[code] : undefined;
}

const GSTIN_SHAPE = /^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/;
const BASE36 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The 15th character of a GSTIN: a base-36 Luhn-style check over the first 14. */
export function gstinCheckCharacter(first14: string): string {
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    const product = BASE36.indexOf(first14[i]!) * (i % 2 === 0 ? 1 : 2);
    sum += Math.floor(product / 36) + (product % 36);
  }
  return BASE36[(36 - (sum % 36)) % 36]!;
}

export function isGstin(value: string): boolean {
  return (
    GSTIN_SHAPE.test(value) &&
    stateByCode(value.slice(0, 2)) !== undefined &&
    gstinCheckCharacter(value.slice(0, 14)) === value[14]
  );
}

export interface TaxAmounts {
  taxablePaise: number;
  gstRateBp: number;
  cgstPaise: number;
  sgstPaise: number;
  igstPaise: number;
  totalPaise: number;
}

/** Half-up rounding of value * bp / 10000 in integers, so no float ever touches money. */
function applyRate(paise: number, bp: number): number {
  return Math.floor((paise * bp + 5000) / 10000);
}

/**
 * Intra-state supply (customer's state = supplier's state): CGST + SGST, each half the rate.
 * Inter-state: IGST at the full rate. Each head is rounded separately, as it is printed.
 */
export function computeTax(taxablePaise: number, gstRateBp: number, intraState: boolean): TaxAmounts {
  const cgstPaise = intraState ? applyRate(taxablePaise, gstRateBp / 2) : 0;
  const sgstPaise = cgstPaise;
  const igstPaise = intraState ? 0 : applyRate(taxablePaise, gstRateBp);
  return {
    taxablePaise,
    gstRateBp,
    cgstPaise,
    sgstPaise,
    igstPaise,
    totalPaise: taxablePaise + cgstPaise + sgstPaise + igstPaise,
  };
}
