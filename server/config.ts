// Every setting booking-core reads from the environment, validated once at start-up.
// Nothing else in the code base reads process.env: modules receive the typed Config.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';
import { isGstin, stateByCode } from './bookings/gst.js';

const MiB = 1024 * 1024;
/** Run from server/ (tsx) or compiled to dist/server/: the project's root either way. */
const PROJECT_ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const percent = int(1, 100);

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: int(0, 65535).default(8002),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRUST_PROXY: z
      .string()
      .default('loopback')
      .transform((value, ctx) => {
        const trust = parseTrustProxy(value);
        if (trust === undefined)
          ctx.addIssue({
            code: 'custom',
            message: 'must be a hop count (1), true, false, or addresses/subnets (loopback, 10.0.0.0/8, ...)',
          });
        return trust ?? false;
      }),
    DATA_DIR: z.string().default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^(mysql:\/\/|sqlite:)/, 'must start with mysql:// or sqlite:')
      .optional(),
    DB_POOL_MIN: int(0, 100).default(2),
    DB_POOL_MAX: int(1, 100).default(4),
    DB_ACQUIRE_TIMEOUT_MS: int(100).default(3_000),
    DB_QUERY_TIMEOUT_MS: int(100).default(5_000),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'like 100kb')
      .default('100kb'),
    REQUEST_TIMEOUT_MS: int(1000).default(15 * 60_000),
    BODY_IDLE_TIMEOUT_MS: int(100).default(30_000),
    SHUTDOWN_TIMEOUT_MS: int(0).default(25_000),
    SERVER_NICE: int(-20, 0).default(0),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_TTL: z
      .string()
      .regex(/^\d+[smhd]$/, 'like 30m, 12h or 7d')
      .default('12h'),
    LOGIN_RATE_LIMIT: int(1).default(20),
    LOGIN_RATE_WINDOW_MS: int(1000).default(15 * 60_000),
    REGISTER_RATE_LIMIT: int(1).default(10),
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
    SUPPLIER_NAME: z.string().min(1).default('Acme Tax Consultants LLP'),
    SUPPLIER_ADDRESS: z.string().min(1).default('4th Floor, 12 MG Road, Bengaluru 560001'),
    SUPPLIER_GSTIN: z.string().refine(isGstin, 'is not a valid GSTIN').default('29ABCDE1234F1ZW'),
    SUPPLIER_STATE: z
      .string()
      .refine((s) => stateByCode(s) !== undefined, 'must be a two-digit GST state code such as 29')
      .default('29'),
    INVOICE_PREFIX: z
      .string()
      .regex(/^[A-Z0-9-]{1,5}$/, 'must be 1-5 characters of A-Z, 0-9 or -')
      .default('INV'),
    CREDIT_NOTE_PREFIX: z
      .string()
      .regex(/^[A-Z0-9-]{1,5}$/, 'must be 1-5 characters of A-Z, 0-9 or -')
      .default('CN'),
    UPLOAD_DIR: z.string().optional(),
    UPLOAD_IMAGE_MAX_BYTES: int(1).default(20 * MiB),
    UPLOAD_VIDEO_MAX_BYTES: int(1).default(512 * MiB),
    UPLOADS_ACCESS: z.enum(['private', 'public']).default('private'),
    SIGNED_URL_TTL_S: int(10, 7 * 86_400).default(3600),
    UPLOAD_QUOTA_MB: int(1).default(2048),
    UPLOADS_AT_ONCE: int(1, 100).default(2),
    UPLOADS_MEMORY_CACHE_MB: int(0, 100_000).default(8),
    UPLOAD_GC_EVERY_MB: int(0, 100_000).default(8),
    PDF_WORKERS: int(1, 16).default(2),
    PDF_QUEUE_MAX: int(0, 10_000).default(32),
    PDF_TIMEOUT_MS: int(1).default(30_000),
    PDF_TMP_DIR: z.string().optional(),
    PDF_PAGE_RENDERS: int(1).default(500),
    PDF_BROWSER_RENDERS: int(1).default(5000),
    PDF_WORKER_IDLE_MS: int(1000).default(60_000),
    CHROME_PATH: z.string().optional(),
    PDF_LEAN_CHROMIUM: bool.default(true),
    PDF_TEMPLATES_DIR: z.string().optional(),
    PDF_RENDERING: z.enum(['web', 'worker']).default('web'),
    MEMORY_GUARD: z.enum(['on', 'off']).default('on'),
    MEMORY_LIMIT_MB: int(64).optional(),
    MEMORY_WARNING_PERCENT: percent.default(75),
    MEMORY_CRITICAL_PERCENT: percent.default(90),
    MEMORY_SAMPLE_INTERVAL_MS: int(50).default(1000),
    MEMORY_RETRY_AFTER_S: int(1).default(10),
    DISK_FREE_FLOOR_MB: int(0).default(256),
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    S3_BUCKET: z.string().min(3, 'must be a bucket name').optional(),
    S3_PREFIX: z
      .string()
      .regex(/^([\w.-]+\/)*$/, 'must be empty or end with / (like booking-core/)')
      .default(''),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_ENDPOINT: z.url().optional(),
    S3_FORCE_PATH_STYLE: bool.default(false),
    S3_TIMEOUT_MS: int(100).default(5_000),
    S3_MAX_ATTEMPTS: int(1, 10).default(3),
    S3_PART_MB: int(5, 512).default(8),
    S3_PARTS_IN_FLIGHT: int(1, 16).default(2),
    S3_ABANDONED_UPLOAD_AGE_S: int(0).default(86_400),
    ORPHAN_SWEEP_AGE_S: int(0).default(3_600),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[\w.:-]{1,64}$/, 'letters, digits and . : - _ only')
      .default('booking-core:'),
    EXPORT_CONCURRENCY: int(1, 16).default(1),
    EXPORT_RESULT_TTL_S: int(1).default(3 * 86_400),
    EXPORT_SWEEP_INTERVAL_S: int(1).default(600),
    JOB_LOCK_MS: int(1000).default(30_000),
  })
  .superRefine((env, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) issue('JWT_SECRET', 'is required when NODE_ENV=production');
    if (env.DB_POOL_MIN > env.DB_POOL_MAX) issue('DB_POOL_MIN', 'must not exceed DB_POOL_MAX');
    if (env.DATABASE_URL?.startsWith('mysql://') && env.DB_POOL_MAX < 2)
      issue('DB_POOL_MAX', 'must be at least 2 on MySQL (migrations hold one connection for their lock)');
    if (env.MEMORY_WARNING_PERCENT >= env.MEMORY_CRITICAL_PERCENT)
      issue('MEMORY_WARNING_PERCENT', 'must be below MEMORY_CRITICAL_PERCENT');
    if (env.SUPPLIER_GSTIN.slice(0, 2) !== env.SUPPLIER_STATE)
      issue('SUPPLIER_GSTIN', 'must start with SUPPLIER_STATE');
    for (const name of ['S3_ENDPOINT', 'S3_PREFIX'] as const)
      if (env[name] && !env.S3_BUCKET) issue(name, 'is set but S3_BUCKET is not (files would stay on the local disk)');
    if (env.S3_PART_MB * 10_000 * MiB < env.UPLOAD_VIDEO_MAX_BYTES)
      issue('S3_PART_MB', 'is too small for UPLOAD_VIDEO_MAX_BYTES (S3 allows 10,000 parts)');
    if (env.CREDIT_NOTE_PREFIX === env.INVOICE_PREFIX)
      issue('CREDIT_NOTE_PREFIX', 'must differ from INVOICE_PREFIX (each series is numbered on its own)');
    if (env.PDF_RENDERING === 'worker' && !env.REDIS_URL)
      issue('PDF_RENDERING', 'worker needs REDIS_URL (renders reach the worker through its queue)');
    if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD))
      issue('ADMIN_EMAIL', 'ADMIN_EMAIL and ADMIN_PASSWORD go together');
  });

