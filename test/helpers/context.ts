// Builds the real app over a real database in a temp data folder, the same way server/index.ts does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { pino, type Logger } from 'pino';
import request from 'supertest';
import { createApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/http/logging.js';
import { startRuntime, type Runtime, type RuntimeOverrides } from '../../server/runtime.js';
import { freshMysqlDatabase, type DbKind } from './databases.js';
import { checkedApp } from './contract.js';

/** An app under supertest, or the URL of a running server. */
export type App = Express | string;

export const ADMIN = { email: 'admin@example.test', password: 'admin-password-1' };

export interface TestContext {
  kind: DbKind;
  rt: Runtime;
  app: Express;
  dataDir: string;
  close(): Promise<void>;
}

export function testEnv(dataDir: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    // Suites register many customers from one address; the limit itself has its own test.
    REGISTER_RATE_LIMIT: '100000',
    ...env,
  };
}

/** A logger whose lines are kept, for tests of what the log says. */
export function capturedLogger(level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

export async function startContext(
  kind: DbKind = 'sqlite',
  env: Record<string, string> = {},
  overrides: RuntimeOverrides & { logger?: Logger } = {},
): Promise<TestContext> {
  const dataDir = mkdtempSync(join(tmpdir(), 'booking-core-test-'));
  const mysql = kind === 'mysql' ? await freshMysqlDatabase() : undefined;
  const config = loadConfig(testEnv(dataDir, { ...(mysql ? { DATABASE_URL: mysql.url } : {}), ...env }));
  const rt = await startRuntime(config, overrides.logger ?? createLogger(config.logLevel), overrides);
  return {
    kind,
    rt,
    app: checkedApp(createApp(rt)),
    dataDir,
    async close() {
      await rt.close();
      await mysql?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with a context of its own and closes it whatever happens. */
export async function withContext<T>(env: Record<string, string>, fn: (ctx: TestContext) => Promise<T>): Promise<T> {
  const ctx = await startContext('sqlite', env);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

let counter = 0;
/** Registers a fresh customer and returns its bearer header value. */
export async function registerCustomer(
  app: App,
  name = 'Test Customer',
): Promise<{ auth: string; id: number; email: string }> {
  const email = `customer${++counter}-${Date.now()}@example.test`;
  const res = await request(app)
    .post('/api/auth/register')
    .send({ email, password: 'customer-pass-1', name })
    .expect(201);
  return { auth: `Bearer ${res.body.token}`, id: res.body.user.id, email };
}

export async function loginAdmin(app: App): Promise<string> {
  const res = await request(app).post('/api/auth/login').send(ADMIN).expect(200);
  return `Bearer ${res.body.token}`;
}

/** A valid booking body; the billing state decides intra-state (29, the default supplier's) or inter-state. */
export function bookingBody(
  overrides: { state?: string; gstin?: string | null; name?: string; scheduledAt?: string } = {},
) {
  return {
    serviceCode: 'gst-returns-monthly',
    scheduledAt: overrides.scheduledAt ?? new Date(Date.now() + 7 * 86_400_000).toISOString(),
    notes: "Please bring last month's sales register",
    billing: {
      name: overrides.name ?? 'Sharma Traders',
      address: '14 Residency Road',
      city: 'Bengaluru',
      state: overrides.state ?? '29',
      pincode: '560025',
      gstin: overrides.gstin === undefined ? null : overrides.gstin,
    },
  };
}

export async function createBooking(app: App, auth: string, overrides: Parameters<typeof bookingBody>[0] = {}) {
  const res = await request(app)
    .post('/api/bookings')
    .set('Authorization', auth)
    .send(bookingBody(overrides))
    .expect(201);
  return res.body as { id: number; amounts: Record<string, number>; [k: string]: unknown };
}

const adminTokens = new Map<App, Promise<string>>();

/** The admin confirms the booking (a tax invoice is issued for confirmed bookings only). */
export async function confirmBooking(app: App, id: number): Promise<void> {
  if (!adminTokens.has(app)) adminTokens.set(app, loginAdmin(app));
  await request(app)
    .patch(`/api/admin/bookings/${id}`)
    .set('Authorization', await adminTokens.get(app)!)
    .send({ status: 'confirmed' })
    .expect(200);
}

/** A booking as createBooking makes it, then confirmed by the admin. */
export async function createConfirmedBooking(
  app: App,
  auth: string,
  overrides: Parameters<typeof bookingBody>[0] = {},
): ReturnType<typeof createBooking> {
  const booking = await createBooking(app, auth, overrides);
  await confirmBooking(app, booking.id);
  return { ...booking, status: 'confirmed' };
}
