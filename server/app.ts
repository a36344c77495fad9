// Assembles the Express app from explicit dependencies: no globals, so tests build as many as they like.
import express from 'express';
import helmet from 'helmet';
import { authRoutes } from './auth/routes.js';
import { adminBookingRoutes, bookingRoutes, catalogueRoutes } from './bookings/routes.js';
import { errorHandler, unknownRoute } from './http/errors.js';
import { bodyIdleTimeout } from './http/body-timeout.js';
import { requestLogging } from './http/logging.js';
import { healthRoutes, metricsRoute } from './health/routes.js';
import { adminInvoiceRoutes } from './invoices/admin-routes.js';
import { exportJobRoutes } from './exports/routes.js';
import { contractRoutes } from './openapi/routes.js';
import { invoiceRoutes } from './invoices/routes.js';
import type { Runtime } from './runtime.js';
import { UrlSigner } from './files/signed-urls.js';
import { UploadAccess } from './uploads/access.js';
import { UploadQuota } from './uploads/quota.js';
import { uploadRoutes } from './uploads/routes.js';

export function createApp(rt: Runtime): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', rt.config.trustProxy);
  app.set('etag', false); // JSON is not cached; files and invoices set their own strong ETags.

  app.use(requestLogging(rt.logger));
  app.use(rt.metrics.timing);
  app.use(helmet({ crossOriginResourcePolicy: { policy: 'same-site' } }));
  app.use(bodyIdleTimeout(rt.config.bodyIdleTimeoutMs));

  // What the routers are built from: the runtime, plus the guard that refuses heavy work (uploads,
  // invoices, exports) under memory pressure. Each router's Deps names the parts it uses.
  const deps = {
    ...rt,
    heavyGuard: rt.memoryGuard.heavyRoutes,
    access: new UploadAccess(
      rt.config.uploads.access,
      rt.tokens,
      new UrlSigner(rt.config.auth.jwtSecret, rt.config.uploads.signedUrlTtlSeconds),
    ),
    quota: new UploadQuota(rt.db, rt.config.uploads.quotaBytes, rt.config.uploads.atOnce),
  };
  // First: uploaded images are the most frequent requests (the web app embeds them), and each
  // router passed on the way costs a path match.
  app.use(
    '/api/uploads',
    uploadRoutes({ ...deps, onUploadBytes: (kind, n) => rt.metrics.uploadBytes.inc({ kind }, n) }),
  );
  app.use('/api/health', healthRoutes(rt));
  app.get('/metrics', metricsRoute(rt));
  // JSON bodies are for the routes below; file reads, uploads and health checks never pay for the parser.
  app.use(express.json({ limit: rt.config.bodyLimit }));
  app.use('/api/auth', authRoutes(rt));
  app.use('/api/services', catalogueRoutes(rt));
  const invoices = invoiceRoutes(deps);
  app.use('/api/bookings', invoices.customer, bookingRoutes(rt));
  app.use('/api/admin/bookings', invoices.admin, adminBookingRoutes(rt));
  app.use('/api/admin/invoices', adminInvoiceRoutes(deps));
  app.use('/api/admin/exports', exportJobRoutes(rt));
  app.use('/api', contractRoutes(rt.config));

  app.use(unknownRoute);
  app.use(errorHandler(rt.logger));
  return app;
}