export type TrustProxy = number | boolean | string[];

/**
 * TRUST_PROXY as Express means it: digits are a hop count (Heroku's router is 1), `true`/`false`
 * booleans, anything else a comma-separated list of addresses, subnets or proxy-addr's names
 * (loopback, linklocal, uniquelocal). Passing the string "1" to Express would read it as the address
 * 0.0.0.1. Undefined when the value is none of these.
 */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  const list = v.split(',').map((s) => s.trim());
  if (list.some((s) => s === '')) return undefined;
  try {
    proxyaddr.compile(list);
    return list;
  } catch {
    return undefined;
  }
}

export type Database = { kind: 'sqlite'; filename: string } | { kind: 'mysql'; url: string };

/**
 * Where durable bytes live. local: folders under DATA_DIR. s3: one bucket (AWS S3, R2, MinIO...), each
 * area under `prefix`; credentials come from the AWS SDK's own chain (AWS_ACCESS_KEY_ID...).
 */
export type StorageConfig =
  | { driver: 'local' }
  | {
      driver: 's3';
      bucket: string;
      prefix: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
      /** Per request attempt: connecting, and silence on the socket. */
      timeoutMs: number;
      maxAttempts: number;
      partBytes: number;
      /** Parts of one upload sent at once (while the next is spooled). */
      partsInFlight: number;
      /** Multipart uploads older than this at start-up are a crashed process's, and are aborted. */
      abandonedUploadAgeSeconds: number;
    };

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  logLevel: string;
  /** Express `trust proxy`: a hop count, a boolean, or the addresses and subnets of trusted proxies. */
  trustProxy: TrustProxy;
  dataDir: string;
  database: Database;
  /** MySQL: how long a request waits for a connection, and for one query, before 503 database_unavailable. */
  dbPool: { min: number; max: number; acquireTimeoutMs: number; queryTimeoutMs: number };
  bodyLimit: string;
  requestTimeoutMs: number;
  /** A request body with no byte for this long ends with 408. */
  bodyIdleTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Niceness the server takes at start-up where allowed (process-priority.ts); 0 leaves it. */
  serverNice: number;
  auth: {
    jwtSecret: string;
    jwtTtl: string;
    loginRateLimit: number;
    loginRateWindowMs: number;
    /** Registrations per client per LOGIN_RATE_WINDOW_MS. */
    registerRateLimit: number;
  };
  admin?: { email: string; password: string };
  supplier: { name: string; address: string; gstin: string; state: string };
  invoicePrefix: string;
  /** Credit notes' own series: <PREFIX>/<YY-YY>/<serial>, at most 16 characters. */
  creditNotePrefix: string;
  uploads: {
    dir: string;
    imageMaxBytes: number;
    videoMaxBytes: number;
    /**
     * private: the owner and admins read a file, with their bearer token or a signed URL;
     * public: anyone with the name, cached for good by any cache (names are never reused).
     */
    access: 'private' | 'public';
    /** How long a signed file URL works. */
    signedUrlTtlSeconds: number;
    /** Bytes a customer's uploads may take in all, and how many may run at once (admins: no limit). */
    quotaBytes: number;
    atOnce: number;
    /** Small files (up to 64 KiB each) served from memory, this many bytes in all (0: none). */
    memoryCacheBytes: number;
    /** A minor collection after this many upload bytes, freeing the dead body chunks (0: never). */
    gcEveryBytes: number;
  };
  pdf: {
    workers: number;
    queueMax: number;
    timeoutMs: number;
    tmpDir: string;
    pageRenders: number;
    browserRenders: number;
    workerIdleMs: number;
    chromePath?: string;
    /** Fewer Chromium processes (one renderer, GPU and network in the browser process). */
    leanChromium: boolean;
    /** Where invoice.hbs and invoice.css are (the project's templates/ by default). */
    templatesDir: string;
    /**
     * web: each web process renders with its own Chromium. worker: first renders go to the worker
     * processes through the queue, and web processes start no Chromium at all.
     */
    rendering: 'web' | 'worker';
  };
  memory: {
    enabled: boolean;
    limitBytes?: number;
    warningPercent: number;
    criticalPercent: number;
    sampleIntervalMs: number;
    retryAfterSeconds: number;
  };
  /** Free space kept on every file system the server writes to: below it health warns and uploads get 507. */
  diskFreeFloorBytes: number;
  metricsToken?: string;
  storage: StorageConfig;
  /** Local spool for S3 parts (temp files only: nothing durable). */
  spoolDir: string;
  /** Stored objects without a row, older than this, are removed by the start-up sweep. */
  orphanSweepAgeSeconds: number;
  /** Shared counters (rate limits) and the job queues; without it each process counts alone and runs its own jobs. */
  redisUrl?: string;
  /** Every key this app writes starts with it, so apps and environments can share one Redis. */
  redisKeyPrefix: string;
  exports: {
    /** Export jobs one process runs at once. */
    concurrency: number;
    /** A finished export's ZIP is kept this long, then removed by the sweep. */
    resultTtlSeconds: number;
    sweepIntervalSeconds: number;
    /**
     * BullMQ's job lock, renewed while a job runs: a worker that dies (SIGKILL) leaves its job to be
     * picked up by another worker within about twice this.
     */
    lockMs: number;
  };
}

