// `npm run seed`: demo data for a first look. Creates an admin, a customer and a few bookings (once),
// then prints how to log in. Never run against production data.
import { createUser, ensureAdmin, findUserByEmail } from '../auth/users.js';
import { findServiceByCode, seedCatalogue } from '../bookings/catalogue.js';
import { createBooking } from '../bookings/repository.js';
import { ConfigError, loadConfig } from '../config.js';
import { DatabaseInUseError, openDb } from '../db/connect.js';

const DEMO_ADMIN = { email: 'admin@demo.test', password: 'demo-admin-password' };
const DEMO_CUSTOMER = { email: 'customer@demo.test', password: 'demo-customer-password', name: 'Priya Sharma' };
/** A business customer in Maharashtra: inter-state, so its invoices carry IGST. */
const SHARMA_TEXTILES = {
  name: 'Sharma Textiles',
  address: '5 Linking Road',
  city: 'Mumbai',
  state: '27',
  pincode: '400050',
  gstin: '27AAPFU0939F1ZV',
} as const;

const DEMO_BOOKINGS = [
  {
    service: 'itr-filing',
    days: 3,
    status: 'confirmed',
    billing: { name: 'Priya Sharma', address: '22 Lavelle Road', city: 'Bengaluru', state: '29', pincode: '560001' },
  },
  {
    service: 'gst-returns-monthly',
    days: 10,
    status: 'pending',
    billing: SHARMA_TEXTILES,
  },
  {
    service: 'tax-audit',
    days: -20,
    status: 'completed',
    billing: SHARMA_TEXTILES,
  },
] as const;

try {
  const config = loadConfig();
  if (config.env === 'production') throw new ConfigError('refusing to seed demo data with NODE_ENV=production');
  const db = await openDb(config);
  try {
    await seedCatalogue(db);
    const admin = config.admin ?? DEMO_ADMIN;
    await ensureAdmin(db, admin);
    let customer = await findUserByEmail(db, DEMO_CUSTOMER.email);
    if (!customer) {
      customer = (await createUser(db, DEMO_CUSTOMER))!;
      for (const b of DEMO_BOOKINGS) {
        await createBooking(db, {
          userId: customer.id,
          service: (await findServiceByCode(db, b.service))!,
          scheduledAt: new Date(Date.now() + b.days * 86_400_000).toISOString(),
          billing: b.billing,
          supplierState: config.supplier.state,
          status: b.status,
        });
      }
    }
    console.log(`booking-core demo data is ready (${config.database.kind}).
  admin:    ${admin.email} / ${config.admin ? '(ADMIN_PASSWORD)' : admin.password}
  customer: ${DEMO_CUSTOMER.email} / ${DEMO_CUSTOMER.password}
Log in with: curl -s -X POST http://localhost:${config.port}/api/auth/login -H 'Content-Type: application/json' \\
  -d '{"email":"${DEMO_CUSTOMER.email}","password":"${DEMO_CUSTOMER.password}"}'`);
  } finally {
    await db.destroy();
  }
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof DatabaseInUseError ? `booking-core: ${err.message}` : err);
  process.exitCode = 1;
}
