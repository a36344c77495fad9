// The services the practice sells. Seeded at start-up when missing; prices in paise, GST in basis points.
import type { ServiceView } from './views.js';
import type { Db } from '../db/connect.js';

export interface ServiceRow {
  id: number;
  code: string;
  name: string;
  description: string;
  sac: string;
  price_paise: number;
  gst_rate_bp: number;
  active: boolean | number;
}

// SAC 998231: financial auditing services; 998232: accounting and bookkeeping;
// 998221: tax consulting for businesses; 998222: tax preparation and review.
const CATALOGUE = [
  {
    code: 'itr-filing',
    name: 'Income tax return filing',
    description: 'Preparation and e-filing of an individual ITR',
    sac: '998222',
    price_paise: 249_900,
    gst_rate_bp: 1800,
  },
  {
    code: 'gst-registration',
    name: 'GST registration',
    description: 'Application for a new GSTIN with document review',
    sac: '998221',
    price_paise: 349_900,
    gst_rate_bp: 1800,
  },
  {
    code: 'gst-returns-monthly',
    name: 'GST returns (monthly)',
    description: 'GSTR-1 and GSTR-3B for one month',
    sac: '998232',
    price_paise: 199_900,
    gst_rate_bp: 1800,
  },
  {
    code: 'bookkeeping-monthly',
    name: 'Bookkeeping (monthly)',
    description: 'Ledger maintenance for up to 200 transactions',
    sac: '998232',
    price_paise: 499_900,
    gst_rate_bp: 1800,
  },
  {
    code: 'tax-audit',
    name: 'Tax audit (section 44AB)',
    description: 'Tax audit and Form 3CD report',
    sac: '998231',
    price_paise: 2_499_900,
    gst_rate_bp: 1800,
  },
  {
    code: 'consultation-hour',
    name: 'Tax consultation (1 hour)',
    description: 'One hour with a chartered accountant',
    sac: '998221',
    price_paise: 150_000,
    gst_rate_bp: 1800,
  },
] as const;

export async function seedCatalogue(db: Db): Promise<void> {
  const present = new Set((await db('services').select('code')).map((r: { code: string }) => r.code));
  const missing = CATALOGUE.filter((s) => !present.has(s.code)).map((s) => ({ ...s, active: true }));
  if (missing.length) await db('services').insert(missing).onConflict('code').ignore();
}

export const listServices = (db: Db) => db<ServiceRow>('services').where({ active: true }).orderBy('id');

export const findServiceByCode = (db: Db, code: string) =>
  db<ServiceRow>('services').where({ code, active: true }).first();

export const publicService = (s: ServiceRow): ServiceView => ({
  code: s.code,
  name: s.name,
  description: s.description,
  sac: s.sac,
  pricePaise: Number(s.price_paise),
  gstRateBp: s.gst_rate_bp,
});