export class ConfigError extends Error {}

/** Reads and validates the environment. Throws ConfigError with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    dataDir,
    database: parseDatabaseUrl(e.DATABASE_URL, dataDir),
    dbPool: {
      min: e.DB_POOL_MIN,
      max: e.DB_POOL_MAX,
      acquireTimeoutMs: e.DB_ACQUIRE_TIMEOUT_MS,
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
    },
    bodyLimit: e.BODY_LIMIT,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    bodyIdleTimeoutMs: e.BODY_IDLE_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    serverNice: e.SERVER_NICE,
    auth: {
      jwtSecret: e.JWT_SECRET ?? generatedSecret(dataDir),
      jwtTtl: e.JWT_TTL,
      loginRateLimit: e.LOGIN_RATE_LIMIT,
      loginRateWindowMs: e.LOGIN_RATE_WINDOW_MS,
      registerRateLimit: e.REGISTER_RATE_LIMIT,
    },
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : undefined,
    supplier: { name: e.SUPPLIER_NAME, address: e.SUPPLIER_ADDRESS, gstin: e.SUPPLIER_GSTIN, state: e.SUPPLIER_STATE },
    invoicePrefix: e.INVOICE_PREFIX,
    creditNotePrefix: e.CREDIT_NOTE_PREFIX,
    uploads: {
      dir: resolve(e.UPLOAD_DIR ?? join(dataDir, 'uploads')),
      imageMaxBytes: e.UPLOAD_IMAGE_MAX_BYTES,
      videoMaxBytes: e.UPLOAD_VIDEO_MAX_BYTES,
      access: e.UPLOADS_ACCESS,
      signedUrlTtlSeconds: e.SIGNED_URL_TTL_S,
      quotaBytes: e.UPLOAD_QUOTA_MB * MiB,
      atOnce: e.UPLOADS_AT_ONCE,
      memoryCacheBytes: e.UPLOADS_MEMORY_CACHE_MB * MiB,
      gcEveryBytes: e.UPLOAD_GC_EVERY_MB * MiB,
    },
    pdf: {
      workers: e.PDF_WORKERS,
      queueMax: e.PDF_QUEUE_MAX,
      timeoutMs: e.PDF_TIMEOUT_MS,
      tmpDir: resolve(e.PDF_TMP_DIR ?? join(dataDir, 'pdf-tmp')),
      pageRenders: e.PDF_PAGE_RENDERS,
      browserRenders: e.PDF_BROWSER_RENDERS,
      workerIdleMs: e.PDF_WORKER_IDLE_MS,
      chromePath: e.CHROME_PATH,
      leanChromium: e.PDF_LEAN_CHROMIUM,
      templatesDir: resolve(e.PDF_TEMPLATES_DIR ?? join(PROJECT_ROOT, 'templates')),
      rendering: e.PDF_RENDERING,
    },
    memory: {
      enabled: e.MEMORY_GUARD === 'on',
      limitBytes: e.MEMORY_LIMIT_MB ? e.MEMORY_LIMIT_MB * MiB : undefined,
      warningPercent: e.MEMORY_WARNING_PERCENT,
      criticalPercent: e.MEMORY_CRITICAL_PERCENT,
      sampleIntervalMs: e.MEMORY_SAMPLE_INTERVAL_MS,
      retryAfterSeconds: e.MEMORY_RETRY_AFTER_S,
    },
    diskFreeFloorBytes: e.DISK_FREE_FLOOR_MB * MiB,
    metricsToken: e.METRICS_TOKEN,
    storage: e.S3_BUCKET
      ? {
          driver: 's3',
          bucket: e.S3_BUCKET,
          prefix: e.S3_PREFIX,
          region: e.S3_REGION,
          endpoint: e.S3_ENDPOINT,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
          timeoutMs: e.S3_TIMEOUT_MS,
          maxAttempts: e.S3_MAX_ATTEMPTS,
          partBytes: e.S3_PART_MB * MiB,
          partsInFlight: e.S3_PARTS_IN_FLIGHT,
          abandonedUploadAgeSeconds: e.S3_ABANDONED_UPLOAD_AGE_S,
        }
      : { driver: 'local' },
    spoolDir: join(dataDir, 'spool'),
    orphanSweepAgeSeconds: e.ORPHAN_SWEEP_AGE_S,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    exports: {
      concurrency: e.EXPORT_CONCURRENCY,
      resultTtlSeconds: e.EXPORT_RESULT_TTL_S,
      sweepIntervalSeconds: e.EXPORT_SWEEP_INTERVAL_S,
      lockMs: e.JOB_LOCK_MS,
    },
  };
}

function parseDatabaseUrl(url: string | undefined, dataDir: string): Database {
  if (!url) return { kind: 'sqlite', filename: join(dataDir, 'booking-core.sqlite') };
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', filename: resolve(url.slice('sqlite:'.length)) };
  return { kind: 'mysql', url };
}

/** Outside production the JWT secret is generated once and kept in DATA_DIR, so tokens survive restarts. */
function generatedSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
